"""send, broadcast, close and info against a real @connections server with a stock boto3 client."""

from __future__ import annotations

import json
import time

import pytest
import wsgate
from mgmt_stub import ManagementStub, all_items, clean_env_fixture, mgmt_fixture, table_fixture  # noqa: F401
from wsgate import _clients, metrics, store
from wsgate.context import current_lambda_context
from wsgate.errors import Gone, SendFailed, SendTooLarge


def a_minute_ago() -> int:
    return int(time.time() * 1000) - 60_000


def test_dict_is_sent_as_compact_json_str_as_utf8_and_bytes_raw(mgmt: ManagementStub) -> None:
    mgmt.connect("A=")
    wsgate.send("A=", {"type": "hello", "name": "zoë"}, endpoint=mgmt.endpoint)
    wsgate.send("A=", "héllo", endpoint=mgmt.endpoint)
    wsgate.send("A=", b"\x00\xff", endpoint=mgmt.endpoint)
    assert mgmt.received["A="] == [
        '{"type":"hello","name":"zoë"}'.encode(),
        "héllo".encode(),
        b"\x00\xff",
    ]


def test_131072_bytes_are_sent_and_131073_refused_before_any_call(mgmt: ManagementStub) -> None:
    mgmt.connect("A=")
    wsgate.send("A=", b"x" * 131_072, endpoint=mgmt.endpoint)
    assert len(mgmt.received["A="][0]) == 131_072

    with pytest.raises(SendTooLarge):
        wsgate.send("A=", "x" * 131_073, endpoint=mgmt.endpoint)
    with pytest.raises(SendTooLarge):
        wsgate.broadcast(["A="], {"text": "é" * 65_536}, endpoint=mgmt.endpoint)
    assert mgmt.calls("A=") == 1


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_nan_or_infinity_is_refused_before_any_call_instead_of_sent_as_invalid_json(
    mgmt: ManagementStub, value: float
) -> None:
    mgmt.connect("A=")
    with pytest.raises(ValueError, match="NaN or Infinity"):
        wsgate.send("A=", {"score": value}, endpoint=mgmt.endpoint)
    assert mgmt.calls("A=") == 0


def test_throttled_send_is_retried_and_delivered_exactly_once(mgmt: ManagementStub) -> None:
    mgmt.connect("A=")
    mgmt.script("A=", 429)
    wsgate.send("A=", {"n": 1}, endpoint=mgmt.endpoint)
    assert mgmt.received["A="] == [b'{"n":1}']
    assert mgmt.calls("A=") == 2
    assert metrics.pending()["Retries"] == 1
    assert metrics.pending()["MessagesSent"] == 1


def test_server_errors_are_retried_until_the_send_goes_through(mgmt: ManagementStub) -> None:
    mgmt.connect("A=")
    mgmt.script("A=", 500, 503)
    wsgate.send("A=", "hi", endpoint=mgmt.endpoint)
    assert mgmt.received["A="] == [b"hi"]
    assert metrics.pending()["Retries"] == 2


class RemainingTime:
    """A Lambda context whose invocation has ``ms`` milliseconds left."""

    def __init__(self, ms: int) -> None:
        self.deadline = time.monotonic() + ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def test_throttling_is_retried_past_four_attempts_while_the_invocation_has_time(
    mgmt: ManagementStub,
) -> None:
    mgmt.connect("A=")
    mgmt.script("A=", *[429] * 6, 500)
    token = current_lambda_context.set(RemainingTime(20_000))
    try:
        wsgate.send("A=", "hi", endpoint=mgmt.endpoint)
    finally:
        current_lambda_context.reset(token)
    assert mgmt.received["A="] == [b"hi"]
    assert mgmt.calls("A=") == 8
    assert metrics.pending()["Retries"] == 7


def test_persistent_throttling_gives_up_with_send_failed_before_the_invocation_ends(
    mgmt: ManagementStub,
) -> None:
    mgmt.connect("A=")
    mgmt.script("A=", *[429] * 1000)
    context = RemainingTime(2_000)  # retries stop 1 s + 10% before the end
    token = current_lambda_context.set(context)
    try:
        with pytest.raises(SendFailed, match=r"LimitExceededException after \d+ attempts"):
            wsgate.send("A=", "hi", endpoint=mgmt.endpoint)
    finally:
        current_lambda_context.reset(token)
    assert context.get_remaining_time_in_millis() > 0  # the handler still has time to answer
    assert "A=" not in mgmt.received
    assert 1 <= mgmt.calls("A=") < 1000
    assert metrics.pending()["MessagesFailed"] == 1


def test_broadcast_reports_exactly_which_connections_failed(mgmt: ManagementStub) -> None:
    mgmt.connect("A=", "B=", "C=")
    mgmt.script("B=", *[429] * 1000)
    token = current_lambda_context.set(RemainingTime(1_500))
    try:
        report = wsgate.broadcast(["A=", "B=", "C="], "hi", endpoint=mgmt.endpoint)
    finally:
        current_lambda_context.reset(token)
    assert sorted(report.delivered) == ["A=", "C="]
    assert list(report.failed) == ["B="]
    assert report.failed["B="].startswith("LimitExceededException after")
    assert not report.complete


def test_gone_is_raised_without_retrying(mgmt: ManagementStub) -> None:
    mgmt.disconnect("A=")
    with pytest.raises(Gone) as caught:
        wsgate.send("A=", "hi", endpoint=mgmt.endpoint)
    assert caught.value.connection_id == "A="
    assert mgmt.calls("A=") == 1
    assert "Retries" not in metrics.pending()
    assert metrics.pending()["MessagesGone"] == 1


def test_gone_connection_is_removed_from_the_store_and_all_its_rooms(
    mgmt: ManagementStub, table: str
) -> None:
    for cid in ("A=", "B="):
        wsgate.connections.put(cid, connected_at=a_minute_ago())
        wsgate.rooms.join(cid, "lobby")
        wsgate.rooms.join(cid, "games")
    mgmt.connect("B=")
    mgmt.disconnect("A=")

    with pytest.raises(Gone):
        wsgate.send("A=", "hi", endpoint=mgmt.endpoint)

    assert wsgate.connections.get("A=") is None
    assert wsgate.rooms.members("lobby") == ["B="]
    assert wsgate.rooms.members("games") == ["B="]
    assert not [item for item in all_items() if "A=" in item["pk"] + item["sk"]]


def test_gone_answer_during_connect_does_not_forget_the_new_connection(
    mgmt: ManagementStub, table: str
) -> None:
    # API Gateway answers 410 until $connect has returned and the handshake has completed.
    wsgate.connections.put("A=")
    wsgate.rooms.join("A=", "lobby")
    mgmt.disconnect("A=")
    with pytest.raises(Gone):
        wsgate.send("A=", "too early", endpoint=mgmt.endpoint)
    assert wsgate.rooms.members("lobby") == ["A="]
    assert wsgate.connections.get("A=") is not None


def test_unknown_connection_id_gives_an_error_that_says_why(mgmt: ManagementStub) -> None:
    with pytest.raises(SendFailed, match="never existed") as caught:
        wsgate.send("never-seen=", "hi", endpoint=mgmt.endpoint)
    assert "ManageConnections" in str(caught.value)
    assert mgmt.calls("never-seen=") == 1


def test_close_disconnects_and_is_idempotent(mgmt: ManagementStub) -> None:
    mgmt.connect("A=")
    assert wsgate.close("A=", endpoint=mgmt.endpoint) is True
    assert "A=" in mgmt.gone
    assert wsgate.close("A=", endpoint=mgmt.endpoint) is False
    with pytest.raises(Gone):
        wsgate.send("A=", "hi", endpoint=mgmt.endpoint)


def test_info_describes_the_connection_in_wire_format(mgmt: ManagementStub) -> None:
    mgmt.connect("A=")
    described = wsgate.info("A=", endpoint=mgmt.endpoint)
    assert described == {
        "connectedAt": "2026-11-23T02:00:00Z",
        "lastActiveAt": "2026-11-23T02:01:00Z",
        "identity": {"sourceIp": "127.0.0.1", "userAgent": "pytest"},
    }
    json.dumps(described)  # a handler can send it back as is
    mgmt.disconnect("A=")
    with pytest.raises(Gone):
        wsgate.info("A=", endpoint=mgmt.endpoint)


def test_broadcast_skips_excluded_ids_and_sends_each_id_once(mgmt: ManagementStub) -> None:
    mgmt.connect("A=", "B=", "C=")
    report = wsgate.broadcast(
        ["A=", "B=", "A=", "C=", "B="], {"t": 1}, exclude=["C="], endpoint=mgmt.endpoint
    )
    assert report.delivered == ["A=", "B="]
    assert report.gone == [] and report.failed == {}
    assert mgmt.received == {"A=": [b'{"t":1}'], "B=": [b'{"t":1}']}


def test_broadcast_reports_failures_per_connection_without_raising(mgmt: ManagementStub) -> None:
    mgmt.connect("A=", "B=")
    mgmt.script("B=", *[429] * 1000)
    mgmt.script("A=", 500)
    token = current_lambda_context.set(RemainingTime(1_500))
    try:
        report = wsgate.broadcast(["A=", "B=", "nobody="], "hi", endpoint=mgmt.endpoint)
    finally:
        current_lambda_context.reset(token)
    assert report.delivered == ["A="]
    assert set(report.failed) == {"B=", "nobody="}
    assert "LimitExceededException" in report.failed["B="]
    assert "never existed" in report.failed["nobody="]
    assert metrics.pending()["Retries"] == mgmt.calls("A=") - 1 + mgmt.calls("B=") - 1


def test_broadcast_to_1000_with_5_percent_gone_reports_and_removes_exactly_those(
    mgmt: ManagementStub, table: str
) -> None:
    ids = [f"conn{i:04d}=" for i in range(1000)]
    gone = set(ids[::20])
    # Seeded in batches of 25 to keep the test quick; connections.put writes the same items.
    seed = [
        {
            "PutRequest": {
                "Item": {
                    **store.connection_key(cid),
                    **store.to_dynamodb(
                        {"connectionId": cid, "connectedAt": a_minute_ago(), "data": {}}
                    ),
                }
            }
        }
        for cid in ids
    ]
    for start in range(0, len(seed), 25):
        _clients.dynamodb_client().batch_write_item(RequestItems={table: seed[start : start + 25]})
    for cid in ids:
        (mgmt.disconnect if cid in gone else mgmt.connect)(cid)

    report = wsgate.broadcast(ids, {"type": "news"}, endpoint=mgmt.endpoint, max_workers=16)

    assert len(gone) == 50
    assert set(report.gone) == gone and len(report.gone) == 50
    assert set(report.delivered) == set(ids) - gone and len(report.delivered) == 950
    assert report.failed == {}
    assert all(mgmt.received[cid] == [b'{"type":"news"}'] for cid in report.delivered)
    stored = {item["connectionId"] for item in all_items()}
    assert stored == set(ids) - gone
    counters = metrics.pending()
    assert (counters["MessagesSent"], counters["MessagesGone"]) == (950, 50)
