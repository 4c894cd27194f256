"""Echo round trips: the local gateway and serverless-offline against a bare websockets server.

Each server is started on a free port, the load generator runs in its own process, and every
point is measured with the same generator settings, so the ratios compare the servers alone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from . import gateway, peer, procs

ECHO_DIR = procs.ROOT / "examples" / "echo"
#: The 32 KB payload stays a little under API Gateway's 32 KB frame limit.
SMALL, LARGE = 64, 32_000


@dataclass(frozen=True)
class Point:
    clients: int
    payload: int


@dataclass
class Target:
    """A running echo server: its name in the results, its URL, load generator options."""

    name: str
    url: str
    pid: int
    options: dict[str, Any] = field(default_factory=dict)


def load(
    url: str,
    point: Point,
    seconds: float,
    *,
    warmup_seconds: float = 0.5,
    max_per_client: int = 50_000,
    reply_timeout: float = 10.0,
    warmup_count: int = 2,
    server_pid: int = 0,
) -> dict[str, Any]:
    """One measurement: the load generator against ``url``, in a process of its own.

    Every client first runs untimed for ``warmup_seconds``, so that servers that start
    workers on demand have them running before the clock starts.
    """
    argv = [
        procs.PYTHON,
        "-m",
        "bench.loadgen",
        url,
        "--clients",
        str(point.clients),
        "--payload",
        str(point.payload),
        "--seconds",
        str(seconds),
        "--max-per-client",
        str(max_per_client),
        "--warmup-seconds",
        str(warmup_seconds),
        "--warmup",
        str(warmup_count),
        "--reply-timeout",
        str(reply_timeout),
        "--server-pid",
        str(server_pid),
    ]
    timeout = seconds + warmup_seconds + 120 + reply_timeout * 3 + point.clients * 0.5
    result: dict[str, Any] = procs.run_json(argv, timeout=timeout)
    return result


@contextlib.contextmanager
def bare_server() -> Iterator[Target]:
    """The baseline: a bare websockets echo server."""
    port = procs.free_port()
    argv = [procs.PYTHON, "-m", "bench.bare_echo", str(port)]
    with procs.server(argv, port, timeout=20) as proc:
        yield Target("bare websockets", f"ws://127.0.0.1:{port}", proc.pid)


@contextlib.contextmanager
def wsgate_server() -> Iterator[Target]:
    """``wsgate local examples/echo``."""
    with gateway.running(ECHO_DIR) as gw:
        yield Target("wsgate local", gw.ws_url, gw.pid)


@contextlib.contextmanager
def peer_server() -> Iterator[Target]:
    """serverless-offline with the equivalent Python echo handler."""
    with peer.running() as (url, pid):
        # serverless-offline starts one Python process per concurrent client on demand:
        # its first replies may take many seconds, and that is warm-up, not a failure
        options = {"max_per_client": 5_000, "reply_timeout": 30.0, "warmup_count": 1}
        yield Target("serverless-offline", url, pid, options)


def interleaved(
    targets: list[Target], points: list[Point], seconds: float, warmup: float
) -> dict[str, dict[Point, dict[str, Any]]]:
    """Measure every point on every target back to back, so that a change in the machine's
    load between two points hits the figure and its baseline alike."""
    out: dict[str, dict[Point, dict[str, Any]]] = {t.name: {} for t in targets}
    for p in points:
        for t in targets:
            out[t.name][p] = load(
                t.url, p, seconds, warmup_seconds=warmup, server_pid=t.pid, **t.options
            )
    return out
