"""Checks that the Python handlers and the module block agree, reported when the gateway starts.

A route with a Python handler that is missing from the module's ``routes`` is never selected by
API Gateway: it has no such route, so its messages go to ``$default`` (where wsgate's ``App``
selects the route again and runs the handler, at the cost of a log line per message). The handler's route keys
are read by importing it in a separate process (as a worker would), so the check cannot disturb
the workers' module state.

Run as ``python -m wsgate_local.contract SOURCE_DIR HANDLER``: prints the route keys as JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
import sys
from collections.abc import Iterable, Mapping
from typing import Any

PREDEFINED = ("$connect", "$disconnect", "$default")


def missing_routes(handler_routes: Iterable[str], module_routes: Iterable[str]) -> list[str]:
    """Route keys that have a handler but are not routes of the module, in handler order."""
    declared = set(module_routes)
    return [k for k in handler_routes if k not in PREDEFINED and k not in declared]


def route_warning(key: str) -> str:
    return (
        f'the handler has a route "{key}" that is not in the module\'s `routes`: API Gateway '
        f"sends its messages to $default (wsgate's App still runs the handler from there); "
        f'add "{key}" to routes in main.tf'
    )


async def handler_routes(source_dir: str, handler: str, env: Mapping[str, str]) -> list[str] | None:
    """The route keys the handler registers, or None when they cannot be read (not an ``App``
    or ``Server``, or the import fails: the workers report that themselves)."""
    with contextlib.suppress(OSError):
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "wsgate_local.contract",
            source_dir,
            handler,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=dict(env),
            cwd=source_dir,
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), 30)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            return None
        if proc.returncode == 0:
            with contextlib.suppress(ValueError):
                keys = json.loads(out.decode().strip().splitlines()[-1])
                if isinstance(keys, list):
                    return [str(k) for k in keys]
    return None


def _routes_of(target: Any) -> list[str] | None:
    """``App.routes``, or the ``App`` of a ``Server`` instance (``Chat.handler``)."""
    for candidate in (target, getattr(target, "app", None)):
        routes = getattr(candidate, "routes", None)
        if isinstance(routes, Mapping):
            return [str(k) for k in routes]
    return None


def main(argv: list[str]) -> int:
    source_dir, spec = argv[0], argv[1]
    sys.path.insert(0, source_dir)
    module_name, _, attr = spec.rpartition(".")
    # Whatever the handler prints at import time must not be taken for the answer.
    real_stdout = os.dup(1)
    os.dup2(2, 1)
    try:
        target = getattr(importlib.import_module(module_name), attr)
    finally:
        sys.stdout.flush()
        os.dup2(real_stdout, 1)
    routes = _routes_of(target)
    if routes is None:
        return 1
    print(json.dumps(routes), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
