"""Cold start: what ``import wsgate`` and building an ``App`` add to a fresh interpreter, and
the size of the zip the module deploys for the echo example."""

from __future__ import annotations

import io
import json
import re
import statistics
import subprocess
import time
import zipfile
from pathlib import Path
from typing import Any

from .procs import PYTHON, ROOT, child_env

LAMBDA_DIR = ROOT / "lambda"
ECHO_SRC = ROOT / "examples" / "echo" / "src"

_PRELUDE = f"import sys; sys.path.insert(0, {str(LAMBDA_DIR)!r})"
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


def startup_times(runs: int, boto3_runs: int) -> dict[str, Any]:
    """Median wall time of fresh interpreters; the two are interleaved so drift hits both."""
    env = child_env()
    env.pop("WSGATE_TABLE", None)
    for _ in range(2):  # warm the page cache and the .pyc files first
        _one_run(APP_WITH_FIVE_ROUTES, env)
        _one_run(BASELINE, env)
    base: list[float] = []
    app: list[float] = []
    for _ in range(runs):
        base.append(_one_run(BASELINE, env))
        app.append(_one_run(APP_WITH_FIVE_ROUTES, env))
    boto = [_one_run(IMPORT_BOTO3, env) for _ in range(boto3_runs)]
    return {
        "runs": runs,
        "baseline_ms": statistics.median(base) * 1000,
        "app_ms": statistics.median(app) * 1000,
        "added_ms": (statistics.median(app) - statistics.median(base)) * 1000,
        "boto3_ms": statistics.median(boto) * 1000 if boto else None,
        "boto3_added_ms": (statistics.median(boto) - statistics.median(base)) * 1000
        if boto
        else None,
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
    """Zip the runtime package and the echo example's code the way the module's
    ``archive_file`` does: ``wsgate/`` beside the user's files at the zip root, deflated, less
    the module's ``source_excludes``."""
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
    return {"bytes": len(buf.getvalue()), "files": count, "excludes_from": origin}
