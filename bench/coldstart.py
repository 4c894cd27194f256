"""Cold start: what ``import wsgate`` and building an ``App`` add to a fresh interpreter, and
the size of the zip the module deploys for the echo example."""

from __future__ import annotations

import io
import json
import re
import statistics
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from .procs import PYTHON, ROOT, child_env

LAMBDA_DIR = ROOT / "lambda"
ECHO_SRC = ROOT / "examples" / "echo" / "src"

#: ``{path}`` is the directory the Lambda zip was extracted to (Lambda's ``/var/task``).
_PRELUDE = "import sys; sys.path.insert(0, {path!r})"
BASELINE = _PRELUDE
APP_WITH_FIVE_ROUTES = "\n".join(
    [
        _PRELUDE,
        "import wsgate",
        "app = wsgate.App()",
        "app.connect(lambda e: None)",
        "app.disconnect(lambda e: None)",
        "app.default(lambda e: None)",
        "app.route('join')(lambda e: None)",
        "app.route('say')(lambda e: None)",
    ]
)
IMPORT_BOTO3 = _PRELUDE + "\nimport boto3"

#: Used only when the module's own ``source_excludes`` default cannot be read.
FALLBACK_EXCLUDES = [
    r"(^|/)__pycache__/",
    r"\.py[co]$",
    r"(^|/)\.pytest_cache/",
    r"(^|/)\.mypy_cache/",
]


def _one_run(code: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [PYTHON, "-c", code], env=env, check=True, stdout=subprocess.DEVNULL, cwd=str(ROOT)
    )
    return time.perf_counter() - started


def _interleaved(codes: list[str], env: dict[str, str], runs: int) -> list[float]:
    """Median seconds of each program, run in turn ``runs`` times so drift hits all alike."""
    for code in codes:  # warm the page cache (and, where allowed, write the .pyc files)
        _one_run(code, env)
    times: list[list[float]] = [[] for _ in codes]
    for _ in range(runs):
        for i, code in enumerate(codes):
            times[i].append(_one_run(code, env))
    return [statistics.median(t) for t in times]


def startup_times(runs: int, boto3_runs: int) -> dict[str, Any]:
    """Fresh interpreters importing wsgate from the extracted echo zip, against ``pass``.

    "as deployed": the zip carries no ``.pyc`` (the module excludes them) and Lambda's
    ``/var/task`` is read-only, so every cold start compiles wsgate's sources; that is
    reproduced with ``PYTHONDONTWRITEBYTECODE``. "bytecode cached" lets Python keep the
    ``.pyc`` files, which is what shipping compiled files in the zip would give.
    """
    with tempfile.TemporaryDirectory(prefix="wsgate-task-") as task:
        with zipfile.ZipFile(io.BytesIO(build_echo_zip()[0])) as zf:
            zf.extractall(task)
        codes = [c.format(path=task) for c in (BASELINE, APP_WITH_FIVE_ROUTES, IMPORT_BOTO3)]
        env = child_env(PYTHONDONTWRITEBYTECODE="1")
        env.pop("WSGATE_TABLE", None)
        base, app = _interleaved(codes[:2], env, runs)
        cached_env = dict(env)
        cached_env.pop("PYTHONDONTWRITEBYTECODE")
        cached_base, cached_app = _interleaved(codes[:2], cached_env, runs)
        boto = _interleaved([codes[2]], env, boto3_runs)[0] if boto3_runs else None
    return {
        "runs": runs,
        "baseline_ms": base * 1000,
        "app_ms": app * 1000,
        "added_ms": (app - base) * 1000,
        "cached_baseline_ms": cached_base * 1000,
        "cached_app_ms": cached_app * 1000,
        "cached_added_ms": (cached_app - cached_base) * 1000,
        "boto3_ms": boto * 1000 if boto is not None else None,
        "boto3_added_ms": (boto - base) * 1000 if boto is not None else None,
    }


def module_excludes() -> tuple[list[str], str]:
    """The default of the module's ``source_excludes`` variable, read from ``variables.tf``."""
    try:
        import hcl2

        with open(ROOT / "variables.tf") as fh:
            doc = hcl2.load(fh)
        for block in doc.get("variable", []):
            for name, body in block.items():
                if name.strip('"') == "source_excludes":
                    return [json.loads(p) if p.startswith('"') else p for p in body["default"]], (
                        "variables.tf source_excludes"
                    )
    except (OSError, ValueError, KeyError, ImportError):
        pass
    return FALLBACK_EXCLUDES, "fallback excludes (variables.tf not readable)"


def _files(tree: Path, excludes: list[str]) -> list[tuple[Path, str]]:
    """Files under ``tree`` with their relative paths, less what an exclude pattern matches
    (searched anywhere in the path, as Terraform's ``can(regex(...))`` does)."""
    patterns = [re.compile(p) for p in excludes]
    out = []
    for path in sorted(tree.rglob("*")):
        rel = path.relative_to(tree).as_posix()
        if path.is_file() and not any(p.search(rel) for p in patterns):
            out.append((path, rel))
    return out


def echo_zip_size() -> dict[str, Any]:
    """Size of the echo example's Lambda zip."""
    data, count, origin = build_echo_zip()
    return {"bytes": len(data), "files": count, "excludes_from": origin}


def build_echo_zip() -> tuple[bytes, int, str]:
    """Zip the runtime package and the echo example's code the way the module's
    ``archive_file`` does: ``wsgate/`` beside the user's files at the zip root, deflated, less
    the module's ``source_excludes``. Returns the bytes, the file count and where the
    exclude patterns came from."""
    excludes, origin = module_excludes()
    buf = io.BytesIO()
    count = 0
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, rel in _files(LAMBDA_DIR / "wsgate", excludes):
            zf.write(path, f"wsgate/{rel}")
            count += 1
        if ECHO_SRC.is_dir():
            for path, rel in _files(ECHO_SRC, excludes):
                zf.write(path, rel)
                count += 1
    return buf.getvalue(), count, origin
