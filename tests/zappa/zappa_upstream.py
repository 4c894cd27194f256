"""Zappa's own WebSocket tests, from the Zappa release on PyPI, pinned and hash-checked.

``python tests/zappa/zappa_upstream.py`` (``make zappa-suite``; the conftest does it too when the
files are missing) downloads the ``zappa==0.63.0`` sdist into ``.cache/zappa/``, checks its
SHA-256, and extracts only the test module and the small modules it imports by name into
``tests/zappa/upstream/tests/``. Nothing of Zappa is committed or edited.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
from pathlib import Path

VERSION = "0.63.0"
#: SHA-256 of zappa-0.63.0.tar.gz as published on PyPI.
SHA256 = "1ab6e245ae22bb5998b6083b5c15ccab023615b012c3c7f4c6a08a62cef37c5d"
#: The test module, then the modules it imports by name (settings modules for LambdaHandler,
#: the app module they name, and the handler module the auto-import tests load).
FILES = (
    "tests/test_websocket.py",
    "tests/test_websocket_settings.py",
    "tests/test_websocket_autoimport_settings.py",
    "tests/test_websocket_app.py",
    "tests/test_ws_handlers_fixture.py",
)

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "zappa"
#: Where the files land: ``upstream/`` goes on sys.path so ``tests.test_websocket_settings``
#: imports as Zappa's tests expect.
UPSTREAM = Path(__file__).resolve().parent / "upstream"
_STAMP = UPSTREAM / ".sha256"


def sdist_path() -> Path:
    return CACHE / f"zappa-{VERSION}.tar.gz"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def download() -> Path:
    """The verified sdist, downloaded with pip if it is not cached yet."""
    sdist = sdist_path()
    if not sdist.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
        command += ["--no-binary", ":all:", "--dest", str(CACHE), f"zappa=={VERSION}"]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0 or not sdist.exists():
            raise RuntimeError(
                f"could not download zappa=={VERSION} from PyPI (needed for Zappa's own tests):\n"
                f"{done.stderr.strip()}"
            )
    digest = _sha256(sdist)
    if digest != SHA256:
        sdist.unlink()
        raise RuntimeError(
            f"{sdist.name} has SHA-256 {digest}, expected {SHA256}; the file was deleted, "
            "run again to download it afresh"
        )
    return sdist


def ensure() -> Path:
    """Extract the test files (once per pinned hash); returns the directory to put on sys.path."""
    stamped = _STAMP.exists() and _STAMP.read_text().strip() == SHA256
    if stamped and all((UPSTREAM / name).exists() for name in FILES):
        return UPSTREAM
    sdist = download()
    prefix = f"zappa-{VERSION}/"
    with tarfile.open(sdist) as archive:
        for name in FILES:
            member = archive.getmember(prefix + name)
            source = archive.extractfile(member)
            if source is None:
                raise RuntimeError(f"{name} is not a regular file in {sdist.name}")
            target = UPSTREAM / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read())
    _STAMP.write_text(SHA256 + "\n")
    return UPSTREAM


if __name__ == "__main__":
    print(f"Zappa {VERSION}'s WebSocket tests in {ensure().relative_to(ROOT)}")
