"""The local gateway serves the Lambda Invoke API of its own function to stock boto3 clients."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from wsgate_local.async_queue import AsyncSettings
from wsgate_local.testing import RunningGateway, start_gateway

APP = Path(__file__).resolve().parent / "apps" / "selfinvoke"
QUICK_RETRIES = AsyncSettings(retry_delays=(0.05, 0.05))


def _gateway(tmp_path: Path, **overrides) -> tuple[RunningGateway, Path]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    record = tmp_path / "attempts.jsonl"
    record.touch()
    overrides.setdefault("async_settings", QUICK_RETRIES)
    gw = start_gateway(APP, environment={"SELFINVOKE_RECORD": str(record)}, **overrides)
    return gw, record


def _attempts(record: Path) -> list[dict]:
    return [json.loads(line) for line in record.read_text().splitlines() if line]


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    gw, record = _gateway(tmp_path_factory.mktemp("invoke"))
    try:
        yield gw, record
    finally:
        gw.stop()


def _payload(answer) -> object:
    return json.loads(answer["Payload"].read())


def test_request_response_returns_the_result_by_name_and_both_arns(shared):
    gw, _ = shared
    client = gw.lambda_client()
    arn = f"arn:aws:lambda:{gw.config.region}:{gw.config.account_id}:function:selfinvoke"
    for name in (
        "selfinvoke",
        f"{gw.config.account_id}:function:selfinvoke",
        arn,
        "selfinvoke:$LATEST",
    ):
        answer = client.invoke(FunctionName=name, Payload=json.dumps({"echo": name}).encode())
        assert answer["StatusCode"] == 200
        assert answer["ExecutedVersion"] == "$LATEST"
        assert "FunctionError" not in answer
        assert _payload(answer) == {"echo": name, "function": "selfinvoke"}


def test_a_raising_function_is_an_unhandled_function_error_with_lambdas_error_object(shared):
    gw, _ = shared
    answer = gw.lambda_client().invoke(
        FunctionName="selfinvoke", Payload=json.dumps({"raise": "no such order"}).encode()
    )
    assert answer["StatusCode"] == 200  # the call succeeded; the function failed
    assert answer["FunctionError"] == "Unhandled"
    error = _payload(answer)
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "no such order"
    assert any("app.py" in line for line in error["stackTrace"])


def test_log_type_tail_returns_the_invocations_report_lines(shared):
    import base64

    gw, _ = shared
    answer = gw.lambda_client().invoke(
        FunctionName="selfinvoke", Payload=b'{"echo": 1}', LogType="Tail"
    )
    tail = base64.b64decode(answer["LogResult"]).decode()
    request_id = answer["ResponseMetadata"]["RequestId"]
    assert f"START RequestId: {request_id}" in tail and f"REPORT RequestId: {request_id}" in tail


@pytest.mark.parametrize(
    "name",
    [
        "other-function",
        "arn:aws:lambda:us-east-1:999999999999:function:selfinvoke",
        "arn:aws:lambda:eu-west-3:123456789012:function:selfinvoke",
        "selfinvoke:live",
    ],
)
def test_any_other_function_is_resource_not_found(shared, name):
    gw, _ = shared
    with pytest.raises(ClientError) as caught:
        gw.lambda_client().invoke(FunctionName=name, Payload=b"{}")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert "Function not found" in caught.value.response["Error"]["Message"]


def test_dry_run_answers_204_and_runs_nothing(shared):
    gw, record = shared
    before = len(_attempts(record))
    answer = gw.lambda_client().invoke(
        FunctionName="selfinvoke",
        InvocationType="DryRun",
        Payload=json.dumps({"part": 0, "connectionId": "x"}).encode(),
    )
    assert answer["StatusCode"] == 204
    gw.wait_async(10)
    assert len(_attempts(record)) == before


def test_a_payload_that_is_not_json_is_invalid_request_content(shared):
    gw, _ = shared
    with pytest.raises(ClientError) as caught:
        gw.lambda_client().invoke(FunctionName="selfinvoke", Payload=b"{not json")
    assert caught.value.response["Error"]["Code"] == "InvalidRequestContentException"


def test_an_async_payload_over_one_megabyte_is_refused_with_request_too_large(shared):
    gw, _ = shared
    big = json.dumps({"blob": "x" * (1024 * 1024)}).encode()
    with pytest.raises(ClientError) as caught:
        gw.lambda_client().invoke(FunctionName="selfinvoke", InvocationType="Event", Payload=big)
    assert caught.value.response["Error"]["Code"] == "RequestTooLargeException"
    # synchronously the quota is 6 MB: the same payload runs
    answer = gw.lambda_client().invoke(FunctionName="selfinvoke", Payload=big)
    assert len(_payload(answer)["blob"]) == 1024 * 1024


def test_only_signed_requests_to_a_loopback_host_are_served(shared):
    gw, _ = shared
    url = f"{gw.lambda_url}/2015-03-31/functions/selfinvoke/invocations"
    unsigned = urllib.request.Request(url, data=b'{"echo": 1}', method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(unsigned, timeout=10)
    assert caught.value.code == 403
    assert "SigV4" in json.loads(caught.value.read())["Message"]
    rebound = urllib.request.Request(
        url, data=b'{"echo": 1}', method="POST", headers={"Host": "attacker.example"}
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(rebound, timeout=10)
    assert caught.value.code == 403


def test_workers_get_the_lambda_endpoint_and_the_modules_fanout_settings(shared):
    gw, _ = shared
    names = [
        "AWS_ENDPOINT_URL_LAMBDA",
        "WSGATE_FANOUT_FUNCTION",
        "AWS_LAMBDA_FUNCTION_NAME",
        "WSGATE_FANOUT_THRESHOLD",
        "WSGATE_FANOUT_SHARD_SIZE",
        "WSGATE_FANOUT_LEASE_SECONDS",
    ]
    answer = gw.lambda_client().invoke(
        FunctionName="selfinvoke", Payload=json.dumps({"env": names}).encode()
    )
    assert _payload(answer) == {
        "AWS_ENDPOINT_URL_LAMBDA": gw.lambda_url,
        "WSGATE_FANOUT_FUNCTION": "selfinvoke",
        "AWS_LAMBDA_FUNCTION_NAME": "selfinvoke",
        "WSGATE_FANOUT_THRESHOLD": "10",  # from the module block in main.tf
        "WSGATE_FANOUT_SHARD_SIZE": "5",
        # a crashed shard's lease must run out before the first local retry (0.05 s here)
        "WSGATE_FANOUT_LEASE_SECONDS": "0.04",
    }
    assert gw.env()["AWS_ENDPOINT_URL_LAMBDA"] == gw.lambda_url


def test_a_handler_that_invokes_itself_asynchronously_delivers_from_every_invocation(shared):
    gw, _ = shared
    with gw.connect() as client:
        client.send_json({"action": "spread", "parts": 5})
        parts = sorted(client.recv_json(timeout=30)["part"] for _ in range(5))
        assert parts == [0, 1, 2, 3, 4]
    gw.wait_async(30)
    mine = [r for r in gw.async_invocations if "part" in r.event]
    assert all(r.state == "succeeded" and r.attempts == ["ok"] for r in mine[-5:])


def test_event_answers_202_before_the_function_has_run(shared):
    gw, _ = shared
    answer = gw.lambda_client().invoke(
        FunctionName="selfinvoke",
        InvocationType="Event",
        Payload=json.dumps({"sleep": 2}).encode(),
    )
    assert answer["StatusCode"] == 202
    assert answer["ResponseMetadata"]["RequestId"]
    assert gw.gateway.async_queue.pending >= 1  # still sleeping in a worker
    gw.wait_async(30)
    assert gw.async_invocations[-1].state == "succeeded"


def test_a_failing_async_invocation_is_tried_three_times_with_one_request_id(tmp_path):
    gw, record = _gateway(tmp_path)
    try:
        gw.lambda_client().invoke(
            FunctionName="selfinvoke",
            InvocationType="Event",
            Payload=json.dumps({"part": 7, "raise": True}).encode(),
        )
        gw.wait_async(30)
        (only,) = gw.async_invocations
        assert only.attempts == ["error", "error", "error"] and only.state == "failed"
        seen = _attempts(record)
        assert len(seen) == 3
        assert {entry["requestId"] for entry in seen} == {only.request_id}
    finally:
        gw.stop()


def test_injected_first_attempt_failures_are_retried(tmp_path):
    gw, record = _gateway(tmp_path)
    try:
        with gw.connect() as client:
            # before: the handler never ran on attempt 1, so each part arrives once
            gw.fail_async_invocations(2, when="before")
            client.send_json({"action": "spread", "parts": 2})
            assert sorted(client.recv_json(timeout=30)["part"] for _ in range(2)) == [0, 1]
            gw.wait_async(30)
            assert [r.attempts for r in gw.async_invocations] == [["error", "ok"]] * 2
            assert len(_attempts(record)) == 2
            # after: attempt 1 ran to its end and still counts as failed: the retry repeats
            # the work, which is what idempotent shard processing must absorb
            gw.fail_async_invocations(1, when="after")
            client.send_json({"action": "spread", "parts": 1})
            assert client.recv_json(timeout=30) == {"part": 0}
            assert client.recv_json(timeout=30) == {"part": 0}
            gw.wait_async(30)
            assert gw.async_invocations[-1].attempts == ["error", "ok"]
            retried = _attempts(record)[2:]
            assert len(retried) == 2 and retried[0]["requestId"] == retried[1]["requestId"]
    finally:
        gw.stop()


def test_waiting_for_a_worker_counts_against_the_event_age_not_the_integration_timeout(
    tmp_path,
):
    # One worker, busy for 2.5 s; integration timeout 1 s. A queued event waits longer than an
    # integration may, and still runs; with a maximum age of 1 s it is dropped instead.
    for max_age, expected in ((60.0, "succeeded"), (1.0, "expired")):
        settings = AsyncSettings(retry_delays=(0.05,), max_age_s=max_age)
        gw, record = _gateway(
            tmp_path / str(max_age), workers=1, integration_timeout_ms=1000, async_settings=settings
        )
        console: list[str] = []
        gw.gateway.async_queue.log = console.append
        try:
            client = gw.lambda_client()
            client.invoke(
                FunctionName="selfinvoke",
                InvocationType="Event",
                Payload=json.dumps({"part": "busy", "sleep": 2.5}).encode(),
            )
            deadline = time.monotonic() + 30
            while not _attempts(record):  # the only worker is now busy
                assert time.monotonic() < deadline
                time.sleep(0.02)
            client.invoke(
                FunctionName="selfinvoke",
                InvocationType="Event",
                Payload=json.dumps({"part": "queued"}).encode(),
            )
            gw.wait_async(30)
            assert gw.async_invocations[-1].state == expected
            ran = [entry["part"] for entry in _attempts(record)]
            if expected == "expired":
                assert any("older than the maximum event age" in line for line in console)
                assert ran == ["busy"]
            else:
                assert ran == ["busy", "queued"]
        finally:
            gw.stop()


def test_the_pool_grows_for_queued_events_up_to_max_workers(tmp_path):
    for max_workers, distinct in ((3, 3), (1, 1)):
        gw, record = _gateway(tmp_path / str(max_workers), workers=1, max_workers=max_workers)
        try:
            client = gw.lambda_client()
            for part in range(3):
                payload = {"part": part, "sleep": 1.5}
                client.invoke(
                    FunctionName="selfinvoke",
                    InvocationType="Event",
                    Payload=json.dumps(payload).encode(),
                )
            gw.wait_async(60)
            pids = {entry["pid"] for entry in _attempts(record)}
            assert len(pids) == distinct
        finally:
            gw.stop()


def test_a_worker_killed_midway_is_retried_and_only_matching_events_take_the_fault(tmp_path):
    gw, _ = _gateway(tmp_path)
    try:
        with gw.connect() as client:
            # part 1 only: its worker dies 0.3 s into a 1 s handler, before it posts
            gw.fail_async_invocations(
                1, when="crash", after_s=0.3, match=lambda event: event.get("part") == 1
            )
            client.send_json({"action": "spread", "parts": 3, "extra": {"sleep": 1}})
            parts = sorted(client.recv_json(timeout=30)["part"] for _ in range(3))
            assert parts == [0, 1, 2]
            gw.wait_async(30)
            attempts = {r.event["part"]: r.attempts for r in gw.async_invocations}
            assert attempts == {0: ["ok"], 1: ["crash", "ok"], 2: ["ok"]}
            with pytest.raises(TimeoutError):
                client.recv(timeout=1.5)  # no second copy of any part
    finally:
        gw.stop()


def test_the_cli_takes_the_pool_limit_and_the_retry_delays(capsys):
    from wsgate_local.cli import build_parser

    args = build_parser().parse_args(
        ["local", ".", "--max-workers", "8", "--async-retry-delays", "0.5,1.5"]
    )
    assert (args.max_workers, args.async_retry_delays) == (8, (0.5, 1.5))
    assert AsyncSettings(retry_delays=args.async_retry_delays).delay(2) == 1.5
    with pytest.raises(SystemExit):
        build_parser().parse_args(["local", ".", "--async-retry-delays", "soon"])
    assert "e.g. 1,2" in capsys.readouterr().err
    with pytest.raises(ValueError, match="MaximumRetryAttempts"):
        AsyncSettings(retries=3)
