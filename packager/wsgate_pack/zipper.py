"""Deterministic zip files: the same members give the same bytes on every machine.

Entries are written in sorted order with a fixed timestamp and normalised Unix permissions, so
neither the umask, the file mtimes, the directory the sources live in nor the order the file
system lists them in reaches the archive. (The compressed bytes also depend on the zlib the
interpreter links; the common zlib releases agree with each other at the level used here.)
"""

from __future__ import annotations

import base64
import hashlib
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

#: 1980-01-01 00:00:00, the earliest time a zip entry can hold.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
#: Fixed deflate level (zlib's default), so the output never depends on a library default.
LEVEL = 6
#: Regular file, rw-r--r-- or rwxr-xr-x: Lambda's runtime user (not the owner of the extracted
#: files) must be able to read every file, and run the executable ones.
FILE_MODE = 0o100644
EXEC_MODE = 0o100755


@dataclass(frozen=True)
class Member:
    """One file of the archive: its name inside the zip and where its bytes come from."""

    name: str
    source: Path
    executable: bool = False

    def read(self) -> bytes:
        return self.source.read_bytes()


def normalised_mode(path: Path) -> bool:
    """Whether ``path`` is executable by its owner (the only permission bit that is kept)."""
    return bool(os.stat(path).st_mode & 0o100)


def write_zip(members: Iterable[Member], dest: Path) -> None:
    """Write ``members`` (sorted by name) to ``dest`` atomically."""
    ordered = sorted(members, key=lambda m: m.name)
    names = [m.name for m in ordered]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"two files want the same place in the package: {', '.join(dupes)}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=LEVEL) as zf:
            for m in ordered:
                info = zipfile.ZipInfo(m.name, FIXED_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3  # Unix, so external_attr carries the mode
                info.external_attr = (EXEC_MODE if m.executable else FILE_MODE) << 16
                zf.writestr(info, m.read(), compresslevel=LEVEL)
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()


def base64sha256(path: Path) -> str:
    """The hash Lambda reports as CodeSha256 and Terraform's ``source_code_hash`` expects."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return base64.b64encode(digest.digest()).decode()
