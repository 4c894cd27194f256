"""examples/zappa-migration: an unchanged Zappa app served through wsgate.compat.zappa."""

from __future__ import annotations

from pathlib import Path

import pytest
from wsgate_local.testing import running_gateway

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "zappa-migration"


@pytest.fixture(scope="module")
def gateway():
    # One gateway per module: its connections are independent, and starting one costs seconds.
    with running_gateway(EXAMPLE, workers=1, quiet=True) as gw:
        yield gw


def test_zappa_style_message_handler_echoes_through_send_message(gateway):
    with gateway.connect() as client:
        client.send_json({"text": "hello"})
        assert client.recv_json() == {"echo": {"text": "hello"}}


def test_non_json_message_is_echoed_as_text(gateway):
    with gateway.connect() as client:
        client.send("plain words")
        assert client.recv_json() == {"echo": {"text": "plain words"}}
