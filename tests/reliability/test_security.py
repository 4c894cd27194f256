"""Security end to end: a REQUEST authorizer written with ``wsgate.authorizer`` in front of an
``App``, through ``wsgate local``; and tokens never reaching any log line, in headers, query
strings or subprotocols, even at DEBUG.

``apps/guarded`` allows ``user:<name>`` tokens, denies ``deny``, crashes on ``crash``; the
identity source is the ``Authorization`` header. ``examples/authorizer`` takes its signed token
from the query string.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from reliability_support import APPS, EXAMPLES, GatewayProcess, wait_until
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    gateway = GatewayProcess(
        APPS / "guarded",
        tmp_path_factory.mktemp("guarded"),
        quiet=False,
        env={"WSGATE_LOG_LEVEL": "DEBUG"},
    )
    try:
        yield gateway
    finally:
        gateway.stop()


def _refusal(gateway: GatewayProcess, **kwargs: Any) -> int:
    with pytest.raises(InvalidStatus) as refused:
        connect(gateway.ws_url, open_timeout=30, legacy=True, **kwargs)
    return refused.value.response.status_code  # type: ignore[no-any-return]


def test_missing_identity_source_is_401_without_invoking_the_authorizer(
    guarded: GatewayProcess,
) -> None:
    before = guarded.errors()
    assert _refusal(guarded) == 401
    line = wait_until(
        lambda: [x for x in guarded.output().splitlines() if "missing identity source" in x],
        10,
        "the gateway's $connect line",
    )
    assert "401" in line[-1]
    assert guarded.errors() == before  # no worker ran: no authorizer, no handler
    assert not guarded.connection_items()


@pytest.mark.parametrize(
    ("token", "status"),
    [
        pytest.param("bogus", 401, id="bad token"),
        pytest.param("deny", 403, id="denied"),
        pytest.param("crash", 500, id="authorizer crash"),
    ],
)
def test_authorizer_refusals_refuse_the_handshake_and_store_nothing(
    guarded: GatewayProcess, token: str, status: int
) -> None:
    assert _refusal(guarded, additional_headers={"Authorization": token}) == status
    assert not guarded.connection_items()


def test_principal_and_context_reach_every_later_event(guarded: GatewayProcess) -> None:
    with connect(
        guarded.ws_url,
        additional_headers={"Authorization": "Bearer user:alice"},
        open_timeout=30,
        legacy=True,
    ) as ws:
        for _ in range(2):
            ws.send(json.dumps({"action": "whoami"}))
            answer = json.loads(ws.recv(timeout=15))
            assert answer["principal"] == "alice"
            assert answer["authorizer"]["user"] == "alice"
            assert answer["authorizer"]["tier"] == "gold"
            assert answer["authorizer"]["principalId"] == "alice"
        stored = [i for i in guarded.scan() if i["pk"]["S"].startswith("conn#")]
        assert [i["principal"]["S"] for i in stored] == ["alice"]
    wait_until(
        lambda: "bye principal=alice user=alice" in guarded.errors(), 15, "the $disconnect line"
    )


def test_tokens_never_reach_the_logs_in_headers_query_or_subprotocols(
    guarded: GatewayProcess,
) -> None:
    header_token = "user:carol:hdr-7f3a9c1e5b"
    query_token = "qry-2b8d4e6f0a1c3e5g"
    jwt_like = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYXJvbCJ9.c2lnbmF0dXJlLXNwLTk5"
    with connect(
        f"{guarded.ws_url}?token={query_token}&room=lobby",
        additional_headers={"Authorization": f"Bearer {header_token}", "Cookie": "sid=ck-5e5e"},
        subprotocols=["chat", jwt_like],  # type: ignore[list-item]
        open_timeout=30,
        legacy=True,
    ) as ws:
        assert ws.subprotocol == "chat"  # the token is never echoed back
        ws.send(json.dumps({"action": "whoami"}))
        assert json.loads(ws.recv(timeout=15))["principal"] == "carol"
    handshake = wait_until(
        lambda: [x for x in guarded.runtime_logs() if x["message"].startswith("handshake")],
        15,
        "the handler's handshake line",
    )
    logged = handshake[-1]["message"]
    assert "Authorization" in logged and "lobby" in logged and "chat" in logged
    everything = guarded.output() + guarded.errors()
    for secret in (header_token, query_token, jwt_like, "ck-5e5e"):
        assert secret not in everything
    assert re.search(r"REDACTED", logged)


def test_signed_query_token_of_the_authorizer_example_is_not_logged(tmp_path: Any) -> None:
    import sys

    from wsgate_pack import host_site

    example = EXAMPLES / "authorizer"
    # tokens.py needs PyJWT and cryptography: the same install the gateway's workers use
    site = str(host_site(example / "src"))
    sys.path.insert(0, site)
    try:
        spec = importlib.util.spec_from_file_location("example_tokens", example / "tokens.py")
        assert spec and spec.loader
        tokens = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(tokens)
        private, public = tokens.make_keys(tmp_path / "keys")
        token = tokens.issue("dave", private.read_bytes())
    finally:
        sys.path.remove(site)
    gateway = GatewayProcess(
        example,
        tmp_path,
        quiet=False,
        env={"JWT_PUBLIC_KEY": public.read_text(), "WSGATE_LOG_LEVEL": "DEBUG"},
    )
    try:
        assert _refusal(gateway) == 401
        with connect(f"{gateway.ws_url}?token={token}", open_timeout=30, legacy=True) as ws:
            ws.send(json.dumps({"action": "whoami"}))
            assert json.loads(ws.recv(timeout=15))["user"] == "dave"
        wait_until(lambda: not gateway.connection_items(), 15, "$disconnect")
        assert token not in gateway.output() + gateway.errors()
        assert token.rpartition(".")[2] not in gateway.output() + gateway.errors()
    finally:
        gateway.stop()
