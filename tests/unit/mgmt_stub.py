"""Test support for messaging, store and rooms: a real @connections server and a moto table.

``ManagementStub`` is an ``http.server`` on 127.0.0.1 that speaks API Gateway's @connections wire
format (POST 200 empty, GET 200 JSON, DELETE 204, errors as JSON with ``x-amzn-ErrorType``, which
is where botocore reads the error code), so a stock boto3 ``apigatewaymanagementapi`` client
talks to it unchanged. Each connection can be scripted to answer 429/500/410/403 first.

Test modules import the fixtures they use from here
(``from mgmt_stub import mgmt_fixture, table_fixture``); the fixtures are named ``mgmt``,
``table`` and ``clean_env`` (autouse).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import pytest
from moto import mock_aws
from moto.core.botocore_stubber import BotocoreStubber
from wsgate import _clients, metrics
from wsgate.apigw import management
from wsgate.apigw.table import create_connection_table

TABLE = "wsgate-test-connections"


class ManagementStub:
    """The state behind the server: open and gone connections, scripts, what was received."""

    def __init__(self, stage: str = "dev") -> None:
        self.stage = stage
        self.lock = threading.Lock()
        self.open: dict[str, dict[str, Any]] = {}
        self.gone: set[str] = set()
        self.scripts: dict[str, list[int]] = {}
        self.requests: list[tuple[str, str]] = []  # (method, connection id), every request
        self.received: dict[str, list[bytes]] = {}  # bodies of successful POSTs
        self.server: ThreadingHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/{self.stage}"

    def connect(self, *connection_ids: str) -> None:
        with self.lock:
            for cid in connection_ids:
                self.open[cid] = {
                    "connectedAt": "2026-11-23T02:00:00.000Z",
                    "identity": {"sourceIp": "127.0.0.1", "userAgent": "pytest"},
                    "lastActiveAt": "2026-11-23T02:01:00.000Z",
                }

    def disconnect(self, *connection_ids: str) -> None:
        with self.lock:
            for cid in connection_ids:
                self.open.pop(cid, None)
                self.gone.add(cid)

    def script(self, connection_id: str, *statuses: int) -> None:
        """Answer the next requests for ``connection_id`` with these statuses, in order."""
        with self.lock:
            self.scripts.setdefault(connection_id, []).extend(statuses)

    def calls(self, connection_id: str) -> int:
        with self.lock:
            return sum(1 for _, cid in self.requests if cid == connection_id)

    def answer(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any] | None]:
        prefix = f"/{self.stage}/@connections/"
        if not path.startswith(prefix):
            return 403, {"message": "Forbidden"}
        cid = unquote(path[len(prefix) :])
        with self.lock:
            self.requests.append((method, cid))
            script = self.scripts.get(cid)
            if script:
                return script.pop(0), None
            if cid in self.gone:
                return 410, None
            if cid not in self.open:
                return 403, None
            if method == "POST":
                self.received.setdefault(cid, []).append(body)
                return 200, None
            if method == "GET":
                return 200, dict(self.open[cid])
            self.open.pop(cid)
            self.gone.add(cid)
            return 204, None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's pool expects
    stub: ManagementStub

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, document = self.stub.answer(self.command, self.path, body)
        payload = b""
        self.send_response(status)
        if status >= 400:
            headers, payload = management.error_answer(status, (document or {}).get("message"))
            for name, value in headers.items():
                self.send_header(name, value)
        elif document is not None:
            payload = json.dumps(document).encode()
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_POST = do_GET = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


@contextmanager
def serving(stub: Any, handler_base: type[BaseHTTPRequestHandler]) -> Iterator[Any]:
    """Serve ``stub`` (set as ``handler.stub`` and given ``stub.server``) on a free loopback
    port from a background thread, until the block ends."""
    handler = type("Handler", (handler_base,), {"stub": stub})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    stub.server = server
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(name="mgmt")
def mgmt_fixture() -> Iterator[ManagementStub]:
    """A running @connections server on a free loopback port."""
    with serving(ManagementStub(), _Handler) as stub:
        yield stub


@pytest.fixture(name="clean_env", autouse=True)
def clean_env_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No wsgate setting leaks in from the shell; no cached client or counter between tests."""
    for name in (
        "WSGATE_ENDPOINT",
        "WSGATE_BASE_PATH",
        "WSGATE_TABLE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(metrics, "writer", lambda line: None)
    metrics.flush()
    _clients.reset()
    yield
    _clients.reset()
    metrics.flush()


@pytest.fixture(name="table")
def table_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto DynamoDB connection table with the module's schema; WSGATE_TABLE names it.

    Real DynamoDB applies each request atomically; moto's in-memory backend does not guard
    against threads, so requests are serialised here to give it the service's atomicity.
    """
    lock = threading.RLock()
    original = BotocoreStubber.process_request

    def atomic(self: BotocoreStubber, request: Any) -> Any:
        with lock:
            return original(self, request)

    monkeypatch.setattr(BotocoreStubber, "process_request", atomic)
    with mock_aws():
        create_connection_table(_clients.dynamodb_client(), TABLE)
        monkeypatch.setenv("WSGATE_TABLE", TABLE)
        yield TABLE
        _clients.reset()


# Importing a fixture makes it available in a test module. The ``*_fixture`` spellings keep a
# test's parameter from shadowing the imported name; the short ones are kept for existing imports.
mgmt = mgmt_fixture
clean_env = clean_env_fixture
table = table_fixture


def all_items(table_name: str = TABLE) -> list[dict[str, Any]]:
    """Every item in the table, deserialised (tests only: the runtime never scans)."""
    from wsgate.store import from_dynamodb

    client = _clients.dynamodb_client()
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=table_name):
        items.extend(from_dynamodb(item) for item in page["Items"])
    return items
