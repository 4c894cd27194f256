"""Rooms: membership, paginated members, history and publishing (moto, real @connections)."""

from __future__ import annotations

import contextlib
import importlib
import random
import threading
import time
from typing import Any

import pytest
import wsgate
from mgmt_stub import ManagementStub, all_items, clean_env_fixture, mgmt_fixture, table_fixture  # noqa: F401
from wsgate import _clients
from wsgate.errors import Gone

rooms = wsgate.rooms
rooms_module = importlib.import_module("wsgate.rooms")
connections = wsgate.connections


def _count_calls(operation: str) -> list[str]:
    """Record each call of a DynamoDB operation made through the shared client."""
    seen: list[str] = []
    _clients.dynamodb_client().meta.events.register(
        f"before-call.dynamodb.{operation}", lambda **kwargs: seen.append(operation)
    )
    return seen


def test_join_members_leave(table: str) -> None:
    for cid in ("A=", "B=", "C="):
        connections.put(cid)
    rooms.join("A=", "lobby")
    rooms.join("B=", "lobby")
    rooms.join("B=", "lobby")  # twice is harmless
    rooms.join("C=", "games")
    assert sorted(rooms.members("lobby")) == ["A=", "B="]
    rooms.leave("A=", "lobby")
    rooms.leave("A=", "lobby")  # so is leaving twice
    assert rooms.members("lobby") == ["B="]
    assert connections.rooms_of("A=") == []
    assert rooms.members("empty") == []


def test_wsgate_rooms_is_the_rooms_object_however_it_is_imported(table: str) -> None:
    import wsgate.rooms as imported

    connections.put("A=")
    imported.join("A=", "lobby")
    assert imported is wsgate.rooms is rooms
    assert wsgate.rooms.members("lobby") == ["A="]


def test_join_by_a_connection_that_is_gone_raises_and_leaves_no_membership(table: str) -> None:
    with pytest.raises(Gone):
        rooms.join("ghost=", "lobby")
    connections.put("A=")
    connections.delete("A=")
    with pytest.raises(Gone):
        rooms.join("A=", "lobby")
    assert rooms.members("lobby") == []
    assert all_items() == []


def test_a_reconnect_that_joins_while_the_old_connection_is_deleted_keeps_its_membership(
    table: str,
) -> None:
    connections.put("A=")
    rooms.join("A=", "green")
    events = _clients.dynamodb_client().meta.events
    reconnected: list[bool] = []

    def reconnect(**kwargs: Any) -> None:
        """Between the delete's DeleteItem and its membership cleanup, A= is back and joins."""
        if not reconnected:
            reconnected.append(True)
            connections.put("A=")
            rooms.join("A=", "green")

    for operation in ("BatchWriteItem", "TransactWriteItems"):
        events.register(f"before-call.dynamodb.{operation}", reconnect, unique_id=operation)
    try:
        assert connections.delete("A=") is True
    finally:
        for operation in ("BatchWriteItem", "TransactWriteItems"):
            events.unregister(f"before-call.dynamodb.{operation}", unique_id=operation)
    assert reconnected
    assert connections.rooms_of("A=") == ["green"]
    assert rooms.members("green") == ["A="]


def _expire(table: str, now: float) -> None:
    """Remove what DynamoDB's TTL process may have removed by ``now`` (items whose ttl passed)."""
    client = _clients.dynamodb_client()
    for item in all_items():
        if isinstance(item.get("ttl"), int) and item["ttl"] < now:
            key = {"pk": {"S": item["pk"]}, "sk": {"S": item["sk"]}}
            client.delete_item(TableName=table, Key=key)


def test_memberships_never_outlive_their_connection(
    table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1_900_000_000.0]
    fake_time = type("FakeTime", (), {"time": staticmethod(lambda: clock[0])})
    monkeypatch.setattr(importlib.import_module("wsgate.store"), "time", fake_time)
    monkeypatch.setattr(rooms_module, "time", fake_time)
    connections.put("A=")
    clock[0] += 7000  # joins near the end of API Gateway's two hours
    rooms.join("A=", "lobby")
    items = {item["sk"] if item["pk"] == "conn#A=" else "membership": item for item in all_items()}
    assert items["membership"]["ttl"] <= items["meta"]["ttl"]
    for moment in range(int(clock[0]), int(clock[0]) + 4 * 3600, 600):
        _expire(table, moment)  # whatever TTL has removed by then, the rest is consistent
        clock[0] = moment
        stored = connections.get("A=") is not None
        assert rooms.members("lobby") == (["A="] if stored else [])
    assert all_items() == []


def test_members_reads_every_page_with_queries_never_scans(
    table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rooms_module, "PAGE_SIZE", 7)
    ids = [f"m{i:02d}=" for i in range(30)]
    for cid in ids:
        connections.put(cid)
        rooms.join(cid, "big")
    rooms.remember("big", {"text": "history is not a member"})
    queries, scans = _count_calls("Query"), _count_calls("Scan")

    assert sorted(rooms.members("big")) == ids
    assert len(queries) >= 5  # 30 members at 7 a page
    assert scans == []


def test_history_returns_the_newest_messages_oldest_first(table: str) -> None:
    connections.put("A=")
    rooms.join("A=", "lobby")
    for n in range(60):
        rooms.remember("lobby", {"n": n, "ts": 1_700_000_000_000 + n})
    queries = _count_calls("Query")

    recent = rooms.history("lobby", limit=50)

    assert [message["n"] for message in recent] == list(range(10, 60))
    assert len(queries) == 1
    assert [m["n"] for m in rooms.history("lobby", limit=3)] == [57, 58, 59]
    assert rooms.history("other") == []
    assert rooms.members("lobby") == ["A="]


def test_publish_reaches_members_except_the_excluded_and_remembers(
    table: str, mgmt: ManagementStub
) -> None:
    for cid in ("A=", "B=", "C="):
        connections.put(cid)
        rooms.join(cid, "lobby")
        mgmt.connect(cid)
    connections.put("D=")  # connected, but not in the room
    mgmt.connect("D=")

    report = rooms.publish(
        "lobby",
        {"type": "message", "text": "hi"},
        exclude=["A="],
        remember=True,
        endpoint=mgmt.endpoint,
    )

    assert sorted(report.delivered) == ["B=", "C="]
    assert set(mgmt.received) == {"B=", "C="}
    (stored,) = rooms.history("lobby")
    assert stored["text"] == "hi" and isinstance(stored["ts"], int) and stored["id"]
    assert mgmt.received["B="] == [wsgate.messaging.encode(stored)]


def test_publish_uses_the_endpoint_from_the_environment(
    table: str, mgmt: ManagementStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WSGATE_ENDPOINT", mgmt.endpoint)
    connections.put("A=")
    rooms.join("A=", "lobby")
    mgmt.connect("A=")
    assert rooms.publish("lobby", "hello").delivered == ["A="]


def test_publish_removes_gone_members_from_the_room(table: str, mgmt: ManagementStub) -> None:
    for cid in ("A=", "B="):
        connections.put(cid, connected_at=int(time.time() * 1000) - 60_000)
        rooms.join(cid, "lobby")
    mgmt.connect("A=")
    mgmt.disconnect("B=")
    report = rooms.publish("lobby", "hi", endpoint=mgmt.endpoint)
    assert (report.delivered, report.gone) == (["A="], ["B="])
    assert rooms.members("lobby") == ["A="]
    assert connections.get("B=") is None


def test_concurrent_join_leave_and_disconnect_leave_no_orphan_membership(table: str) -> None:
    ids = [f"c{i:02d}=" for i in range(16)]
    room_names = ["r1", "r2", "r3"]
    for cid in ids:
        connections.put(cid)
    errors: list[BaseException] = []
    start = threading.Barrier(len(ids) + 1)

    def member(cid: str, seed: int) -> None:
        rng = random.Random(seed)
        start.wait()
        try:
            for _ in range(10):
                room = rng.choice(room_names)
                # Gone: the join raced the disconnect and was refused, as it should be.
                with contextlib.suppress(Gone):
                    (rooms.join if rng.random() < 0.7 else rooms.leave)(cid, room)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def disconnecter() -> None:
        start.wait()
        try:
            for cid in ids[::2]:
                connections.delete(cid)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=member, args=(cid, n)) for n, cid in enumerate(ids)]
    threads.append(threading.Thread(target=disconnecter))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []

    items = all_items()
    alive = {
        i["pk"].removeprefix("conn#"): set(i.get("rooms", [])) for i in items if i["sk"] == "meta"
    }
    memberships = {
        (i["pk"].removeprefix("room#"), i["sk"].removeprefix("conn#"))
        for i in items
        if i["pk"].startswith("room#") and i["sk"].startswith("conn#")
    }
    assert set(alive) == set(ids[1::2])
    expected: set[Any] = {(room, cid) for cid, joined in alive.items() for room in joined}
    assert memberships == expected
    for room in room_names:
        assert set(rooms.members(room)) == {cid for r, cid in memberships if r == room}


def test_a_message_too_large_to_send_is_not_remembered(table: str, mgmt: ManagementStub) -> None:
    connections.put("A=")
    rooms.join("A=", "lobby")
    with pytest.raises(wsgate.SendTooLarge):
        rooms.publish("lobby", {"text": "x" * 131_060}, remember=True, endpoint=mgmt.endpoint)
    assert rooms.history("lobby") == []
    assert mgmt.requests == []


def test_history_keeps_str_messages_as_they_were_sent(table: str, mgmt: ManagementStub) -> None:
    for cid in ("A=", "B="):
        connections.put(cid)
        rooms.join(cid, "lobby")
        mgmt.connect(cid)
    assert rooms.remember("lobby", "plain text") == "plain text"
    report = rooms.publish("lobby", '{"already": "json"}', remember=True, endpoint=mgmt.endpoint)
    assert sorted(report.delivered) == ["A=", "B="]
    assert mgmt.received["B="] == [b'{"already": "json"}']
    rooms.remember("lobby", {"text": "a dict"})
    history = rooms.history("lobby")
    assert history[:2] == ["plain text", '{"already": "json"}']
    assert history[2]["text"] == "a dict" and {"ts", "id"} <= set(history[2])
    assert rooms.history("lobby", limit=1) == [history[2]]


def test_remember_refuses_what_it_cannot_give_back(table: str) -> None:
    with pytest.raises(TypeError, match="dict or str messages, not bytes"):
        rooms.remember("lobby", b"raw")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="dict or str messages, not list"):
        rooms.publish("lobby", [1, 2], remember=True)
    assert rooms.history("lobby") == []
