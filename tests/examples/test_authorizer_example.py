"""examples/authorizer: signed tokens on $connect, the principal carried to every message."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus
from wsgate_local.testing import running_gateway

SECRET = "0123456789abcdef0123456789abcdef-test-secret"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "authorizer"


def _auth_module():
    spec = importlib.util.spec_from_file_location("example_auth", EXAMPLE / "src" / "auth.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def auth():
    return _auth_module()


@pytest.fixture(scope="module")
def gateway():
    # One gateway per module: its connections are independent, and starting one costs seconds.
    with running_gateway(EXAMPLE, variables={"auth_secret": SECRET}, workers=1, quiet=True) as gw:
        yield gw


def test_connect_without_token_is_refused_with_401(gateway):
    with pytest.raises(InvalidStatus) as refused:
        gateway.connect()
    assert refused.value.response.status_code == 401


def test_token_signed_with_another_secret_is_refused(gateway, auth):
    forged = auth.sign("mallory", "not-the-deployed-secret-not-the-deployed")
    with pytest.raises(InvalidStatus) as refused:
        gateway.connect(query={"token": forged})
    assert refused.value.response.status_code in (401, 403)


def test_token_for_one_user_cannot_be_reused_for_another(auth):
    alice = auth.sign("alice", SECRET)
    signature = alice.rpartition(".")[2]
    with pytest.raises(auth.Unauthorized):
        auth.verify(f"bob.{signature}", SECRET)
    assert auth.verify(alice, SECRET) == "alice"


def test_whoami_answers_with_the_user_the_token_was_signed_for(gateway, auth):
    with gateway.connect(query={"token": auth.sign("alice", SECRET)}) as client:
        client.send_json({"action": "whoami"})
        reply = client.recv_json()
    assert reply["type"] == "whoami"
    assert reply["user"] == "alice"


def test_messages_carry_the_senders_principal_not_what_the_client_claims(gateway, auth):
    with (
        gateway.connect(query={"token": auth.sign("alice", SECRET)}) as alice,
        gateway.connect(query={"token": auth.sign("bob", SECRET)}) as bob,
    ):
        # bob's whoami round trip proves his $connect (and room join) has finished
        bob.send_json({"action": "whoami"})
        bob.recv_until(lambda m: m.get("type") == "whoami")
        alice.send_json({"action": "say", "text": "hi", "user": "admin"})
        message = bob.recv_until(lambda m: m.get("type") == "message")
    assert message == {"type": "message", "user": "alice", "text": "hi"}


def test_token_helper_prints_a_token_the_authorizer_accepts(auth):
    import subprocess
    import sys

    env = {**os.environ, "AUTH_SECRET": SECRET}
    out = subprocess.run(
        [sys.executable, str(EXAMPLE / "src" / "auth.py"), "carol"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert auth.verify(out, SECRET) == "carol"
