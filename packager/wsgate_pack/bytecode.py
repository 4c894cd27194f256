"""``.pyc`` files for the package, compiled by an interpreter of the runtime's Python version.

Lambda extracts the package to ``/var/task``, which is read-only, so without ``.pyc`` files in
the zip every cold start compiles every module it imports. A ``.pyc`` is only loaded by the
Python version that wrote it (its magic number), so the files are written only when an
interpreter of exactly the runtime's version is available where the build runs: this one, or
``python3.X`` on PATH.

Each file is written in "unchecked hash" mode (PEP 552): it records a hash of its source rather
than the source's mtime, so the bytes do not depend on when the files were checked out, and the
importer trusts it without reading the source again. Its recorded path is
``/var/task/<path in the zip>`` (``/opt/python/...`` in a layer), where Lambda will have it,
never this machine's path.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

from wsgate_pack.errors import BuildError

#: Runs inside the runtime-version interpreter: reads [(source, dest, dfile)] on stdin,
#: compiles each, prints the dfiles that did not compile (as JSON) with the first error.
_COMPILER = r"""
import json, py_compile, sys
failed = []
for src, dest, dfile in json.load(sys.stdin):
    try:
        py_compile.compile(src, cfile=dest, dfile=dfile, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    except py_compile.PyCompileError as exc:
        failed.append([dfile, exc.msg.strip().splitlines()[-1]])
print(json.dumps(failed))
"""

_VERSION = "import sys; print('%d.%d' % sys.version_info[:2], sys.implementation.name)"


def find_interpreter(version: str) -> str | None:
    """A CPython of ``version`` ("3.12"): this one, else ``python3.12`` on PATH if it runs."""
    if "{}.{}".format(*sys.version_info[:2]) == version and sys.implementation.name == "cpython":
        return sys.executable
    found = shutil.which(f"python{version}")
    if not found:
        return None
    try:
        out = subprocess.run(
            [found, "-c", _VERSION], capture_output=True, text=True, timeout=30, check=True
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None  # e.g. a version manager's shim for a version that is not installed
    return found if out == [version, "cpython"] else None


def cache_tag(version: str) -> str:
    return "cpython-" + version.replace(".", "")


def pyc_name(arcname: str, version: str) -> str:
    """``pkg/mod.py`` -> ``pkg/__pycache__/mod.cpython-312.pyc`` (what the importer looks for)."""
    head, _, base = arcname.rpartition("/")
    stem = base[: -len(".py")]
    prefix = f"{head}/" if head else ""
    return f"{prefix}__pycache__/{stem}.{cache_tag(version)}.pyc"


def compile_all(
    sources: list[tuple[str, Path]],
    version: str,
    interpreter: str,
    cache_dir: Path,
    root: str = "/var/task",
) -> tuple[dict[str, Path], dict[str, str]]:
    """Compile ``(arcname, source)`` pairs.

    Returns (arcname of each .pyc -> compiled file, arcname of each source that does not
    compile -> the compiler's message). Results are cached by (version, arcname, source hash),
    so a re-plan compiles nothing new.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    jobs: list[tuple[str, str, str]] = []
    for arcname, src in sources:
        digest = hashlib.sha256(
            f"{version}\0{root}/{arcname}\0".encode() + hashlib.sha256(src.read_bytes()).digest()
        ).hexdigest()[:40]
        dest = cache_dir / f"{digest}.pyc"
        out[pyc_name(arcname, version)] = dest
        if not dest.is_file():
            jobs.append((str(src), str(dest), f"{root}/{arcname}"))
    failed: dict[str, str] = {}
    if jobs:
        proc = subprocess.run(
            [interpreter, "-I", "-c", _COMPILER],
            input=json.dumps(jobs),
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            lines = proc.stderr.strip().splitlines()
            detail = lines[-1] if lines else f"exit {proc.returncode}"
            raise BuildError(
                f"compiling the package's Python files with {interpreter} failed: {detail}. "
                "compile_bytecode = false skips this step."
            )
        for dfile, message in json.loads(proc.stdout):
            arcname = dfile.removeprefix(f"{root}/")
            failed[arcname] = message
            out.pop(pyc_name(arcname, version), None)
    return out, failed
