"""The package builder on its own: platform tags, reproducible zips, errors that name the fix."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from wsgate_pack import BuildError, Request, build
from wsgate_pack import deps as deps_mod

REPO_ROOT = Path(__file__).resolve().parents[2]
RUNTIME = REPO_ROOT / "lambda" / "wsgate"
BUILD_PY = REPO_ROOT / "packager" / "build.py"
EXCLUDES = [r"(^|/)\.", r"(^|/)__pycache__/", r"\.py[co]$", r"(^|/)tests?/"]


def _request(src: Path, out: Path, runtime_dir: Path = RUNTIME, **kw) -> Request:
    kw.setdefault("requirements_file", None)
    kw.setdefault("compile_bytecode", "false")
    return Request(
        name="app",
        runtime_dir=runtime_dir,
        source_dir=src,
        output_dir=str(out),
        excludes=EXCLUDES,
        **kw,
    )


def _tree(root: Path, files: dict[str, bytes], umask: int, mtime: float) -> None:
    old = os.umask(umask)
    try:
        for rel, data in files.items():
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
    finally:
        os.umask(old)
    for p in root.rglob("*"):
        os.utime(p, (mtime, mtime))


def test_platform_tags_follow_the_runtime_os_and_architecture():
    arm = deps_mod.platform_tags("python3.12", "arm64")
    assert arm[0] == "manylinux_2_34_aarch64"  # Amazon Linux 2023
    assert "manylinux2014_aarch64" in arm and "manylinux_2_17_aarch64" in arm
    assert not [t for t in arm if "x86_64" in t]
    x86 = deps_mod.platform_tags("python3.11", "x86_64")
    assert x86[0] == "manylinux_2_26_x86_64"  # Amazon Linux 2
    assert x86[-3:] == ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]
    cmd = deps_mod.pip_command("py", Path("/t"), Path("r.txt"), "python3.13", "arm64")
    assert cmd[cmd.index("--python-version") + 1] == "3.13"
    assert "--only-binary=:all:" in cmd and "--no-compile" in cmd
    assert cmd[cmd.index("--implementation") + 1] == "cp"


def test_unknown_runtime_or_architecture_is_a_clear_error():
    with pytest.raises(BuildError, match="not a Python runtime"):
        deps_mod.platform_tags("nodejs20.x", "arm64")
    with pytest.raises(BuildError, match="must be arm64 or x86_64"):
        deps_mod.platform_tags("python3.12", "arm")


def test_cache_key_covers_included_requirement_files(tmp_path):
    (tmp_path / "base.txt").write_text("PyJWT==2.15.1\n")
    (tmp_path / "requirements.txt").write_text("-r base.txt\n")
    key = deps_mod.cache_key(tmp_path / "requirements.txt", "python3.12", "arm64")
    assert key != deps_mod.cache_key(tmp_path / "requirements.txt", "python3.12", "x86_64")
    (tmp_path / "base.txt").write_text("PyJWT==2.15.0\n")
    assert key != deps_mod.cache_key(tmp_path / "requirements.txt", "python3.12", "arm64")


def test_same_inputs_in_different_places_give_identical_zips(tmp_path):
    files = {"app.py": b"import wsgate\n", "img/a.png": bytes(range(256)), "b/c.txt": b"c"}
    for name, umask, mtime in (("one", 0o022, 1e9), ("two", 0o077, 1.7e9)):
        _tree(tmp_path / name / "src", files, umask, mtime)
        # the runtime too, copied with other mtimes
        shutil.copytree(RUNTIME, tmp_path / name / "wsgate")
        for p in (tmp_path / name / "wsgate").rglob("*"):
            os.utime(p, (mtime, mtime))
    a = build(_request(tmp_path / "one/src", tmp_path / "one/out", tmp_path / "one/wsgate"))
    b = build(_request(tmp_path / "two/src", tmp_path / "two/out", tmp_path / "two/wsgate"))
    assert a["base64sha256"] == b["base64sha256"]
    za = (tmp_path / "one/out" / Path(a["filename"]).name).read_bytes()
    zb = (tmp_path / "two/out" / Path(b["filename"]).name).read_bytes()
    assert za == zb
    # the second build of unchanged inputs reuses the zip
    assert build(_request(tmp_path / "one/src", tmp_path / "one/out", tmp_path / "one/wsgate")) == a


def test_a_wsgate_directory_in_source_dir_is_refused(tmp_path):
    _tree(tmp_path / "src", {"app.py": b"", "wsgate/app.py": b""}, 0o022, 1e9)
    with pytest.raises(BuildError, match="must not have a wsgate/ directory"):
        build(_request(tmp_path / "src", tmp_path / "out"))


def test_a_source_file_that_does_not_compile_fails_with_its_name(tmp_path):
    _tree(tmp_path / "src", {"app.py": b"def broken(:\n"}, 0o022, 1e9)
    this_python = "python{}.{}".format(*sys.version_info[:2])
    request = _request(
        tmp_path / "src", tmp_path / "out", compile_bytecode="true", runtime=this_python
    )
    with pytest.raises(BuildError, match=r"app\.py does not compile with Python"):
        build(request)


def test_external_protocol_reports_errors_on_stderr_with_a_nonzero_exit(tmp_path):
    bad = subprocess.run(
        [sys.executable, str(BUILD_PY)], input="[1]", capture_output=True, text=True
    )
    assert bad.returncode == 1 and "must be a JSON object" in bad.stderr
    _tree(tmp_path / "src", {"app.py": b"x = 1\n"}, 0o022, 1e9)
    query = {
        "name": "app",
        "runtime_dir": str(RUNTIME),
        "source_dir": str(tmp_path / "src"),
        "output_dir": str(tmp_path / "out"),
        "compile_bytecode": "false",
        "excludes": json.dumps(EXCLUDES),
    }
    ok = subprocess.run(
        [sys.executable, str(BUILD_PY)], input=json.dumps(query), capture_output=True, text=True
    )
    result = json.loads(ok.stdout)
    assert ok.returncode == 0 and all(isinstance(v, str) for v in result.values())
    with zipfile.ZipFile(result["filename"]) as zf:
        assert "app.py" in zf.namelist() and "wsgate/__init__.py" in zf.namelist()
    env = {**os.environ, "WSGATE_PACKAGE_QUERY": json.dumps(query)}
    (tmp_path / "src" / "app.py").write_bytes(b"x = 2\n")
    stale = subprocess.run(
        [sys.executable, str(BUILD_PY), "--ensure", result["base64sha256"]],
        env=env,
        capture_output=True,
        text=True,
    )
    assert stale.returncode == 1 and "is not the one the plan was made with" in stale.stderr


def test_old_zips_of_a_package_are_pruned_but_other_packages_kept(tmp_path):
    _tree(tmp_path / "src", {"app.py": b"v = 0\n"}, 0o022, 1e9)
    out = tmp_path / "out"
    out.mkdir()
    (out / "app-wsgate-layer-0123456789abcdef.zip").write_bytes(b"another package")
    built = []
    for v in range(5):
        (tmp_path / "src" / "app.py").write_bytes(f"v = {v}\n".encode())
        built.append(Path(build(_request(tmp_path / "src", out))["filename"]).name)
    left = sorted(p.name for p in out.glob("app-*.zip"))
    assert built[-1] in left and built[0] not in left
    assert len([n for n in left if n in built]) == 3  # the current one and two before it
    assert "app-wsgate-layer-0123456789abcdef.zip" in left
