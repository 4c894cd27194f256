"""Broadcast to everyone with connections.all(), and rooms that remember str messages: through
the local gateway, with real WebSocket clients."""

from __future__ import annotations

import json
import time

import pytest
from local_support import ROOT

APP = """
import wsgate

app = wsgate.App()


@app.route("shout")
def shout(event):
    report = wsgate.broadcast(wsgate.connections.all(), event.json["text"])
    event.send({"reached": len(report.delivered)})


@app.route("note")
def note(event):
    wsgate.rooms.join(event.connection_id, "notes")
    wsgate.rooms.publish("notes", event.json["text"], remember=True)


@app.route("notes")
def notes(event):
    return {"history": wsgate.rooms.history("notes")}
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(APP)
    (tmp_path / "main.tf").write_text(
        f'module "ws" {{\n  source = "{ROOT}"\n  name = "everyone"\n'
        '  source_dir = "${path.module}/src"\n  routes = ["shout", "note", "notes"]\n'
        '  two_way_routes = ["notes"]\n}\n'
    )
    return tmp_path


def test_broadcast_to_every_connection_and_str_history(project, wsgate_gateway):
    gw = wsgate_gateway(project, quiet=True)
    with gw.connect() as a, gw.connect() as b, gw.connect() as c:
        a.send_json({"action": "shout", "text": "everyone!"})
        for client in (a, b, c):
            assert client.recv() == "everyone!"
        assert a.recv_json() == {"reached": 3}
        b.close()
        # b has left: two are reached (had its $disconnect not run yet, b would count as gone)
        a.send_json({"action": "shout", "text": "who is left?"})
        assert c.recv() == "who is left?"
        assert a.recv() == "who is left?"
        assert a.recv_json() == {"reached": 2}

        a.send_json({"action": "note", "text": "plain words"})
        assert a.recv() == "plain words"
        c.send_json({"action": "note", "text": json.dumps({"as": "json text"})})
        assert json.loads(c.recv()) == {"as": "json text"}
        c.send_json({"action": "notes"})
        assert c.recv_json() == {"history": ["plain words", '{"as": "json text"}']}


def test_publish_counts_a_member_that_never_lived_as_gone_and_removes_it(
    project, wsgate_gateway, monkeypatch
):
    import wsgate

    gw = wsgate_gateway(project, quiet=True)
    for name, value in gw.env().items():
        monkeypatch.setenv(name, value)
    never = "NeverLived0000A="  # API Gateway's id format, but no such connection
    with gw.connect() as client:
        client.send_json({"action": "note", "text": "joining"})
        assert client.recv() == "joining"
        # stored a minute ago: past the grace in which a 410 may mean "still in $connect"
        wsgate.connections.put(never, connected_at=int(time.time() * 1000) - 60_000)
        wsgate.rooms.join(never, "notes")
        [live] = gw.connection_ids()
        report = wsgate.rooms.publish("notes", "to everyone in notes")
        assert client.recv() == "to everyone in notes"
    assert (report.delivered, report.gone, report.failed) == ([live], [never], {})
    assert never not in wsgate.rooms.members("notes")
    assert wsgate.connections.get(never) is None
