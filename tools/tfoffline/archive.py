"""Stand-in hashicorp/archive: ``archive_file`` really builds the zip and reports its hashes.

The schema follows the provider's documentation (data source and resource ``archive_file``).
Entries are written in sorted path order with a fixed timestamp, so the same inputs give the
same bytes and hashes on every run.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import os
import zipfile
from pathlib import Path
from typing import Any

from tfoffline.plugin import ProviderError
from tfoffline.values import UNKNOWN

_S = {"type": "string", "description_kind": "plain"}


def _attr(kind: str, t: Any = "string") -> dict[str, Any]:
    a: dict[str, Any] = {"type": t, "description_kind": "plain"}
    if kind == "required":
        a["required"] = True
    elif kind == "optional":
        a["optional"] = True
    else:
        a["computed"] = True
    return a


OUTPUTS = (
    "output_sha",
    "output_sha256",
    "output_base64sha256",
    "output_sha512",
    "output_base64sha512",
    "output_md5",
)

FILE_BLOCK: dict[str, Any] = {
    "attributes": {
        "id": _attr("computed"),
        "type": _attr("required"),
        "output_path": _attr("required"),
        "source_content": _attr("optional"),
        "source_content_filename": _attr("optional"),
        "source_file": _attr("optional"),
        "source_dir": _attr("optional"),
        "excludes": _attr("optional", ["set", "string"]),
        "exclude_symlink_directories": _attr("optional", "bool"),
        "output_file_mode": _attr("optional"),
        "output_size": _attr("computed", "number"),
        **{name: _attr("computed") for name in OUTPUTS},
    },
    "block_types": {
        "source": {
            "nesting_mode": "set",
            "block": {
                "attributes": {"content": _attr("required"), "filename": _attr("required")},
                "description_kind": "plain",
            },
        }
    },
    "description_kind": "plain",
}

SCHEMA: dict[str, Any] = {
    "provider": {"version": 0, "block": {"attributes": {}, "description_kind": "plain"}},
    "resource_schemas": {"archive_file": {"version": 0, "block": FILE_BLOCK}},
    "data_source_schemas": {"archive_file": {"version": 0, "block": FILE_BLOCK}},
}

# 1980-01-01, the earliest time a zip entry can hold: no dependence on file mtimes.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def _entries(config: dict[str, Any]) -> list[tuple[str, bytes, int | None]]:
    """(name in archive, content, unix mode) for every member, sorted by name.

    Members from ``source_content`` and ``source`` blocks have no mode (None): the provider
    writes them with Go's ``zip.Writer.Create``, which records no Unix mode and ignores
    ``output_file_mode`` (internal/provider/zip_archiver.go: ArchiveContent, ArchiveMultiple).
    """
    out: list[tuple[str, bytes, int | None]] = []
    if config.get("source_file"):
        p = Path(config["source_file"])
        out.append((p.name, p.read_bytes(), p.stat().st_mode & 0o777))
    elif (
        config.get("source_content_filename") is not None
        and config.get("source_content") is not None
    ):
        out.append((config["source_content_filename"], config["source_content"].encode(), None))
    elif config.get("source_dir"):
        root = Path(config["source_dir"])
        if not root.is_dir():
            raise ProviderError(f"archive_file: source_dir {root} is not a directory")
        excludes = [e.replace(os.sep, "/") for e in (config.get("excludes") or [])]
        skip_links = config.get("exclude_symlink_directories") is True
        output = Path(config["output_path"]).resolve()
        for dirpath, dirnames, filenames in os.walk(root, followlinks=not skip_links):
            dirnames.sort()
            for fname in sorted(filenames):
                full = Path(dirpath) / fname
                rel = full.relative_to(root).as_posix()
                if full.resolve() == output or any(
                    rel == e or fnmatch.fnmatchcase(rel, e) or rel.startswith(e.rstrip("/") + "/")
                    for e in excludes
                ):
                    continue
                out.append((rel, full.read_bytes(), full.stat().st_mode & 0o777))
    else:
        for src in config.get("source") or []:
            out.append((src["filename"], src["content"].encode(), None))
    return sorted(out, key=lambda e: e[0])


def build_zip(config: dict[str, Any]) -> dict[str, Any]:
    """Write the archive ``config`` describes and return the computed attributes."""
    if config.get("type") != "zip":
        raise ProviderError(
            f'archive_file: type {config.get("type")!r} is not supported (only "zip")'
        )
    mode_override = config.get("output_file_mode")
    output = Path(config["output_path"])
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data, mode in _entries(config):
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            if mode is None:  # zip.Writer.Create: MS-DOS attributes, no Unix mode
                info.create_system = 0
                info.external_attr = 0
            else:
                info.create_system = 3
                info.external_attr = (
                    (int(mode_override, 8) if mode_override else mode) | 0o100000
                ) << 16
            zf.writestr(info, data)
            if mode is None:
                # zipfile gives an entry without attributes 0600; the central directory is
                # written on close, from this object.
                info.external_attr = 0
    os.replace(tmp, output)
    data = output.read_bytes()
    sha1 = hashlib.sha1(data).hexdigest()
    return {
        "id": sha1,
        "output_size": len(data),
        "output_sha": sha1,
        "output_sha256": hashlib.sha256(data).hexdigest(),
        "output_base64sha256": base64.b64encode(hashlib.sha256(data).digest()).decode(),
        "output_sha512": hashlib.sha512(data).hexdigest(),
        "output_base64sha512": base64.b64encode(hashlib.sha512(data).digest()).decode(),
        "output_md5": hashlib.md5(data).hexdigest(),
    }


class ArchiveBehaviour:
    def schema(self) -> dict[str, Any]:
        return SCHEMA

    def configure(self, config: dict[str, Any]) -> None:
        pass

    def validate(self, kind: str, type_name: str, config: dict[str, Any]) -> list[str]:
        given = [
            name
            for name, present in (
                ("source_file", config.get("source_file") is not None),
                ("source_dir", config.get("source_dir") is not None),
                ("source_content", config.get("source_content") is not None),
                ("source", bool(config.get("source"))),
            )
            if present
        ]
        if len(given) > 1:
            return [
                "archive_file: only one of source_file, source_dir, source_content or source "
                f"may be set, got {', '.join(given)}"
            ]
        if (
            config.get("source_content") is not None
            and config.get("source_content_filename") is None
        ):
            return ["archive_file: source_content needs source_content_filename"]
        return []

    def plan(
        self, type_name: str, block: dict[str, Any], prior: Any, planned: dict[str, Any]
    ) -> dict[str, Any]:
        # A changed argument means a new archive: its hashes are known only after apply.
        computed = {"id", "output_size", *OUTPUTS}
        if prior is not None and any(
            planned.get(k) != prior.get(k) for k in planned if k not in computed
        ):
            for k in computed:
                planned[k] = UNKNOWN
        return planned

    def apply(
        self, type_name: str, block: dict[str, Any], planned: dict[str, Any], prior: Any = None
    ) -> dict[str, Any]:
        planned.update(build_zip(planned))
        return planned

    def read_data(
        self, type_name: str, block: dict[str, Any], config: dict[str, Any]
    ) -> dict[str, Any]:
        out = dict(config)
        out.update(build_zip(config))
        return out
