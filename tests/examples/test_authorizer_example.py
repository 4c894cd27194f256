"""examples/authorizer: RS256 JWTs verified on $connect with PyJWT, end to end under wsgate local.

The local gateway installs src/requirements.txt for this machine (the deployed zip holds the
same pins built for Lambda), so PyJWT and cryptography are imported from there, not from the
test environment: the tests put that same directory on sys.path to issue tokens.
"""

from __future__ import annotations

import base64
import dataclasses
import importlib.util
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus
from wsgate_local.config import load_config
from wsgate_local.testing import running_gateway
from wsgate_pack import host_site

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "authorizer"
SITE = host_site(EXAMPLE / "src")

#: Wraps the example's authorizer and records each call, to prove which connects reach it.
PROBE = """
import os
from auth import authorize as _authorize

def authorize(event, context):
    with open(os.environ["PROBE_FILE"], "a") as fh:
        fh.write("called\\n")
    return _authorize(event, context)
"""


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def deps_on_path():
    assert SITE is not None, "src/requirements.txt must be installed for this machine"
    sys.path.insert(0, str(SITE))
    yield
    sys.path.remove(str(SITE))


@pytest.fixture(scope="module")
def tokens(deps_on_path):
    return _load("example_tokens", EXAMPLE / "tokens.py")


@pytest.fixture(scope="module")
def keys(tokens, tmp_path_factory):
    directory = tmp_path_factory.mktemp("keys")
    private, public = tokens.make_keys(directory)
    other, _ = tokens.make_keys(directory / "other")
    return {"private": private.read_bytes(), "public": public.read_text(), "other": other}


@pytest.fixture(scope="module")
def auth(deps_on_path, keys, monkeypatch_module):
    monkeypatch_module.setenv("JWT_PUBLIC_KEY", keys["public"])
    module = _load("example_auth", EXAMPLE / "src" / "auth.py")
    return module


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@pytest.fixture(scope="module")
def gateway(keys, tmp_path_factory):
    """The example as written, behind a probe that counts authorizer calls."""
    src = tmp_path_factory.mktemp("authorizer") / "src"
    shutil.copytree(EXAMPLE / "src", src)
    (src / "probe.py").write_text(PROBE)
    calls = src.parent / "calls"
    calls.write_text("")
    config = dataclasses.replace(
        load_config(EXAMPLE), source_dir=src, authorizer_handler="probe.authorize"
    )
    env = {"JWT_PUBLIC_KEY": keys["public"], "PROBE_FILE": str(calls)}
    with running_gateway(config, environment=env, workers=1, quiet=True) as gw:
        gw.calls = calls
        yield gw


def _refused(gateway, **kw) -> int:
    with pytest.raises(InvalidStatus) as refused:
        gateway.connect(**kw)
    return refused.value.response.status_code


def _calls(gateway) -> int:
    return gateway.calls.read_text().count("called")


def test_valid_token_is_admitted_as_its_user(gateway, tokens, keys):
    token = tokens.issue("alice", keys["private"])
    with gateway.connect(query={"token": token}) as client:
        client.send_json({"action": "whoami"})
        reply = client.recv_json()
    assert reply["type"] == "whoami"
    assert reply["user"] == "alice"


def test_expired_token_gets_401(gateway, tokens, keys):
    expired = tokens.issue("alice", keys["private"], ttl=60, now=time.time() - 3600)
    assert _refused(gateway, query={"token": expired}) == 401


def test_token_signed_with_another_key_gets_401(gateway, tokens, keys):
    forged = tokens.issue("mallory", keys["other"].read_bytes())
    assert _refused(gateway, query={"token": forged}) == 401


def test_token_for_another_audience_gets_401(gateway, tokens, keys):
    token = tokens.issue("alice", keys["private"], audience="some-other-api")
    assert _refused(gateway, query={"token": token}) == 401


def test_non_ascii_token_gets_401_not_a_server_error(gateway, tokens, keys):
    header, payload, _ = tokens.issue("alice", keys["private"]).split(".")
    assert _refused(gateway, query={"token": f"{header}.{payload}.sïgnätüre"}) == 401


def test_missing_token_gets_401_without_calling_the_authorizer(gateway, tokens, keys):
    # A good connect first, so the probe is known to count calls.
    before = _calls(gateway)
    with gateway.connect(query={"token": tokens.issue("alice", keys["private"])}):
        pass
    assert _calls(gateway) == before + 1
    assert _refused(gateway) == 401
    assert _refused(gateway, query={"other": "x"}) == 401
    assert _calls(gateway) == before + 1


def test_messages_carry_the_senders_principal_not_what_the_client_claims(gateway, tokens, keys):
    with (
        gateway.connect(query={"token": tokens.issue("alice", keys["private"])}) as alice,
        gateway.connect(query={"token": tokens.issue("bob", keys["private"])}) as bob,
    ):
        # bob's whoami round trip proves his $connect (and room join) has finished
        bob.send_json({"action": "whoami"})
        bob.recv_until(lambda m: m.get("type") == "whoami")
        alice.send_json({"action": "say", "text": "hi", "user": "admin"})
        message = bob.recv_until(lambda m: m.get("type") == "message")
    assert message == {"type": "message", "user": "alice", "text": "hi"}


def test_user_name_with_a_trailing_newline_is_refused(auth, tokens, keys):
    # "$" would accept "alice\n"; the authorizer uses fullmatch.
    with pytest.raises(auth.Unauthorized):
        auth.verify(tokens.issue("alice\n", keys["private"]))
    assert auth.verify(tokens.issue("alice", keys["private"])) == "alice"


def test_unsigned_and_hmac_tokens_are_refused(auth, tokens, keys):
    import hashlib
    import hmac

    claims = {"sub": "eve", "iss": tokens.ISSUER, "aud": tokens.AUDIENCE}
    claims |= {"iat": int(time.time()), "exp": int(time.time()) + 60}

    def b64(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    with pytest.raises(auth.Unauthorized):
        auth.verify(unsigned)
    # Key confusion: an HS256 token whose "secret" is the (public) verification key.
    signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT'})}.{b64(claims)}"
    mac = hmac.new(keys["public"].encode(), signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    with pytest.raises(auth.Unauthorized):
        auth.verify(forged)


def test_token_script_issues_a_token_the_authorizer_accepts(auth, keys, tmp_path):
    key = tmp_path / "private.pem"
    key.write_bytes(keys["private"])
    out = subprocess.run(
        [sys.executable, str(EXAMPLE / "tokens.py"), "issue", "carol", "--key", str(key)],
        env={"PYTHONPATH": str(SITE), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert auth.verify(out) == "carol"
