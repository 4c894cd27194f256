"""The baseline server: a bare ``websockets`` echo server, nothing in between.

``python -m bench.bare_echo PORT`` echoes every message back on the connection it came from.
"""

from __future__ import annotations

import asyncio
import sys

from websockets.asyncio.server import ServerConnection, serve


async def echo(ws: ServerConnection) -> None:
    async for message in ws:
        await ws.send(message)


async def main(port: int) -> None:
    async with serve(
        echo, "127.0.0.1", port, compression=None, max_size=2**20, ping_interval=None
    ) as srv:
        await srv.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
