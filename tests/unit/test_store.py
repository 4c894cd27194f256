"""The DynamoDB connection store (moto), as App and handlers use it through wsgate.connections."""

from __future__ import annotations

import time
import zlib

import pytest
import wsgate
from mgmt_stub import all_items, clean_env_fixture, table_fixture  # noqa: F401
from wsgate import store
from wsgate.errors import ConfigurationError, Gone

connections = wsgate.connections


def test_put_then_get_returns_what_connect_recorded(table: str) -> None:
    connections.put(
        "A=",
        connected_at=1_700_000_000_123,
        identity={"sourceIp": "203.0.113.9", "userAgent": "wscat"},
        principal="user-42",
        data={"name": "alice", "score": 1.5, "tags": ["a", "b"]},
    )
    assert connections.get("A=") == {
        "connectionId": "A=",
        "connectedAt": 1_700_000_000_123,
        "identity": {"sourceIp": "203.0.113.9", "userAgent": "wscat"},
        "principal": "user-42",
        "data": {"name": "alice", "score": 1.5, "tags": ["a", "b"]},
        "rooms": [],
    }


def test_get_of_an_unknown_connection_is_none(table: str) -> None:
    assert connections.get("nobody=") is None
    assert connections.rooms_of("nobody=") == []


def test_update_sets_user_data_and_keeps_the_rest(table: str) -> None:
    connections.put("A=", principal="p", data={"lang": "en"})
    connections.update("A=", name="alice")
    connections.update("A=", name="alicia", muted=False)
    stored = connections.get("A=")
    assert stored is not None
    assert stored["data"] == {"lang": "en", "name": "alicia", "muted": False}
    assert stored["principal"] == "p"


def test_update_of_a_disconnected_connection_raises_gone_and_writes_nothing(table: str) -> None:
    with pytest.raises(Gone):
        connections.update("nobody=", name="ghost")
    assert all_items() == []


def test_items_expire_just_after_the_two_hour_connection_limit(table: str) -> None:
    before = time.time()
    connections.put("A=")
    wsgate.rooms.join("A=", "lobby")
    for item in all_items():
        lifetime = item["ttl"] - before
        assert 2 * 3600 < lifetime <= 2 * 3600 + 3600, item


def test_delete_removes_the_connection_and_every_membership(table: str) -> None:
    connections.put("A=")
    connections.put("B=")
    for room in ("lobby", "games", "news"):
        wsgate.rooms.join("A=", room)
    wsgate.rooms.join("B=", "lobby")
    assert connections.rooms_of("A=") == ["games", "lobby", "news"]

    assert connections.delete("A=") is True

    assert connections.get("A=") is None
    assert {item["connectionId"] for item in all_items()} == {"B="}
    assert wsgate.rooms.members("lobby") == ["B="]


def test_delete_is_idempotent(table: str) -> None:
    connections.put("A=")
    assert connections.delete("A=") is True
    assert connections.delete("A=") is False
    assert connections.delete("never=") is False


def test_putting_an_id_again_keeps_its_rooms_consistent(table: str) -> None:
    connections.put("A=", data={"name": "a"})
    wsgate.rooms.join("A=", "lobby")
    connections.put("A=", data={"name": "b"})
    assert connections.rooms_of("A=") == ["lobby"]
    connections.delete("A=")
    assert all_items() == []


def test_layout_is_the_single_table_design_the_module_declares(table: str) -> None:
    connections.put("A=")
    wsgate.rooms.join("A=", "lobby")
    keys = sorted((item["pk"], item["sk"]) for item in all_items())
    shard = zlib.crc32(b"A=") % 4  # the directory entry that connections.all() reads
    assert keys == [(f"all#{shard}", "conn#A="), ("conn#A=", "meta"), ("room#lobby", "conn#A=")]


def test_without_a_table_the_error_names_the_setting() -> None:
    assert store.table_configured() is False
    with pytest.raises(ConfigurationError, match="WSGATE_TABLE"):
        connections.get("A=")


def test_table_configured_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WSGATE_TABLE", "chat-connections")
    assert store.table_configured() is True


def test_get_many_reads_every_stored_connection_in_batches(table: str) -> None:
    ids = [f"g{i:03d}=" for i in range(130)]  # more than one BatchGetItem of 100
    for n, cid in enumerate(ids):
        connections.put(cid, data={"name": f"user{n}"})
    found = connections.get_many([*ids, "missing=", ids[0]])
    assert set(found) == set(ids)
    assert found["g129="]["data"] == {"name": "user129"}
    assert connections.get_many([]) == {}


def test_all_lists_every_connection_page_by_page_with_queries_never_scans(
    table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    from wsgate import _clients

    store_module = importlib.import_module("wsgate.store")
    monkeypatch.setattr(store_module, "_DIRECTORY_PAGE", 3)
    ids = [f"all{i:02d}=" for i in range(20)]
    for cid in ids:
        wsgate.connections.put(cid)
    wsgate.rooms.join(ids[0], "lobby")
    wsgate.rooms.remember("lobby", {"text": "history is not a connection"})
    calls: list[str] = []
    client = _clients.dynamodb_client()
    for operation in ("Query", "Scan"):
        client.meta.events.register(
            f"before-call.dynamodb.{operation}", lambda op=operation, **kw: calls.append(op)
        )

    assert sorted(wsgate.connections.all()) == ids
    assert "Scan" not in calls and calls.count("Query") >= 20 // 3

    wsgate.connections.delete(ids[0])  # $disconnect: it leaves the listing too
    wsgate.connections.put(ids[1])  # putting again does not list it twice
    assert sorted(wsgate.connections.all()) == ids[1:]
    for cid in ids[1:]:
        wsgate.connections.delete(cid)
    assert wsgate.connections.all() == []
    assert [i for i in all_items() if not i["pk"].startswith("room#")] == []
