"""The same requirements, installed for this machine, for ``wsgate local``.

Deployed handlers import their dependencies from the package; local ones should import the
same versions and nothing the package lacks. :func:`host_site` installs the requirements the
build would use into a cache directory keyed like the Lambda install (content hash of the
requirements, plus this interpreter), binary wheels only as for Lambda, and returns it so the
local workers can put it first on ``sys.path``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from wsgate_pack.build import DEFAULT_REQUIREMENTS
from wsgate_pack.deps import _included_files
from wsgate_pack.errors import BuildError


def _requirements(source_dir: Path, requirements_file: str | None) -> Path | None:
    if requirements_file is None:
        return None
    path = Path(requirements_file)
    if not path.is_absolute():
        path = source_dir / path
    if path.is_file():
        return path
    if requirements_file == DEFAULT_REQUIREMENTS:
        return None
    raise BuildError(f"requirements_file {requirements_file!r} does not exist (looked for {path})")


def host_site(
    source_dir: Path,
    requirements_file: str | None = DEFAULT_REQUIREMENTS,
    cache_dir: Path | None = None,
) -> Path | None:
    """Directory with the app's requirements installed for this interpreter, or None."""
    requirements = _requirements(source_dir, requirements_file)
    if requirements is None:
        return None
    h = hashlib.sha256(f"{sys.implementation.cache_tag}\0{sys.platform}\0".encode())
    for f in _included_files(requirements, set()):
        h.update(hashlib.sha256(f.read_bytes()).digest())
    root = (
        cache_dir
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        / "wsgate"
        / "local-deps"
    )
    dest = root / h.hexdigest()[:32]
    if (dest / ".complete").is_file():
        return dest
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".install-", dir=root))
    try:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
            "--only-binary=:all:",
            "--target",
            str((tmp / "site").resolve()),
            "-r",
            str(requirements.resolve()),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=requirements.parent)
        if proc.returncode != 0:
            lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("ERROR")]
            raise BuildError(
                f"pip could not install {requirements} for this machine: "
                + (" ".join(lines) or proc.stderr.strip()[-500:])
            )
        (tmp / "site").mkdir(exist_ok=True)
        (tmp / "site" / ".complete").write_text("\n")
        try:
            os.rename(tmp / "site", dest)
        except OSError:
            if not (dest / ".complete").is_file():
                raise
        return dest
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
