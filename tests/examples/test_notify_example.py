"""examples/notify: a Lambda that is not a WebSocket handler pushes to subscribers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from wsgate_local.testing import running_gateway

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "notify"


@pytest.fixture(scope="module")
def gateway():
    # One gateway per module: its connections are independent, and starting one costs seconds.
    with running_gateway(EXAMPLE, workers=1, quiet=True) as gw:
        yield gw


def run_notifier(gateway, event):
    """Invoke src/notifier.py's handler in its own process with only the module's `env` output
    (WSGATE_ENDPOINT, WSGATE_TABLE) plus the local service endpoints."""
    env = {
        **os.environ,
        "WSGATE_ENDPOINT": gateway.endpoint,
        "WSGATE_TABLE": gateway.config.table_name,
        "AWS_ENDPOINT_URL_DYNAMODB": gateway.dynamodb_url,
        "PYTHONPATH": os.pathsep.join([str(EXAMPLE / "src"), str(ROOT / "lambda")]),
    }
    code = (
        "import json, sys, notifier; print(json.dumps(notifier.handler(json.loads(sys.argv[1]))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(event)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_subscribe_and_unsubscribe_reply_on_two_way_routes(gateway):
    with gateway.connect() as client:
        client.send_json({"action": "subscribe", "topic": "news"})
        assert client.recv_json() == {"type": "subscribed", "topic": "news"}
        client.send_json({"action": "unsubscribe", "topic": "news"})
        assert client.recv_json() == {"type": "unsubscribed", "topic": "news"}


def test_bad_topic_gets_an_error_frame(gateway):
    with gateway.connect() as client:
        client.send_json({"action": "subscribe", "topic": "no spaces allowed"})
        frame = client.recv_json()
    assert frame["type"] == "error"
    assert frame["code"] == "bad_request"


def test_notifier_reaches_subscribers_of_its_topic_only(gateway):
    with gateway.connect() as news, gateway.connect() as sport:
        news.send_json({"action": "subscribe", "topic": "news"})
        news.recv_json()
        sport.send_json({"action": "subscribe", "topic": "sport"})
        sport.recv_json()

        summary = run_notifier(gateway, {"topic": "news", "text": "deploy finished"})

        pushed = news.recv_json()
        assert pushed["type"] == "notification"
        assert pushed["topic"] == "news"
        assert pushed["text"] == "deploy finished"
        assert summary == {"topic": "news", "delivered": 1, "gone": 0, "failed": 0}
        with pytest.raises(TimeoutError):
            sport.recv(timeout=0.5)


def test_scheduled_event_without_a_topic_goes_to_the_default_topic(gateway):
    with gateway.connect() as client:
        client.send_json({"action": "subscribe", "topic": "news"})
        client.recv_json()
        scheduled = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
        summary = run_notifier(gateway, scheduled)
        pushed = client.recv_json()
    assert summary["delivered"] == 1
    assert pushed["topic"] == "news"
    assert pushed["text"].startswith("It is ")
