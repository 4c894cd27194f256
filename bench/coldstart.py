"""Cold start: what ``import wsgate`` and building an ``App`` add to a fresh interpreter, with
and without the ``.pyc`` files the package build ships, and the size of the echo example's zip.

Every child first imports what Lambda's Python bootstrap (awslambdaric) has loaded before it
imports the handler (json, logging, traceback...; see ``BOOTSTRAP_MODULES`` for the list and the
source checked), the baseline as well as the app, so the figure is what wsgate adds in Lambda.

The zips are built by the module's own builder (``packager/wsgate_pack``), as ``terraform plan``
builds them."""

from __future__ import annotations

import io
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from .procs import PYTHON, ROOT, child_env

LAMBDA_DIR = ROOT / "lambda"
ECHO_SRC = ROOT / "examples" / "echo" / "src"

#: The standard-library modules Lambda's Python bootstrap (awslambdaric) has already imported
#: when it imports the function's handler module: ``bootstrap.py`` imports importlib, json,
#: logging, os, sys, time and traceback; ``lambda_runtime_log_utils`` json, logging, traceback
#: and enum; ``lambda_runtime_marshaller`` decimal, math and os (and simplejson, which is not
#: stdlib and which wsgate does not use); ``lambda_context`` logging, os, sys, time. Checked in
#: github.com/aws/aws-lambda-python-runtime-interface-client, awslambdaric/ at tags 2.0.10,
#: 2.2.1, 3.0.0, 3.1.1 and 4.0.1 (the same list in each). ``http.client`` is imported only on
#: the first call to the runtime API, and typing, dataclasses and inspect never: a cold start
#: pays for those where wsgate imports them. Both the baseline and the app import these first,
#: so the figure is what wsgate adds in Lambda, not what it shares with the bootstrap.
BOOTSTRAP_MODULES = (
    "decimal",
    "enum",
    "importlib",
    "json",
    "logging",
    "math",
    "os",
    "sys",
    "time",
    "traceback",
)
#: ``{path}`` is the directory the Lambda zip was extracted to (Lambda's ``/var/task``).
_PRELUDE = f"import {', '.join(BOOTSTRAP_MODULES)}; sys.path.insert(0, {{path!r}})"
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

    Lambda's ``/var/task`` is read-only, so Python cannot cache bytecode there: every run uses
    ``PYTHONDONTWRITEBYTECODE``. "as deployed" is the zip without ``.pyc`` files (every cold
    start compiles wsgate's sources); "with .pyc" is the zip the build makes when a Python of
    the runtime's version is at hand (``compile_bytecode``), here this interpreter's version.
    """
    env = child_env(PYTHONDONTWRITEBYTECODE="1")
    env.pop("WSGATE_TABLE", None)
    with (
        tempfile.TemporaryDirectory(prefix="wsgate-task-") as task,
        tempfile.TemporaryDirectory(prefix="wsgate-task-pyc-") as task_pyc,
    ):
        for data, where in ((build_echo_zip()[0], task), (build_echo_zip(True)[0], task_pyc)):
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                zf.extractall(where)
        codes = [c.format(path=task) for c in (BASELINE, APP_WITH_FIVE_ROUTES, IMPORT_BOTO3)]
        base, app = _interleaved(codes[:2], env, runs)
        pyc_codes = [c.format(path=task_pyc) for c in (BASELINE, APP_WITH_FIVE_ROUTES)]
        cached_base, cached_app = _interleaved(pyc_codes, env, runs)
        boto = _interleaved([codes[2]], env, boto3_runs)[0] if boto3_runs else None
    return {
        "runs": runs,
        "baseline_ms": base * 1000,
        "app_ms": app * 1000,
        "added_ms": (app - base) * 1000,
        "cached_baseline_ms": cached_base * 1000,
        "cached_app_ms": cached_app * 1000,
        "cached_added_ms": (cached_app - cached_base) * 1000,
        "pyc_saving_ratio": (cached_app - cached_base) / (app - base) if app > base else None,
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
    """Size of the echo example's Lambda zip, without and with .pyc files."""
    data, count, origin = build_echo_zip()
    with_pyc = build_echo_zip(True)[0]
    return {"bytes": len(data), "files": count, "excludes_from": origin, "bytes_pyc": len(with_pyc)}


def build_echo_zip(
    compile_bytecode: bool = False, runtime_dir: Path = LAMBDA_DIR / "wsgate"
) -> tuple[bytes, int, str]:
    """The echo example's zip as the module builds it (``packager/wsgate_pack``): ``wsgate/``
    beside the user's files, less the module's ``source_excludes``; with ``compile_bytecode``
    for this interpreter's Python version; ``runtime_dir`` is the ``wsgate`` package to ship
    (another revision's, for ``bench.compare``). Returns the bytes, the file count and where the
    exclude patterns came from."""
    sys.path.insert(0, str(ROOT / "packager"))
    try:
        from wsgate_pack import Request, build
    finally:
        sys.path.remove(str(ROOT / "packager"))
    excludes, origin = module_excludes()
    with tempfile.TemporaryDirectory(prefix="wsgate-build-") as out:
        result = build(
            Request(
                name="echo",
                runtime_dir=runtime_dir,
                source_dir=ECHO_SRC,
                output_dir=out,
                runtime="python{}.{}".format(*sys.version_info[:2]),
                excludes=excludes,
                requirements_file=None,
                compile_bytecode="true" if compile_bytecode else "false",
            )
        )
        data = Path(result["filename"]).read_bytes()
    return data, int(result["files"]), origin
