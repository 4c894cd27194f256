"""Echo round trips: the local gateway and serverless-offline against a bare websockets server.

Each server is started on a free port, the load generator runs in its own process, and every
point is measured with the same generator settings, so the ratios compare the servers alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import gateway, peer, procs

ECHO_DIR = procs.ROOT / "examples" / "echo"
#: The 32 KB payload stays a little under API Gateway's 32 KB frame limit.
SMALL, LARGE = 64, 32_000


@dataclass(frozen=True)
class Point:
    clients: int
    payload: int


def load(
    url: str,
    point: Point,
    seconds: float,
    *,
    warmup_seconds: float = 0.5,
    max_per_client: int = 50_000,
    reply_timeout: float = 10.0,
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
        "2",
        "--reply-timeout",
        str(reply_timeout),
    ]
    timeout = seconds + warmup_seconds + 120 + reply_timeout * 3 + point.clients * 0.5
    result: dict[str, Any] = procs.run_json(argv, timeout=timeout)
    return result


def bare(points: list[Point], seconds: float, warmup: float) -> dict[Point, dict[str, Any]]:
    port = procs.free_port()
    argv = [procs.PYTHON, "-m", "bench.bare_echo", str(port)]
    with procs.server(argv, port, timeout=20):
        return {
            p: load(f"ws://127.0.0.1:{port}", p, seconds, warmup_seconds=warmup) for p in points
        }


def wsgate_local(points: list[Point], seconds: float, warmup: float) -> dict[Point, dict[str, Any]]:
    with gateway.running(ECHO_DIR) as gw:
        return {p: load(gw.ws_url, p, seconds, warmup_seconds=warmup) for p in points}


def serverless_offline(
    points: list[Point], seconds: float, warmup: float
) -> dict[Point, dict[str, Any]]:
    with peer.running() as url:
        return {
            # serverless-offline starts one Python process per concurrent client on demand:
            # its first replies may take many seconds, and that is warm-up, not a failure
            p: load(
                url, p, seconds, warmup_seconds=warmup, max_per_client=5_000, reply_timeout=60.0
            )
            for p in points
        }
