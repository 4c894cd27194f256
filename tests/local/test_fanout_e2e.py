"""Fan-out end to end: real WebSocket clients in a room of hundreds, a publish above the
threshold, its shards run as Event invocations on the local gateway's worker pool (the runtime's
stock boto3 Lambda client reaches the gateway through AWS_ENDPOINT_URL_LAMBDA), with a shard's
first attempt failing in each of the ways the gateway can make it fail."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from wsgate_local.async_queue import AsyncSettings
from wsgate_local.testing import Client, RunningGateway, start_gateway

APP = Path(__file__).resolve().parent / "apps" / "fanout"
MEMBERS = 240
SHARD_SIZE = 40
# The threshold (20) and shard size (40) come from the module block in apps/fanout/main.tf, and
# the gateway sets the shards' lease below its first retry delay, as Lambda's (a minute) is.
RETRIES = AsyncSettings(retry_delays=(0.6, 0.6))


@pytest.fixture(scope="module")
def room() -> Iterator[tuple[RunningGateway, list[Client]]]:
    gw = start_gateway(
        APP,
        async_settings=RETRIES,
        latency="200ms",  # a long round trip per POST, so that a crash lands mid-send
        workers=4,  # warm from the start: a worker still starting would take the kill instead
        max_workers=4,
        quiet=True,
    )
    clients: list[Client] = []
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            clients = list(pool.map(lambda _: gw.connect(), range(MEMBERS)))
        yield gw, clients
    finally:
        for client in clients:
            client.close()
        gw.stop()


def received(clients: list[Client], text: str) -> list[int]:
    """How many copies of ``text`` each client got (waiting for the first, then for strays)."""
    counts = []
    for client in clients:
        count = 0
        timeout = 10.0
        while True:
            try:
                frame = client.recv(timeout=timeout)
            except TimeoutError:
                break
            if json.loads(frame) == {"text": text}:
                count += 1
            timeout = 0.02
        counts.append(count)
    return counts


def shout(gw: RunningGateway, clients: list[Client], text: str) -> None:
    """A client sends the message whose handler publishes to the room; then the shards run."""
    clients[0].send_json({"action": "shout", "text": text})
    deadline = time.monotonic() + 30
    while not [r for r in gw.async_invocations if _text(r.event) == text]:
        assert time.monotonic() < deadline, "the publish started no shard"
        time.sleep(0.05)
    gw.wait_async(timeout=90)


def _text(event: Any) -> str | None:
    shard = event.get("wsgate", {}).get("shard", {})
    try:
        return json.loads(shard.get("message", {}).get("text", "null")).get("text")
    except (AttributeError, ValueError):
        return None


def shards_of(gw: RunningGateway, text: str) -> list[Any]:
    return [r for r in gw.async_invocations if _text(r.event) == text]


def test_every_member_of_a_large_room_gets_one_copy(room):
    gw, clients = room
    shout(gw, clients, "hello everyone")
    shards = shards_of(gw, "hello everyone")
    assert len(shards) == MEMBERS // SHARD_SIZE and all(r.state == "succeeded" for r in shards)
    assert received(clients, "hello everyone") == [1] * MEMBERS


@pytest.mark.parametrize("when", ["before", "after"])
def test_one_copy_each_when_a_shards_first_attempt_fails(room, when):
    """``before``: the first attempt never ran; ``after``: it sent everything and was then
    reported failed, so the retry finds the shard done."""
    gw, clients = room
    gw.fail_async_invocations(1, when=when, match=lambda e: e["wsgate"]["shard"]["n"] == 2)
    text = f"retried {when}"
    shout(gw, clients, text)
    retried = [r for r in shards_of(gw, text) if len(r.attempts) > 1]
    assert len(retried) == 1 and retried[0].state == "succeeded"
    assert received(clients, text) == [1] * MEMBERS


def test_a_shard_killed_midway_loses_no_one_and_resends_at_most_one_step(room):
    from wsgate import _shard

    gw, clients = room
    gw.fail_async_invocations(
        1, when="crash", after_s=0.25, match=lambda e: e["wsgate"]["shard"]["n"] == 1
    )
    shout(gw, clients, "after a crash")
    [crashed] = [r for r in shards_of(gw, "after a crash") if r.attempts[0] == "crash"]
    assert crashed.state == "succeeded"
    counts = received(clients, "after a crash")
    assert min(counts) == 1  # no one missed it
    # The retry resent the step in flight (here the first 32 concurrent POSTs, which the kill
    # caught between acting and answering); never more than one step.
    assert max(counts) <= 2
    assert sum(counts) - MEMBERS <= min(SHARD_SIZE, _shard.CHECKPOINT_EVERY)
