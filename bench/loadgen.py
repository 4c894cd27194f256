"""The load generator: N WebSocket clients, each sending a message and waiting for its echo.

Runs in a process of its own (``python -m bench.loadgen URL --clients N ...``) so that it never
shares an event loop or a GIL with the server it measures, and prints one JSON line: round trips,
elapsed seconds, round trips per second, latency percentiles in milliseconds, and errors.
Every loop is bounded in count (``--max-per-client``) and in time (``--seconds``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from bench.procs import cpu_split


def percentile(sorted_values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank; NaN for no values."""
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


def message(client: int, seq: int, size: int) -> str:
    """A text message of exactly ``size`` bytes that names its sender and sequence number."""
    head = f"c{client}-{seq}:"
    return head + "x" * max(0, size - len(head))


async def open_all(url: str, n: int, parallel: int) -> list[ClientConnection]:
    sem = asyncio.Semaphore(parallel)

    async def one() -> ClientConnection:
        async with sem:
            return await connect(
                url, compression=None, max_size=2**20, ping_interval=None, open_timeout=30
            )

    return list(await asyncio.gather(*(one() for _ in range(n))))


async def run(args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    conns = await open_all(args.url, args.clients, args.connect_parallel)
    connect_s = time.perf_counter() - t0
    latencies: list[list[float]] = [[] for _ in conns]
    errors: list[str] = []
    mismatches = 0
    mismatch_samples: list[dict[str, str]] = []
    start = asyncio.Event()
    stop_at = 0.0

    async def round_trip(i: int, ws: ClientConnection, seq: int) -> float:
        nonlocal mismatches
        msg = message(i, seq, args.payload)
        sent = time.perf_counter()
        await ws.send(msg)
        reply = await asyncio.wait_for(ws.recv(), args.reply_timeout)
        took = time.perf_counter() - sent
        if reply != msg:
            mismatches += 1
            if len(mismatch_samples) < 3:
                got = reply if isinstance(reply, str) else repr(reply)
                mismatch_samples.append({"sent": msg[:40], "got": got[:160]})
        return took

    async def client(i: int, ws: ClientConnection) -> None:
        seq = 0
        try:
            warm_until = time.perf_counter() + args.warmup_seconds
            while seq < args.warmup or time.perf_counter() < warm_until:
                await round_trip(i, ws, seq)
                seq += 1
            ready.release()
            await start.wait()
            mine = latencies[i]
            while len(mine) < args.max_per_client and time.perf_counter() < stop_at:
                mine.append(await round_trip(i, ws, seq))
                seq += 1
        except Exception as exc:  # one failed client must not stop the measurement
            errors.append(f"client {i}: {type(exc).__name__}: {exc}"[:200])
            ready.release()
        completed[i] = seq

    completed = [0] * len(conns)
    ready = asyncio.Semaphore(0)
    tasks = [asyncio.create_task(client(i, ws)) for i, ws in enumerate(conns)]
    for _ in conns:
        await asyncio.wait_for(ready.acquire(), 120)
    cpu_before = cpu_split(args.server_pid) if args.server_pid else (0.0, 0.0)
    began = time.perf_counter()
    stop_at = began + args.seconds
    start.set()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - began
    cpu_after = cpu_split(args.server_pid) if args.server_pid else (0.0, 0.0)
    own_cpu, children_cpu = (a - b for a, b in zip(cpu_after, cpu_before, strict=True))
    server_cpu = (own_cpu + children_cpu) if args.server_pid else None
    await asyncio.gather(*(ws.close() for ws in conns), return_exceptions=True)

    flat = sorted(x for per in latencies for x in per)
    count = len(flat)
    return {
        "clients": args.clients,
        "payload": args.payload,
        "round_trips": count,
        "all_round_trips": sum(completed),
        # the server's CPU (its process and all its children) during the timed phase only
        "server_cpu_s": server_cpu,
        "server_cpu_ms_per_rt": (server_cpu * 1000 / count) if server_cpu and count else None,
        # of which the server's own process, and its child processes (workers, runners)
        "server_main_cpu_ms_per_rt": (own_cpu * 1000 / count) if server_cpu and count else None,
        "server_children_cpu_ms_per_rt": (children_cpu * 1000 / count)
        if server_cpu and count
        else None,
        "seconds": elapsed,
        "rps": count / elapsed if elapsed > 0 else 0.0,
        "p50_ms": percentile(flat, 50) * 1000,
        "p90_ms": percentile(flat, 90) * 1000,
        "p99_ms": percentile(flat, 99) * 1000,
        "max_ms": (flat[-1] * 1000) if flat else float("nan"),
        "connect_s": connect_s,
        "mismatches": mismatches,
        "mismatch_samples": mismatch_samples,
        "errors": errors[:5],
        "error_count": len(errors),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--payload", type=int, default=64, help="bytes per message")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the timed phase")
    parser.add_argument("--max-per-client", type=int, default=100_000)
    parser.add_argument("--warmup", type=int, default=3, help="untimed round trips per client")
    parser.add_argument(
        "--warmup-seconds", type=float, default=0.0, help="keep warming up this long"
    )
    parser.add_argument(
        "--reply-timeout", type=float, default=10.0, help="seconds; a client stops after one"
    )
    parser.add_argument(
        "--server-pid", type=int, default=0, help="report this process tree's CPU time"
    )
    parser.add_argument("--connect-parallel", type=int, default=20)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
