"""``wsgate local --faults``: @connections answers 429 and 500 as AWS can, and sockets drop.

With 10% throttling and 2% server errors, every chat message to a live connection still arrives
exactly once, because the runtime retries 429 and 5xx with backoff (an injected error delivered
nothing, so a retry cannot duplicate). The clients talk one message at a time, so the calls
reach the gateway in the same order on every run and the seeded faults hit the same calls.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from reliability_support import EXAMPLES, wait_until
from websockets.sync.client import connect

CHAT = EXAMPLES / "chat"
FAULT_LINE = re.compile(r"fault: (\d{3}) (\w+) on (\w+) @connections/")


def _recv_until(ws: Any, kind: str, seen: Counter[str] | None = None) -> dict[str, Any]:
    while True:
        message = json.loads(ws.recv(timeout=30))
        if message.get("type") == "message" and seen is not None:
            seen[message["id"]] += 1
        if message.get("type") == kind:
            return message  # type: ignore[no-any-return]


def _injected(output: str) -> Counter[str]:
    return Counter(match.group(1) for match in FAULT_LINE.finditer(output))


def test_every_message_arrives_exactly_once_through_429s_and_500s(gateway_process: Any) -> None:
    gateway = gateway_process(
        CHAT, "--faults", "429=0.1,500=0.02", "--faults-seed", "3", "--show-metrics"
    )
    assert "faults               429=0.1,500=0.02 (seed 3)" in gateway.output()
    # A stock boto3 client sees the injected errors as the exceptions AWS raises.
    management = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=gateway.endpoint,
        config=Config(retries={"total_max_attempts": 1}),
    )
    answers: Counter[tuple[int, str]] = Counter()
    for _ in range(200):
        with pytest.raises(ClientError) as failure:
            management.post_to_connection(ConnectionId="never-existed", Data=b"x")
        error = failure.value.response
        answers[(error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"])] += 1
    assert set(answers) == {
        (400, "BadRequestException"),  # not an id in API Gateway's format
        (429, "LimitExceededException"),
        (500, "InternalServerErrorException"),
    }
    clients = [
        connect(f"{gateway.ws_url}?name=u{n}", open_timeout=30, legacy=True) for n in range(6)
    ]
    received: list[Counter[str]] = [Counter() for _ in clients]
    said: list[list[str]] = [[] for _ in clients]
    try:
        for n, ws in enumerate(clients):
            ws.send(json.dumps({"action": "join", "room": f"pair-{n // 2}"}))
            _recv_until(ws, "joined", received[n])
        for turn in range(60):
            n = turn % len(clients)
            partner = n ^ 1  # the other member of the pair's room
            clients[n].send(
                json.dumps({"action": "say", "room": f"pair-{n // 2}", "text": f"turn {turn}"})
            )
            said[n].append(_recv_until(clients[n], "sent", received[n])["id"])
            _recv_until(clients[partner], "message", received[partner])
        injected = (
            _injected(gateway.output())
            - Counter({"429": answers[(429, "LimitExceededException")]})
            - Counter({"500": answers[(500, "InternalServerErrorException")]})
        )
        # Each injected fault was met by one retry, and none ran out of attempts.
        wait_until(
            lambda: gateway.emf_totals()["Retries"] == sum(injected.values()),
            30,
            "the runtime's Retries count to match the injected faults",
        )
        totals = gateway.emf_totals()
    finally:
        for ws in clients:
            ws.close()

    print(
        f"\ninjected: {injected['429']} x 429, {injected['500']} x 500; "
        f"runtime retries: {totals['Retries']}; sent: {totals['MessagesSent']}; "
        f"failed: {totals['MessagesFailed']}"
    )
    assert injected["429"] > 0 and injected["500"] > 0
    assert totals["MessagesFailed"] == 0
    for n in range(len(clients)):
        partner_ids = said[n ^ 1]
        assert len(partner_ids) == 10
        assert {i: received[n][i] for i in partner_ids} == dict.fromkeys(partner_ids, 1)
        assert sum(received[n].values()) == len(partner_ids)  # nothing else, nothing twice


def test_dropped_sockets_run_disconnect_and_leave_nothing_in_the_table(
    gateway_process: Any,
) -> None:
    gateway = gateway_process(CHAT, "--faults", "drop=0.3", "--faults-seed", "5")
    dropped = 0
    for n in range(8):
        with connect(f"{gateway.ws_url}?name=d{n}", open_timeout=30, legacy=True) as ws:
            try:
                for _ in range(10):
                    ws.send(json.dumps({"action": "join", "room": "lobby"}))
                    _recv_until(ws, "joined")
            except Exception:
                dropped += 1
    wait_until(lambda: not gateway.live_connections(), 30, "every socket to be closed")
    wait_until(lambda: not gateway.connection_items(), 30, "the table to be clean")
    assert dropped > 0
    assert gateway.output().count("fault: dropped the socket") == dropped
