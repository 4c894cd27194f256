"""``--latency``: each @connections call takes an emulated network round trip, without blocking."""

from __future__ import annotations

import concurrent.futures
import json
import threading
import time
import urllib.request

import pytest
from local_support import RECORDER
from wsgate_local.cli import build_parser
from wsgate_local.latency import Latency, LatencySpecError
from wsgate_local.testing import start_gateway


@pytest.mark.parametrize(
    ("spec", "low", "high"),
    [
        ("20ms", 0.02, 0.02),
        ("0.05s", 0.05, 0.05),
        (" 10ms..30ms ", 0.01, 0.03),
        ("0", 0.0, 0.0),
        ("1.5ms..2s", 0.0015, 2.0),
    ],
)
def test_latency_specs_parse_to_a_fixed_or_uniform_round_trip(spec, low, high):
    latency = Latency.parse(spec, seed=1)
    assert (latency.low, latency.high) == pytest.approx((low, high))
    samples = [latency.sample() for _ in range(200)]
    assert all(low <= s <= high for s in samples)
    if low != high:
        assert len(set(samples)) > 100  # spread over the range, not one value


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("20", r"with a unit \(ms or s\)"),
        ("20 minutes", "with a unit"),
        ("-5ms", "with a unit"),
        ("30ms..10ms", "from low to high"),
        ("20s", "at most 10 s"),
        ("normal:20ms", "with a unit"),
    ],
)
def test_bad_latency_specs_are_refused_with_a_clear_message(spec, says):
    with pytest.raises(LatencySpecError, match=says):
        Latency.parse(spec)


def test_the_cli_refuses_a_latency_without_a_unit(capsys):
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["local", ".", "--latency", "20"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "--latency" in err and "e.g. 20ms" in err


def test_the_cli_takes_a_latency_range():
    args = build_parser().parse_args(["local", ".", "--latency", "10ms..30ms"])
    assert (args.latency.low, args.latency.high) == pytest.approx((0.01, 0.03))


@pytest.fixture(scope="module")
def slow(tmp_path_factory):
    record = tmp_path_factory.mktemp("latency") / "events.jsonl"
    gw = start_gateway(RECORDER, latency="1s", environment={"RECORD_FILE": str(record)})
    try:
        yield gw
    finally:
        gw.stop()


def test_each_connections_call_takes_the_round_trip(slow):
    with slow.connect():
        cid = slow.connection_ids()[-1]
        api = slow.management_client()
        started = time.monotonic()
        api.get_connection(ConnectionId=cid)
        assert time.monotonic() - started >= 1.0
        started = time.monotonic()
        api.post_to_connection(ConnectionId=cid, Data=b"hello")
        assert time.monotonic() - started >= 1.0


def test_a_message_arrives_mid_round_trip_and_concurrent_calls_overlap(slow):
    with slow.connect() as client:
        cid = slow.connection_ids()[-1]
        api = slow.management_client()
        answered: list[float] = []
        lock = threading.Lock()

        def post(n: int) -> None:
            api.post_to_connection(ConnectionId=cid, Data=json.dumps({"n": n}).encode())
            with lock:
                answered.append(time.monotonic())

        with concurrent.futures.ThreadPoolExecutor(5) as pool:
            futures = [pool.submit(post, n) for n in range(5)]
            got = set()
            while len(got) < 5:
                message = client.recv_json(timeout=10)
                if "n" in message:
                    got.add(message["n"])
            # All five copies are delivered before any of the five calls has its answer: the
            # calls wait side by side (half the round trip each way), not one after another.
            with lock:
                assert answered == []
            for future in futures:
                future.result(timeout=10)
        assert got == {0, 1, 2, 3, 4}


def test_the_local_listing_is_not_delayed_while_calls_are_in_flight(slow):
    with slow.connect():
        cid = slow.connection_ids()[-1]
        api = slow.management_client()
        in_flight = threading.Thread(
            target=api.post_to_connection, kwargs={"ConnectionId": cid, "Data": b"x"}
        )
        in_flight.start()
        with urllib.request.urlopen(slow.endpoint + "/@connections", timeout=10) as answer:
            listed = json.loads(answer.read())
        assert in_flight.is_alive()  # the gateway answered while the POST was still travelling
        assert cid in {c["connectionId"] for c in listed["connections"]}
        in_flight.join(10)
