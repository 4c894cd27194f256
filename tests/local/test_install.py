"""`make demo` installs only what the local gateway needs: the [local] extra, not the test, lint
and browser tools of [dev]."""

from __future__ import annotations

import importlib.metadata as metadata
import os
import re
import subprocess

from local_support import ROOT
from packaging.requirements import Requirement

DEV_ONLY = {"pytest", "mypy", "ruff", "playwright", "matplotlib", "hypothesis", "py-spy", "pdoc"}


def _closure(extra: str) -> set[str]:
    """Every distribution that installing wsgate[extra] pulls in, from the installed metadata."""
    found: set[str] = set()
    done: set[tuple[str, frozenset[str]]] = set()
    todo: list[tuple[str, frozenset[str]]] = [("wsgate", frozenset({extra}))]
    while todo:
        name, extras = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if (key, extras) in done:
            continue
        done.add((key, extras))
        found.add(key)
        for line in metadata.requires(name) or []:
            req = Requirement(line)
            environments = [{"extra": e} for e in (*extras, "")]
            if req.marker is None or any(req.marker.evaluate(env) for env in environments):
                todo.append((req.name, frozenset(req.extras)))
    return found


def test_the_local_extra_pulls_in_no_dev_tool():
    local = _closure("local")
    assert {"aiohttp", "websockets", "moto", "python-hcl2", "flask"} <= local
    assert not local & DEV_ONLY, f"[local] pulls in {sorted(local & DEV_ONLY)}"
    assert "cfn-lint" not in local  # moto[server]'s every-service dependencies stay in [dev]
    assert _closure("dev") >= DEV_ONLY


def test_make_demo_installs_the_local_extra_only():
    # Under `make test` the parent make's MAKEFLAGS/MAKELEVEL would add its own lines.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    plan = subprocess.run(
        ["make", "--no-print-directory", "-n", "-B", "demo"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        env=env,
    ).stdout
    assert "pip install --quiet -e '.[local]'" in plan
    assert ".[dev]" not in plan
    assert plan.rstrip().endswith("wsgate local examples/chat --port 3001")
