"""The broadcast benchmark's receivers: N WebSocket clients in one process of their own.

``python -m bench.fanout URL --clients N`` connects N clients to ``bench/apps/fanout`` through
the local gateway, asks each for its connection id, prints ``{"ids": [...]}`` and then counts
every JSON message ``{"tag": ...}`` each client receives. Commands on stdin, one per line:
``report TAG SECONDS`` waits (at most SECONDS) until every client has the message tagged TAG,
waits a little longer to catch duplicates, and prints how many clients got exactly one copy,
none, or more than one, and when the last copy arrived (``time.monotonic``, which is one
clock for every process on the machine); ``quit`` closes the clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import defaultdict
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

SETTLE = 0.5  # seconds to wait for duplicates after the last expected copy


class Receivers:
    def __init__(self) -> None:
        self.counts: dict[str, list[int]] = {}
        self.last: dict[str, float] = defaultdict(float)
        self.first: dict[str, float] = {}
        self.n = 0
        self.other = 0

    def record(self, index: int, text: str | bytes) -> None:
        try:
            tag = json.loads(text)["tag"]
        except (ValueError, KeyError, TypeError):
            self.other += 1
            return
        now = time.monotonic()
        counts = self.counts.setdefault(tag, [0] * self.n)
        counts[index] += 1
        self.first.setdefault(tag, now)
        self.last[tag] = max(self.last[tag], now)

    def summary(self, tag: str) -> dict[str, Any]:
        counts = self.counts.get(tag, [0] * self.n)
        return {
            "tag": tag,
            "clients": self.n,
            "exactly_one": sum(1 for c in counts if c == 1),
            "missing": sum(1 for c in counts if c == 0),
            "duplicated": sum(1 for c in counts if c > 1),
            "first_receipt": self.first.get(tag),
            "last_receipt": self.last.get(tag),
        }


async def whoami(ws: ClientConnection) -> str:
    await ws.send("whoami")
    reply = json.loads(await asyncio.wait_for(ws.recv(), 30))
    return str(reply["connectionId"])


async def main(args: argparse.Namespace) -> None:
    sem = asyncio.Semaphore(args.connect_parallel)
    rx = Receivers()
    rx.n = args.clients

    async def open_one() -> tuple[ClientConnection, str]:
        async with sem:
            ws = await connect(
                args.url, compression=None, ping_interval=None, open_timeout=60, max_size=2**20
            )
            return ws, "" if args.no_whoami else await whoami(ws)

    pairs = await asyncio.gather(*(open_one() for _ in range(args.clients)))
    conns = [ws for ws, _ in pairs]

    async def listen(index: int, ws: ClientConnection) -> None:
        try:
            async for text in ws:
                rx.record(index, text)
        except Exception:  # a dropped client shows up as missing copies in the report
            return

    listeners = [asyncio.create_task(listen(i, ws)) for i, ws in enumerate(conns)]
    print(json.dumps({"ids": [cid for _, cid in pairs if cid]}), flush=True)

    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        parts = line.split()
        if not parts or parts[0] == "quit":
            break
        if parts[0] == "report":
            tag, limit = parts[1], float(parts[2])
            deadline = time.monotonic() + limit
            while time.monotonic() < deadline and rx.summary(tag)["missing"]:
                await asyncio.sleep(0.02)
            await asyncio.sleep(SETTLE)
            print(json.dumps(rx.summary(tag)), flush=True)
    await asyncio.gather(*(ws.close() for ws in conns), return_exceptions=True)
    for task in listeners:
        task.cancel()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--connect-parallel", type=int, default=50)
    parser.add_argument(
        "--no-whoami",
        action="store_true",
        help="do not ask for connection ids (the caller lists them): print {'ids': []}",
    )
    asyncio.run(main(parser.parse_args()))
