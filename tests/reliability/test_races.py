"""Races: connect, join, leave, publish and disconnect of the same connections, interleaved
from many threads, leave the table consistent.

At the store level the runtime talks to moto's DynamoDB server (the local gateway's, which
serves one request at a time as DynamoDB serializes conflicting writes) and to a stub
@connections endpoint that answers 410 Gone, so publishes race the disconnects too. End to end,
chat clients join, talk and vanish at once while others keep joining the same rooms.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import wsgate
from reliability_support import wait_until
from wsgate import Gone, _clients
from wsgate_local.dynamo import LocalDynamo

ROOMS = ("red", "green", "blue")


class _GoneEverywhere(BaseHTTPRequestHandler):
    """A @connections endpoint whose clients have all left: every call answers 410."""

    def _gone(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(410)
        self.send_header("x-amzn-ErrorType", "GoneException")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "15")
        self.end_headers()
        self.wfile.write(b'{"message":null')

    do_POST = do_GET = do_DELETE = _gone

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def table() -> Iterator[LocalDynamo]:
    dynamo = LocalDynamo("races-connections")
    dynamo.reserve()
    dynamo.start()
    stub = ThreadingHTTPServer(("127.0.0.1", 0), _GoneEverywhere)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    patch = pytest.MonkeyPatch()
    patch.setenv("WSGATE_TABLE", dynamo.table_name)
    patch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamo.url)
    patch.setenv("WSGATE_ENDPOINT", f"http://127.0.0.1:{stub.server_address[1]}/dev")
    _clients.reset()
    try:
        yield dynamo
    finally:
        _clients.reset()
        patch.undo()
        stub.shutdown()
        dynamo.stop()


def _items(dynamo: LocalDynamo) -> list[dict[str, Any]]:
    client = dynamo.client()
    return client.scan(TableName=dynamo.table_name)["Items"]  # type: ignore[no-any-return]


def _consistency_problems(dynamo: LocalDynamo) -> list[str]:
    """Every membership has its connection, and every connection's rooms set matches them."""
    items = _items(dynamo)
    connections = {
        i["pk"]["S"][len("conn#") :]: set(i.get("rooms", {}).get("SS", []))
        for i in items
        if i["pk"]["S"].startswith("conn#")
    }
    members: dict[str, set[str]] = {}
    for item in items:
        if item["pk"]["S"].startswith("room#") and item["sk"]["S"].startswith("conn#"):
            cid = item["sk"]["S"][len("conn#") :]
            members.setdefault(cid, set()).add(item["pk"]["S"][len("room#") :])
    problems = [
        f"{cid} is in {rooms} but not stored"
        for cid, rooms in members.items()
        if cid not in connections
    ]
    for cid, rooms in connections.items():
        if members.get(cid, set()) != rooms:
            problems.append(f"{cid}: rooms {rooms} but memberships {members.get(cid, set())}")
    return problems


def _operations(cid: str, rng: random.Random) -> list[Any]:
    ops: list[Any] = []
    for _ in range(4):
        room = rng.choice(ROOMS)
        ops.append(lambda room=room: wsgate.rooms.join(cid, room))
    ops.append(lambda: wsgate.rooms.leave(cid, rng.choice(ROOMS)))
    ops.append(lambda: wsgate.rooms.publish(rng.choice(ROOMS), {"from": cid}))
    ops.append(lambda: wsgate.connections.update(cid, name=cid))
    ops.append(lambda: wsgate.connections.delete(cid))  # $disconnect, somewhere in the middle
    rng.shuffle(ops)
    return ops


def test_joins_leaves_and_publishes_racing_disconnect_leave_no_stray_membership(
    table: LocalDynamo,
) -> None:
    rng = random.Random(4)
    ids = [f"race{n:02d}AAAAAAAA=" for n in range(10)]
    for cid in ids:
        wsgate.connections.put(cid, identity={"sourceIp": "127.0.0.1"})
    work = [op for cid in ids for op in _operations(cid, rng)]
    rng.shuffle(work)

    def run(op: Any) -> str:
        try:
            op()
        except Gone:
            return "gone"  # a join or update after the disconnect: refused, nothing written
        return "ok"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(run, work))

    assert "gone" in outcomes  # some operations really did lose the race
    assert _consistency_problems(table) == []
    leftovers = [i for i in _items(table) if any(cid in json.dumps(i) for cid in ids)]
    assert [i for i in leftovers if not i["sk"]["S"].startswith("msg#")] == []


def test_repeated_connect_and_disconnect_of_one_id_from_many_threads_stay_consistent(
    table: LocalDynamo,
) -> None:
    cid = "flapAAAAAAAAAAA="
    rng = random.Random(9)
    ops: list[Any] = []
    for room in rng.choices(ROOMS, k=6):
        ops.append(lambda: wsgate.connections.put(cid))
        ops.append(lambda: wsgate.connections.delete(cid))
        ops.append(lambda room=room: wsgate.rooms.join(cid, room))
    rng.shuffle(ops)

    def run(op: Any) -> None:
        with contextlib.suppress(Gone):  # joining while not connected: refused, nothing written
            op()

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(run, ops))
    assert _consistency_problems(table) == []
    wsgate.connections.delete(cid)  # the final $disconnect
    assert [i for i in _items(table) if cid in json.dumps(i)] == []


async def _vanish(url: str, index: int) -> None:
    from websockets.asyncio.client import connect

    ws = await connect(f"{url}?name=v{index}", open_timeout=60, ping_interval=None)
    for room in ROOMS[: 1 + index % 3]:
        await ws.send(json.dumps({"action": "join", "room": room}))
    await ws.send(json.dumps({"action": "say", "room": ROOMS[0], "text": "bye"}))
    if index % 2:
        ws.transport.abort()  # gone mid-request, no close frame
    else:
        await ws.close()


async def _stay(url: str, index: int, rounds: int) -> int:
    from websockets.asyncio.client import connect

    joined = 0
    async with connect(f"{url}?name=s{index}", open_timeout=60, ping_interval=None) as ws:
        for n in range(rounds):
            room = ROOMS[(index + n) % 3]
            await ws.send(json.dumps({"action": "join", "room": room}))
            while json.loads(await asyncio.wait_for(ws.recv(), 60)).get("type") != "joined":
                pass
            joined += 1
            await ws.send(json.dumps({"action": "leave", "room": room}))
    return joined


def test_clients_vanishing_mid_request_while_others_join_leave_a_consistent_table(
    chat_gateway: Any,
) -> None:
    gateway = chat_gateway

    async def scenario() -> list[int]:
        vanishing = [_vanish(gateway.ws_url, n) for n in range(10)]
        staying = [_stay(gateway.ws_url, n, 2) for n in range(3)]
        results = await asyncio.gather(*staying, *vanishing)
        return [r for r in results if r is not None]

    assert asyncio.run(scenario()) == [2, 2, 2]
    wait_until(lambda: not gateway.live_connections(), 60, "every connection to close")
    wait_until(lambda: not gateway.connection_items(), 60, "every $disconnect to clean up")
