"""The archive stand-in really builds the zip Terraform reports hashes for."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path
from typing import Any

import pytest
from tfoffline import Terraform

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def applied(valid_applied: tuple[Terraform, dict[str, Any]]) -> tuple[Terraform, dict[str, Any]]:
    return valid_applied


def _zip_path(tf: Terraform, reported: str) -> Path:
    path = Path(reported)
    return path if path.is_absolute() else tf.workdir / path


def test_source_dir_archive_holds_the_files_minus_excludes(
    applied: tuple[Terraform, dict[str, Any]],
) -> None:
    tf, out = applied
    with zipfile.ZipFile(_zip_path(tf, out["handler_zip"]["path"])) as zf:
        assert sorted(zf.namelist()) == ["app.py", "pkg/__init__.py", "pkg/util.py"]
        assert zf.read("app.py") == (FIXTURES / "valid" / "src" / "app.py").read_bytes()
        # output_file_mode overrides the files' own modes.
        assert {(i.external_attr >> 16) & 0o777 for i in zf.infolist()} == {0o666}


def test_reported_hashes_match_the_written_zip(applied: tuple[Terraform, dict[str, Any]]) -> None:
    tf, out = applied
    z = out["handler_zip"]
    data = _zip_path(tf, z["path"]).read_bytes()
    assert z["base64sha256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert z["sha256"] == hashlib.sha256(data).hexdigest()
    assert z["md5"] == hashlib.md5(data).hexdigest()
    assert z["sha"] == hashlib.sha1(data).hexdigest()
    assert z["size"] == len(data)


def test_dynamic_source_blocks_become_members(applied: tuple[Terraform, dict[str, Any]]) -> None:
    tf, out = applied
    path = _zip_path(tf, out["inline_zip"]["path"])
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["VERSION", "config.json"]
        assert zf.read("config.json") == b'{"stage": "dev"}'
        # Like the provider (Go's zip.Writer.Create): no Unix mode, output_file_mode ignored.
        assert {(i.create_system, i.external_attr) for i in zf.infolist()} == {(0, 0)}
    assert out["inline_zip"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_archive_is_written_in_the_working_copy_not_the_source_tree(
    applied: tuple[Terraform, dict[str, Any]],
) -> None:
    tf, out = applied
    assert (
        _zip_path(tf, out["handler_zip"]["path"]).resolve().is_relative_to(tf.copy_root.resolve())
    )
    assert not (FIXTURES / "valid" / "build").exists()


def test_changed_sources_rebuild_the_archive_resource(fixture_config: Any) -> None:
    tf = fixture_config("valid")
    first = tf.apply()["inline_zip"]
    second = tf.apply(variables={"extra_files": {"VERSION": "2.0.0"}})["inline_zip"]
    path = _zip_path(tf, second["path"])
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist() == ["VERSION"]
        assert zf.read("VERSION") == b"2.0.0"
    assert second["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() != first["sha256"]


def test_source_file_and_source_content_archives(applied: tuple[Terraform, dict[str, Any]]) -> None:
    tf, out = applied
    with zipfile.ZipFile(_zip_path(tf, out["other_zips"]["single"])) as zf:
        assert zf.namelist() == ["util.py"]
        assert zf.read("util.py") == (FIXTURES / "valid" / "src" / "pkg" / "util.py").read_bytes()
    with zipfile.ZipFile(_zip_path(tf, out["other_zips"]["content"])) as zf:
        assert zf.namelist() == ["routes.json"]
        assert zf.read("routes.json") == b'{"routes":["$default"]}'
