"""Endpoint discovery and the shared management clients."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest
import wsgate
from mgmt_stub import ManagementStub, clean_env_fixture, mgmt_fixture  # noqa: F401
from wsgate import _clients
from wsgate.context import current_event
from wsgate.endpoint import resolve_endpoint
from wsgate.errors import ConfigurationError
from wsgate.events import Event

EVENTS = Path(__file__).resolve().parent.parent / "events"


def _capture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8-sig"))
    return loaded


def _event(domain: str, stage: str = "dev") -> dict[str, Any]:
    return {"requestContext": {"domainName": domain, "stage": stage, "connectionId": "A="}}


def test_explicit_endpoint_beats_environment_beats_event(monkeypatch: pytest.MonkeyPatch) -> None:
    token = current_event.set(Event(_event("abc123.execute-api.eu-west-1.amazonaws.com", "prod")))
    try:
        assert resolve_endpoint() == "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"
        monkeypatch.setenv("WSGATE_ENDPOINT", "https://env.example.com/v1/")
        assert resolve_endpoint() == "https://env.example.com/v1"
        assert resolve_endpoint("http://127.0.0.1:9/x") == "http://127.0.0.1:9/x"
    finally:
        current_event.reset(token)


def test_a_captured_aws_event_gives_the_execute_api_endpoint_with_its_stage() -> None:
    event = _capture("aws-lambda-dotnet__websocket-api-connect-request.json")
    token = current_event.set(Event(event))
    try:
        endpoint = resolve_endpoint()
    finally:
        current_event.reset(token)
    assert endpoint == "https://lg10ltpf4f.execute-api.us-east-2.amazonaws.com/production"
    # Requests are signed for the API's own region, whatever AWS_REGION says.
    assert _clients.management_client(endpoint).meta.region_name == "us-east-2"


def test_custom_domain_uses_the_base_path_not_the_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    token = current_event.set(Event(_event("ws.example.com", "prod")))
    try:
        assert resolve_endpoint() == "https://ws.example.com"
        monkeypatch.setenv("WSGATE_BASE_PATH", "/chat/")
        assert resolve_endpoint() == "https://ws.example.com/chat"
    finally:
        current_event.reset(token)


def test_without_any_endpoint_the_error_names_the_fix() -> None:
    with pytest.raises(ConfigurationError, match=r"set WSGATE_ENDPOINT .* or pass endpoint="):
        wsgate.send("A=", "hi")


def test_an_endpoint_that_is_not_a_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WSGATE_ENDPOINT", "abc123.execute-api.us-east-1.amazonaws.com/dev")
    with pytest.raises(ConfigurationError, match="not an http"):
        resolve_endpoint()


def test_send_inside_an_invocation_finds_the_endpoint_from_its_event(
    mgmt: ManagementStub,
) -> None:
    mgmt.connect("A=")
    host = mgmt.endpoint.split("/")[2]  # 127.0.0.1:<port>, as the local gateway's events say
    token = current_event.set(Event(_event(host, mgmt.stage)))
    try:
        wsgate.send("A=", "found you")
    finally:
        current_event.reset(token)
    assert mgmt.received["A="] == [b"found you"]
    assert "WSGATE_ENDPOINT" not in os.environ


def test_the_event_endpoint_does_not_leak_to_other_threads() -> None:
    outcome: list[BaseException | str] = []
    token = current_event.set(Event(_event("abc123.execute-api.us-east-1.amazonaws.com")))
    try:
        assert resolve_endpoint().endswith("/dev")

        def elsewhere() -> None:
            try:
                outcome.append(resolve_endpoint())
            except ConfigurationError as exc:
                outcome.append(exc)

        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join()
    finally:
        current_event.reset(token)
    assert isinstance(outcome[0], ConfigurationError)


def test_one_shared_client_per_endpoint_under_threads() -> None:
    endpoints = [
        "https://aaa111.execute-api.us-east-1.amazonaws.com/dev",
        "https://bbb222.execute-api.us-east-1.amazonaws.com/dev",
    ]
    barrier = threading.Barrier(16)
    seen: list[tuple[str, int]] = []
    lock = threading.Lock()

    def grab(endpoint: str) -> None:
        barrier.wait()
        client = _clients.management_client(endpoint)
        with lock:
            seen.append((endpoint, id(client)))

    threads = [threading.Thread(target=grab, args=(endpoints[n % 2],)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    by_endpoint = {endpoint: {cid for e, cid in seen if e == endpoint} for endpoint in endpoints}
    assert all(len(ids) == 1 for ids in by_endpoint.values())
    assert by_endpoint[endpoints[0]] != by_endpoint[endpoints[1]]
    client = _clients.management_client(endpoints[0])
    assert client.meta.config.max_pool_connections >= wsgate.messaging.DEFAULT_MAX_WORKERS
