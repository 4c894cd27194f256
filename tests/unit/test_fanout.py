"""Fan-out publish: shards started as Lambda Event invocations and run by the App's handler.

The runtime's Invoke calls are captured from its stock boto3 client (``fanout_harness``) and the
captured events are fed to the handler the way Lambda's asynchronous queue would run them,
including again (a retry, or the duplicate delivery Lambda allows). DynamoDB is moto; the
@connections API is a real HTTP server, so every message each member receives is counted.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
import wsgate
from fanout_harness import FUNCTION, Context, Invocations, invocations_fixture  # noqa: F401
from mgmt_stub import ManagementStub, all_items, clean_env_fixture, mgmt_fixture, table_fixture  # noqa: F401
from wsgate import _clients, fanout, messaging, metrics
from wsgate.compat import zappa
from wsgate.errors import ConfigurationError

shard_module = importlib.import_module("wsgate._shard")
app = wsgate.App()


def members(mgmt: ManagementStub, count: int, room: str = "big", prefix: str = "m") -> list[str]:
    """``count`` connections, open on the @connections server, stored, and in ``room``."""
    ids = [f"{prefix}{i:04d}=" for i in range(count)]
    mgmt.connect(*ids)
    for cid in ids:
        wsgate.connections.put(cid)
        wsgate.rooms.join(cid, room)
    return ids


def copies(mgmt: ManagementStub, ids: list[str]) -> dict[str, int]:
    """How many copies each of ``ids`` received."""
    return {cid: len(mgmt.received.get(cid, [])) for cid in ids}


@pytest.fixture(autouse=True)
def small_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WSGATE_FANOUT_SHARD_SIZE", "50")
    monkeypatch.setattr(shard_module, "CHECKPOINT_EVERY", 10)


def test_a_room_above_the_threshold_is_sent_by_one_shard_per_page(
    table: str, mgmt: ManagementStub, invocations: Invocations
) -> None:
    ids = members(mgmt, 230)
    report = wsgate.rooms.publish(
        "big", {"text": "hi"}, endpoint=mgmt.endpoint, fanout_threshold=20
    )

    assert isinstance(report, wsgate.FanoutReport) and report.pending and not report.complete
    assert (report.shards, report.recipients, report.delivered, report.failed) == (5, 230, [], {})
    assert [c["type"] for c in invocations.calls] == ["Event"] * 5
    assert {c["function"] for c in invocations.calls} == {FUNCTION}
    shards = [c["payload"]["wsgate"]["shard"] for c in invocations.calls]
    assert sorted(s["n"] for s in shards) == [0, 1, 2, 3, 4]
    assert sorted(cid for s in shards for cid in s["ids"]) == ids  # each member in one shard
    assert all(len(s["ids"]) <= 50 and s["publish"] == report.id for s in shards)
    assert shards[0]["message"] == {"text": '{"text":"hi"}'}
    assert mgmt.received == {}  # the caller sent nothing itself

    answers = invocations.run(app)

    assert [a["state"] for a in answers] == ["done"] * 5
    assert copies(mgmt, ids) == dict.fromkeys(ids, 1)
    assert mgmt.received[ids[0]] == [b'{"text":"hi"}']
    status = wsgate.fanout.report(report.id)
    assert status is not None and status.finished and status.pending == 0
    assert (status.delivered, status.gone, status.failed, status.shards_done) == (230, 0, 0, 5)
    assert (status.target, status.recipients) == ("room:big", 230)


def test_up_to_the_threshold_a_publish_stays_inline_and_invokes_nothing(
    table: str, mgmt: ManagementStub, invocations: Invocations, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = members(mgmt, 30)
    report = wsgate.rooms.publish("big", "hi", endpoint=mgmt.endpoint, fanout_threshold=30)
    assert type(report) is wsgate.BroadcastReport and sorted(report.delivered) == ids
    monkeypatch.setenv("WSGATE_FANOUT_THRESHOLD", "29")  # the variable the module sets
    assert isinstance(
        wsgate.rooms.publish("big", "again", endpoint=mgmt.endpoint), wsgate.FanoutReport
    )
    assert len(invocations.calls) == 1


def test_the_caller_reads_members_page_by_page_with_ids_only(
    table: str, mgmt: ManagementStub, invocations: Invocations
) -> None:
    members(mgmt, 120)
    queries: list[dict[str, Any]] = []
    _clients.dynamodb_client().meta.events.register(
        "provide-client-params.dynamodb.Query", lambda params, **kw: queries.append(dict(params))
    )
    wsgate.rooms.publish("big", "hi", endpoint=mgmt.endpoint, fanout_threshold=20)
    assert [q["Limit"] for q in queries] == [21, 50, 50]  # enough to decide, then a shard each
    assert all(q["ProjectionExpression"] == "connectionId, #ttl" for q in queries)
    assert all(q["ConsistentRead"] for q in queries)


def test_a_shard_run_twice_sends_nothing_the_second_time(
    table: str, mgmt: ManagementStub, invocations: Invocations
) -> None:
    ids = members(mgmt, 100)
    report = wsgate.rooms.publish("big", "once", endpoint=mgmt.endpoint, fanout_threshold=10)
    events = invocations.take()
    for event in events + events:  # Lambda may deliver any event twice
        app(event, None)
    assert copies(mgmt, ids) == dict.fromkeys(ids, 1)
    assert [app(e, None)["state"] for e in events] == ["already_done", "already_done"]
    status = wsgate.fanout.report(report.id)
    assert status is not None and (status.delivered, status.shards_done) == (100, 2)


def test_a_shard_that_fails_midway_resumes_on_its_retry_with_no_duplicate_and_no_loss(
    table: str, mgmt: ManagementStub, invocations: Invocations, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = members(mgmt, 50)
    wsgate.rooms.publish("big", "hi", endpoint=mgmt.endpoint, fanout_threshold=10)
    [event] = invocations.take()
    real, steps = messaging.send_all, []

    def failing(*args: Any, **kwargs: Any) -> None:
        steps.append(1)
        if len(steps) == 3:
            raise RuntimeError("injected failure in the third step")
        real(*args, **kwargs)

    monkeypatch.setattr(shard_module, "send_all", failing)
    with pytest.raises(RuntimeError, match="injected"):  # a function error: Lambda retries
        app(event, None)
    assert sum(copies(mgmt, ids).values()) == 20  # two steps of ten went out
    monkeypatch.setattr(shard_module, "send_all", real)

    assert app(event, None)["state"] == "done"  # the retry, at once: the lease was released
    assert copies(mgmt, ids) == dict.fromkeys(ids, 1)


def test_a_shard_whose_process_died_resends_at_most_the_step_in_flight(
    table: str, mgmt: ManagementStub, invocations: Invocations, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = members(mgmt, 50)
    report = wsgate.rooms.publish("big", "hi", endpoint=mgmt.endpoint, fanout_threshold=10)
    [event] = invocations.take()
    real, steps = messaging.send_all, []

    class Died(BaseException):
        """The process ends here: no handler code runs after it (no except, no finally)."""

    def dying(posting: Any, targets: list[str], *args: Any, **kwargs: Any) -> None:
        steps.append(1)
        if len(steps) == 3:
            real(posting, targets[:6], *args, **kwargs)  # six of the step's ten went out
            raise Died
        real(posting, targets, *args, **kwargs)

    monkeypatch.setattr(shard_module, "send_all", dying)
    with pytest.raises(Died):
        app(event, None)
    monkeypatch.setattr(shard_module, "send_all", real)

    # Lambda's retry comes a minute later; one that came sooner finds the lease still held.
    with pytest.raises(shard_module.ShardBusy):
        app(event, None)
    later = shard_module._now_ms() + int(shard_module.lease_seconds() * 1000) + 1
    monkeypatch.setattr(shard_module, "_now_ms", lambda: later)
    assert app(event, None)["state"] == "done"

    received = copies(mgmt, ids)
    assert set(received.values()) <= {1, 2} and all(received.values())  # no one missed it
    duplicated = [cid for cid, n in received.items() if n == 2]
    assert duplicated == ids[20:26]  # exactly what the dead step had sent: within one step
    assert len(duplicated) <= shard_module.CHECKPOINT_EVERY
    status = wsgate.fanout.report(report.id)
    assert status is not None and status.finished and status.delivered == 50


def test_a_shard_short_of_time_hands_the_rest_to_a_new_invocation(
    table: str, mgmt: ManagementStub, invocations: Invocations
) -> None:
    ids = members(mgmt, 50)
    report = wsgate.rooms.publish("big", "hi", endpoint=mgmt.endpoint, fanout_threshold=10)
    [event] = invocations.take()
    # Plenty of time for the first two steps, then less than the hand-off margin.
    answer = app(event, Context(60_000, 60_000, 60_000, 2_000))
    assert answer["state"] == "handed_off" and 0 < answer["delivered"] < 50
    [follow] = invocations.take()
    assert follow["wsgate"]["shard"]["hop"] == 1
    assert {**follow["wsgate"]["shard"], "hop": 0} == event["wsgate"]["shard"]
    assert app(follow, Context(60_000))["state"] == "done"
    assert copies(mgmt, ids) == dict.fromkeys(ids, 1)
    status = wsgate.fanout.report(report.id)
    assert status is not None and status.finished and status.delivered == 50


def test_a_message_too_large_for_the_events_is_stored_once(
    table: str, mgmt: ManagementStub, invocations: Invocations, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fanout, "MAX_EVENT_BYTES", 6000)
    ids = members(mgmt, 120)
    data = bytes(range(256)) * 16  # 4 KB of binary: base64 in an event would not fit
    report = wsgate.rooms.publish("big", data, endpoint=mgmt.endpoint, fanout_threshold=10)
    assert all(c["size"] <= 6000 for c in invocations.calls)
    assert {json.dumps(c["payload"]["wsgate"]["shard"]["message"]) for c in invocations.calls} == {
        '{"stored": true}'
    }
    stored = [i for i in all_items() if i["pk"] == f"fanout#{report.id}" and i["sk"] == "message"]
    assert len(stored) == 1 and stored[0]["data"] == data and stored[0]["ttl"] > 0
    invocations.run(app)
    assert {cid: mgmt.received[cid] for cid in ids} == {cid: [data] for cid in ids}


def test_a_small_binary_message_travels_in_the_event(
    table: str, mgmt: ManagementStub, invocations: Invocations
) -> None:
    ids = members(mgmt, 20)
    wsgate.rooms.publish("big", b"\xff\x00", endpoint=mgmt.endpoint, fanout_threshold=5)
    assert invocations.calls[0]["payload"]["wsgate"]["shard"]["message"] == {"b64": "/wA="}
    invocations.run(app)
    assert {cid: mgmt.received[cid] for cid in ids} == {cid: [b"\xff\x00"] for cid in ids}


def test_gone_members_are_counted_and_removed_by_their_shard(
    table: str, mgmt: ManagementStub, invocations: Invocations
) -> None:
    ids = members(mgmt, 60)
    mgmt.disconnect(*ids[:7])
    for cid in ids[:7]:  # recorded long enough ago to be past the $connect grace
        wsgate.connections.put(cid, connected_at=1)
    report = wsgate.rooms.publish("big", "hi", endpoint=mgmt.endpoint, fanout_threshold=10)
    invocations.run(app)
    status = wsgate.fanout.report(report.id)
    assert status is not None and (status.delivered, status.gone, status.failed) == (53, 7, 0)
    assert sorted(wsgate.rooms.members("big")) == ids[7:]


def test_exclude_applies_before_the_shards_are_made(
    table: str, mgmt: ManagementStub, invocations: Invocations
) -> None:
    ids = members(mgmt, 40)
    report = wsgate.rooms.publish(
        "big", "hi", endpoint=mgmt.endpoint, fanout_threshold=5, exclude=ids[:3]
    )
    assert report.recipients == 37
    invocations.run(app)
    assert copies(mgmt, ids) == {cid: (0 if cid in ids[:3] else 1) for cid in ids}


def test_broadcast_all_reaches_every_connection_once(
    table: str, mgmt: ManagementStub, invocations: Invocations
) -> None:
    ids = members(mgmt, 130, room="a") + members(mgmt, 10, room="b", prefix="x")
    report = wsgate.broadcast_all("to all", endpoint=mgmt.endpoint, fanout_threshold=30)
    assert isinstance(report, wsgate.FanoutReport) and report.recipients == 140
    invocations.run(app)
    assert copies(mgmt, ids) == dict.fromkeys(ids, 1)
    status = wsgate.fanout.report(report.id)
    assert status is not None and status.target == "all" and status.delivered == 140
    inline = wsgate.broadcast_all("small", endpoint=mgmt.endpoint, exclude=ids[:100])
    assert sorted(inline.delivered) == sorted(ids[100:])


def test_broadcast_of_a_long_id_list_fans_out(
    table: str, mgmt: ManagementStub, invocations: Invocations
) -> None:
    ids = [f"b{i:03d}=" for i in range(75)]
    mgmt.connect(*ids)
    report = wsgate.broadcast(ids + ids[:5], "hi", endpoint=mgmt.endpoint, fanout_threshold=50)
    assert isinstance(report, wsgate.FanoutReport) and (report.shards, report.recipients) == (2, 75)
    invocations.run(app)
    assert copies(mgmt, ids) == dict.fromkeys(ids, 1)


def test_one_metric_line_per_publish_when_its_last_shard_finishes(
    table: str, mgmt: ManagementStub, invocations: Invocations, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines: list[str] = []
    monkeypatch.setattr(metrics, "writer", lines.append)
    members(mgmt, 150)
    wsgate.rooms.publish("big", "hi", endpoint=mgmt.endpoint, fanout_threshold=10)
    events = invocations.take()
    for event in reversed(events + events):
        app(event, None)
    publish_lines = [json.loads(line) for line in lines if "FanoutDelivered" in line]
    assert len(publish_lines) == 1
    [line] = publish_lines
    assert (line["FanoutDelivered"], line["FanoutShards"], line["FanoutRecipients"]) == (
        150,
        3,
        150,
    )
    assert line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "wsgate"
    shard_lines = [json.loads(line) for line in lines if "MessagesSent" in line]
    assert sum(line["MessagesSent"] for line in shard_lines) == 150


def test_a_shard_that_cannot_be_started_is_reported_with_its_ids(
    table: str, mgmt: ManagementStub, invocations: Invocations
) -> None:
    ids = members(mgmt, 100)
    invocations.fail_next = 1  # one Invoke call answers 500 (an answer given in before-call
    # is final: botocore's own retries, which would try it again, are not part of this test)
    report = wsgate.rooms.publish("big", "hi", endpoint=mgmt.endpoint, fanout_threshold=10)
    assert report.shards == 1 and len(report.failed) == 50 and not report.complete
    assert all(reason.startswith("shard not started") for reason in report.failed.values())
    invocations.run(app)
    assert sum(copies(mgmt, ids).values()) == 50
    status = wsgate.fanout.report(report.id)
    assert status is not None and status.finished
    assert (status.delivered, status.failed, status.shards) == (50, 50, 2)


def test_the_zappa_handler_runs_shards_too(
    table: str, mgmt: ManagementStub, invocations: Invocations
) -> None:
    ids = members(mgmt, 30)
    wsgate.rooms.publish("big", "hi", endpoint=mgmt.endpoint, fanout_threshold=10)
    assert [a["state"] for a in invocations.run(zappa.handler)] == ["done"]
    assert copies(mgmt, ids) == dict.fromkeys(ids, 1)


def test_the_class_form_runs_shards_too(
    table: str, mgmt: ManagementStub, invocations: Invocations
) -> None:
    class Chat(wsgate.WebSocketHandler):
        pass

    ids = members(mgmt, 30)
    wsgate.rooms.publish("big", "hi", endpoint=mgmt.endpoint, fanout_threshold=10)
    assert [a["state"] for a in invocations.run(Chat())] == ["done"]
    assert copies(mgmt, ids) == dict.fromkeys(ids, 1)


def test_a_malformed_shard_event_is_logged_and_not_retried(table: str) -> None:
    answer = app({"wsgate": {"shard": {"v": 1, "ids": "nope"}}}, None)
    assert answer["state"] == "invalid"
    assert app({"wsgate": {"shard": {"v": 99}}}, None)["state"] == "invalid"


def test_without_a_function_to_fan_out_to_a_large_broadcast_is_sent_inline(
    table: str, mgmt: ManagementStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WSGATE_FANOUT_FUNCTION", raising=False)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    ids = members(mgmt, 30)
    report = wsgate.rooms.publish("big", "hi", endpoint=mgmt.endpoint, fanout_threshold=5)
    assert type(report) is wsgate.BroadcastReport and sorted(report.delivered) == ids


def test_the_dispatchers_own_name_is_the_fallback_target(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WSGATE_FANOUT_FUNCTION", raising=False)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "chat")
    assert fanout.function_name() == "chat"
    monkeypatch.setenv("WSGATE_FANOUT_FUNCTION", "other")
    assert fanout.function_name() == "other"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WSGATE_FANOUT_THRESHOLD", "many"),
        ("WSGATE_FANOUT_THRESHOLD", "-1"),
        ("WSGATE_FANOUT_SHARD_SIZE", "0"),
        ("WSGATE_FANOUT_SHARD_SIZE", "5001"),
    ],
)
def test_a_bad_setting_is_refused_with_the_fix(
    table: str, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=name):
        wsgate.rooms.publish(
            "big", "hi", endpoint="https://x.execute-api.us-east-1.amazonaws.com/dev"
        )
    with pytest.raises(ConfigurationError, match="fanout_threshold"):
        messaging.fanout_limit(-3)


def test_an_unknown_publish_has_no_report(table: str) -> None:
    assert wsgate.fanout.report("0" * 32) is None


def test_the_lambda_client_takes_its_endpoint_from_aws_endpoint_url_lambda(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", "http://127.0.0.1:9/")
    _clients.reset()
    assert _clients.lambda_client().meta.endpoint_url == "http://127.0.0.1:9/"
