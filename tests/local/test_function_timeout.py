"""API Gateway's integration timeout and the function's own timeout are two clocks.

After ``integration_timeout_ms`` the client gets ``Endpoint request timed out``, but the
invocation runs on (Lambda cannot cancel it) until it returns or reaches the function's
``timeout``, where Lambda ends it with ``Task timed out after … seconds``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import time
import uuid

import pytest
from local_support import connect_tagged, recorder_gateway
from websockets.exceptions import InvalidStatus


@pytest.fixture(scope="module")
def clocks(tmp_path_factory):
    # integration timeout 1 s, function timeout 3 s, one worker: what runs on keeps it busy.
    gw, record = recorder_gateway(
        tmp_path_factory.mktemp("clocks"), integration_timeout_ms=1000, timeout_s=3, workers=1
    )
    console = io.StringIO()
    gw.gateway.log.stream = console
    try:
        yield gw, record, console
    finally:
        gw.stop()


def _wait_for_text(console: io.StringIO, text: str, timeout: float = 15) -> str:
    deadline = time.monotonic() + timeout
    while text not in console.getvalue():
        assert time.monotonic() < deadline, f"{text!r} not in the console:\n{console.getvalue()}"
        time.sleep(0.05)
    return console.getvalue()


def test_handler_that_outlives_the_integration_timeout_still_delivers(clocks):
    gw, record, _ = clocks
    client, cid = connect_tagged(gw, record)
    with client:
        client.send_json({"do": "sleep", "seconds": 2})
        timed_out = client.recv_json(timeout=10)
        assert timed_out["message"] == "Endpoint request timed out"
        assert timed_out["connectionId"] == cid
        # the handler wakes after the integration timeout and posts: the client gets it
        late = client.recv_json(timeout=10)
        assert late["route"] == "$default" and late["length"] > 0


def test_the_function_timeout_ends_the_invocation_with_lambdas_error(clocks):
    gw, record, console = clocks
    client, cid = connect_tagged(gw, record)
    with client:
        client.send_json({"do": "sleep", "seconds": 20})
        assert client.recv_json(timeout=10)["message"] == "Endpoint request timed out"
        text = _wait_for_text(console, "Task timed out after 3.00 seconds")
        assert "Sandbox.Timedout" in text or "function timeout" in text
        # nothing arrives from the killed invocation, and a fresh worker serves the next one
        deadline = time.monotonic() + 30
        while not gw.gateway.pool._idle:  # the replacement is starting (a cold start)
            assert time.monotonic() < deadline
            time.sleep(0.05)
        client.send_json({"do": "echo"})
        answer = client.recv_json(timeout=10)
        assert answer["route"] == "$default"
        first = record.wait_for(
            lambda e: (
                e["kind"] == "invoke"
                and e["event"]["requestContext"].get("connectionId") == cid
                and json.loads(e["event"].get("body") or "{}").get("seconds") == 20
            )
        )
        assert answer["pid"] != first["pid"]
        # the context told the handler how long Lambda would let it run
        assert 2000 < first["context"]["remaining_ms"] <= 3000


def test_waiting_for_a_busy_worker_counts_against_the_integration_timeout(clocks):
    gw, record, _ = clocks
    first, _ = connect_tagged(gw, record)
    second, _ = connect_tagged(gw, record)
    with first, second:
        first.send_json({"do": "sleep", "seconds": 2.5})  # holds the only worker
        time.sleep(0.2)
        started = time.monotonic()
        second.send_json({"do": "echo"})
        frame = second.recv_json(timeout=10)
        waited = time.monotonic() - started
        assert frame["message"] == "Endpoint request timed out"
        assert waited < 2.3  # it did not wait for the worker to come free
        assert first.recv_json(timeout=10)["message"] == "Endpoint request timed out"
        assert first.recv_json(timeout=10)["route"] == "$default"  # and the first still delivers


def _entries_tagged(record, tag: str) -> list:
    return [e for e in record.entries() if tag in json.dumps(e["event"])]


def test_a_message_that_waits_past_the_integration_timeout_never_runs_late(clocks):
    gw, record, _ = clocks
    first, _ = connect_tagged(gw, record)
    second, _ = connect_tagged(gw, record)
    tag = uuid.uuid4().hex
    with first, second:
        first.send_json({"do": "sleep", "seconds": 2.5})  # holds the only worker
        time.sleep(0.2)
        second.send_json({"do": "echo", "tag": tag})
        assert second.recv_json(timeout=10)["message"] == "Endpoint request timed out"
        assert first.recv_json(timeout=10)["message"] == "Endpoint request timed out"
        assert first.recv_json(timeout=10)["route"] == "$default"  # the worker is free again
        # API Gateway gave up on the waiting message: it is not run once a worker is free
        first.send_json({"do": "echo"})
        assert first.recv_json(timeout=10)["route"] == "$default"
        with pytest.raises(TimeoutError):
            second.recv_json(timeout=0.5)
    assert _entries_tagged(record, tag) == []


def test_a_connect_that_waits_past_the_integration_timeout_is_refused_with_504(clocks):
    gw, record, _ = clocks
    first, _ = connect_tagged(gw, record)
    tag = uuid.uuid4().hex
    with first:
        first.send_json({"do": "sleep", "seconds": 2.5})  # holds the only worker
        time.sleep(0.2)
        with pytest.raises(InvalidStatus) as refused:
            gw.connect(query={"tag": tag})
        assert refused.value.response.status_code == 504
        assert json.loads(refused.value.response.body) == {"message": "Endpoint request timed out"}
        assert first.recv_json(timeout=10)["message"] == "Endpoint request timed out"
        assert first.recv_json(timeout=10)["route"] == "$default"
        first.send_json({"do": "echo"})
        assert first.recv_json(timeout=10)["route"] == "$default"
    # $connect never ran, so nothing was stored for a connection that was never made
    assert _entries_tagged(record, tag) == []


def test_an_event_that_arrives_while_the_gateway_starts_counts_that_wait_too():
    from local_support import RECORDER
    from wsgate_local.config import load_config
    from wsgate_local.eventlog import EventLog
    from wsgate_local.invoker import Invoker

    config = dataclasses.replace(load_config(RECORDER), integration_timeout_ms=300)
    event = {"requestContext": {"requestId": "starting", "routeKey": "$default"}}

    async def scenario():
        invoker = Invoker(config, EventLog(stream=io.StringIO()))  # workers never become ready
        return await asyncio.wait_for(invoker.invoke(event), 10)

    outcome = asyncio.run(scenario())
    assert outcome.kind == "timeout"  # answered Endpoint request timed out, not left waiting


def test_a_disconnect_queued_past_the_integration_timeout_still_runs(clocks):
    gw, record, _ = clocks
    first, _ = connect_tagged(gw, record)
    second, second_id = connect_tagged(gw, record)
    with first:
        first.send_json({"do": "sleep", "seconds": 2.5})  # holds the only worker
        time.sleep(0.2)
        second.close()  # its $disconnect waits past the 1 s integration timeout
        assert first.recv_json(timeout=10)["message"] == "Endpoint request timed out"
        # nobody waits for a $disconnect's answer: it runs once the worker is free
        assert record.event(second_id, "DISCONNECT", timeout=15)
