"""Third-party dependencies for the Lambda's platform, installed with pip and no Docker.

pip can install for another platform than the one it runs on: ``--platform`` names the wheel
tags the target accepts, ``--implementation cp`` and ``--python-version`` the interpreter, and
``--only-binary=:all:`` forbids building anything locally (which would build for this machine).
AWS documents the same recipe for Python functions with native dependencies:
https://docs.aws.amazon.com/lambda/latest/dg/python-package.html ("--platform
manylinux2014_x86_64 ... --only-binary=:all:").

Installs are cached under ``<build dir>/deps/<key>/``, the key being a hash of the requirements
(with every file they include) and of the target, so an unchanged app never reinstalls.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from wsgate_pack.errors import BuildError

#: glibc of each Lambda Python runtime's OS. python3.12 and newer run on Amazon Linux 2023
#: (glibc 2.34); python3.9-3.11 on Amazon Linux 2 (glibc 2.26). Sources: the Lambda runtimes
#: table, https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html, and the AL2023
#: package list, https://docs.aws.amazon.com/linux/al2023/release-notes/all-packages.html.
GLIBC_MINOR = {"3.9": 26, "3.10": 26, "3.11": 26, "3.12": 34, "3.13": 34, "3.14": 34}
#: Lambda's architecture names and the machine names in wheel tags.
MACHINE = {"arm64": "aarch64", "x86_64": "x86_64"}
#: Bump when the install layout changes, so old cache entries are not reused.
CACHE_FORMAT = "1"
#: What pip writes that Lambda never uses and that differs between machines: console scripts
#: carry the building interpreter's path in their first line.
DROPPED_TOP_LEVEL = {"bin", "__pycache__"}


def python_version(runtime: str) -> str:
    """``python3.12`` -> ``3.12``."""
    m = re.fullmatch(r"python(3\.\d+)", runtime)
    if not m or m.group(1) not in GLIBC_MINOR:
        known = ", ".join(f"python{v}" for v in GLIBC_MINOR)
        raise BuildError(f"runtime {runtime!r} is not a Python runtime wsgate packages ({known})")
    return m.group(1)


def platform_tags(runtime: str, architecture: str) -> list[str]:
    """Wheel platform tags the runtime's OS loads, most specific first (pip prefers earlier)."""
    if architecture not in MACHINE:
        raise BuildError(f"architecture {architecture!r} must be arm64 or x86_64")
    machine = MACHINE[architecture]
    newest = GLIBC_MINOR[python_version(runtime)]
    tags = [f"manylinux_2_{minor}_{machine}" for minor in range(newest, 16, -1)]
    # The legacy aliases (PEP 599/571/513) that older wheels are tagged with.
    tags.append(f"manylinux2014_{machine}")
    if machine == "x86_64":
        tags += ["manylinux2010_x86_64", "manylinux1_x86_64"]
    return tags


def describe_target(runtime: str, architecture: str) -> str:
    """``Lambda arm64 (python3.12: CPython 3.12, manylinux aarch64 up to glibc 2.34)``."""
    version = python_version(runtime)
    return (
        f"Lambda {architecture} ({runtime}: CPython {version}, manylinux "
        f"{MACHINE[architecture]} up to glibc 2.{GLIBC_MINOR[version]})"
    )


def _included_files(requirements: Path, seen: set[Path]) -> list[Path]:
    """The requirements file and every ``-r``/``-c`` file it includes, recursively."""
    path = requirements.resolve()
    if path in seen:
        return []
    seen.add(path)
    out = [path]
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\s*(?:-r|-c|--requirement|--constraint)[\s=]+(\S+)", line)
        if m:
            out += _included_files(path.parent / m.group(1), seen)
    return out


def cache_key(requirements: Path, runtime: str, architecture: str) -> str:
    h = hashlib.sha256()
    for f in _included_files(requirements, set()):
        h.update(hashlib.sha256(f.read_bytes()).digest())
    h.update(json.dumps([CACHE_FORMAT, runtime, platform_tags(runtime, architecture)]).encode())
    return h.hexdigest()[:32]


def pip_command(
    python: str, target: Path, requirements: Path, runtime: str, arch: str
) -> list[str]:
    cmd = [
        python,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--no-compile",  # .pyc files come from the runtime's own interpreter, or not at all
        "--target",
        str(target),
        "--implementation",
        "cp",
        "--python-version",
        python_version(runtime),
        "--only-binary=:all:",
    ]
    for tag in platform_tags(runtime, arch):
        cmd += ["--platform", tag]
    return [*cmd, "-r", str(requirements.resolve())]


def _missing_wheel(stderr: str) -> str | None:
    m = re.search(r"No matching distribution found for (\S+)", stderr)
    return m.group(1) if m else None


def install(
    requirements: Path,
    runtime: str,
    architecture: str,
    cache_dir: Path,
    *,
    python: str | None = None,
) -> Path:
    """The directory holding the requirements installed for the target; cached by content."""
    if not requirements.is_file():
        raise BuildError(f"requirements file {requirements} does not exist")
    python = python or sys.executable
    key = cache_key(requirements, runtime, architecture)
    dest = cache_dir / f"{architecture}-{python_version(runtime)}-{key}"
    if (dest / ".complete").is_file():
        return dest
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".install-", dir=cache_dir))
    try:
        cmd = pip_command(python, (tmp / "site").resolve(), requirements, runtime, architecture)
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=requirements.parent)
        if proc.returncode != 0:
            raise BuildError(_pip_failure(proc, requirements, runtime, architecture, python))
        site = tmp / "site"
        site.mkdir(exist_ok=True)
        for name in DROPPED_TOP_LEVEL:
            shutil.rmtree(site / name, ignore_errors=True)
        (site / ".complete").write_text(" ".join(cmd[1:]) + "\n")
        try:
            os.rename(site, dest)
        except OSError:
            if not (dest / ".complete").is_file():  # not a concurrent build that won the race
                raise
        return dest
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _pip_failure(
    proc: subprocess.CompletedProcess[str],
    requirements: Path,
    runtime: str,
    architecture: str,
    python: str,
) -> str:
    err = proc.stderr
    if re.search(r"No module named pip\b", err):
        return (
            f"{python} has no pip, which installs {requirements.name}: install it "
            f"(`{python} -m ensurepip` or your OS's python3-pip package), or set "
            "requirements_file = null if the function needs no third-party packages"
        )
    package = _missing_wheel(err)
    lines = [ln for ln in err.splitlines() if ln.startswith("ERROR")]
    if package:
        return (
            f"no wheel of {package} fits {describe_target(runtime, architecture)}: "
            "wsgate installs binary wheels only, because a package compiled on this machine "
            "would not run on Lambda. Pick a version of the package that publishes a "
            "manylinux wheel for this architecture and Python version (see its files on "
            "PyPI), or a pure-Python alternative. pip said: " + " ".join(lines)
        )
    tail = "\n".join(lines or err.strip().splitlines()[-8:])
    return f"pip could not install {requirements} for {architecture}:\n{tail}"
