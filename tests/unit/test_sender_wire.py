"""Wire equivalence of the direct sender with a stock botocore client, on any botocore.

The direct sender (``wsgate._direct_sender``) builds PostToConnection from botocore's parts, so it
must be checked against each botocore it may meet. This module needs nothing but botocore, the
runtime and the standard library, so ``test_botocore_range.py`` runs it again in a fresh
interpreter against the oldest and the newest botocore the sender is tested with
(``wsgate.senders.OLDEST_TESTED`` and ``NEWEST_TESTED``).
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import botocore
import botocore.session
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from wsgate._direct_sender import DirectSender

ERROR_TYPES = {
    403: "ForbiddenException",
    410: "GoneException",
    413: "PayloadTooLargeException",
    429: "LimitExceededException",
    500: "InternalServerErrorException",
}


class Recording(ThreadingHTTPServer):
    """An @connections stand-in: records each request, answers 200 or a scripted error."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.wire: list[tuple[str, str, dict[str, str], bytes]] = []
        self.status = 200
        self.lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/dev"


class _Handler(BaseHTTPRequestHandler):
    server: Recording
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.wire.append(("POST", self.path, dict(self.headers), body))
            status = self.server.status
        payload = b""
        headers = {}
        if status != 200:
            kind = ERROR_TYPES[status]
            payload = json.dumps({"message": f"{kind} from the stand-in"}).encode()
            headers = {"x-amzn-ErrorType": f"{kind}:http://internal.amazon.com/coral/"}
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(payload))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(name="server")
def server_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recording]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "session-token",
    }.items():
        monkeypatch.setenv(name, value)
    server = Recording()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def stock_client(endpoint: str) -> Any:
    return botocore.session.get_session().create_client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def direct(endpoint: str) -> DirectSender:
    credentials = botocore.session.get_session().get_credentials()
    return DirectSender(endpoint, "us-east-1", credentials)


def verify_signature(method: str, url: str, headers: dict[str, str], body: bytes) -> str:
    """Recompute the SigV4 signature with botocore's signer; returns the credential scope."""
    found = re.match(
        r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<scope>[^,]+), "
        r"SignedHeaders=(?P<signed>[^,]+), Signature=(?P<signature>[0-9a-f]{64})$",
        headers["Authorization"],
    )
    assert found, headers["Authorization"]
    _, region, service, _ = found["scope"].split("/")
    lower = {name.lower(): value for name, value in headers.items()}
    request = AWSRequest(
        method=method,
        url=url,
        headers={name: lower[name] for name in found["signed"].split(";")},
        data=body,
    )
    request.context["timestamp"] = lower["x-amz-date"]
    signer = SigV4Auth(
        Credentials(found["key"], "testing", lower.get("x-amz-security-token")), service, region
    )
    string_to_sign = signer.string_to_sign(request, signer.canonical_request(request))
    assert signer.signature(string_to_sign, request) == found["signature"]
    return str(found["scope"])


def test_runs_against_the_botocore_it_was_asked_for() -> None:
    expected = os.environ.get("WSGATE_EXPECT_BOTOCORE")
    if expected is None:
        pytest.skip("run by test_botocore_range.py with WSGATE_EXPECT_BOTOCORE set")
    assert botocore.__version__ == expected


@pytest.mark.parametrize(
    ("connection_id", "data"),
    [("A=", b'{"type":"hello"}'), ("a/b+c d=", "zoë ✓".encode()), ("empty=", b"")],
)
def test_the_direct_post_is_the_stock_clients_request(
    server: Recording, connection_id: str, data: bytes
) -> None:
    stock_client(server.endpoint).post_to_connection(ConnectionId=connection_id, Data=data)
    sender = direct(server.endpoint)
    try:
        sender.post(connection_id, data)
    finally:
        sender.close()
    (m1, path1, head1, body1), (m2, path2, head2, body2) = server.wire
    assert (m2, path2, body2) == (m1, path1, body1) == ("POST", path1, data)
    for name in ("Host", "Content-Length", "X-Amz-Security-Token"):
        assert head2.get(name) == head1.get(name), name
    signed = [re.search(r"SignedHeaders=([^,]+)", h["Authorization"]) for h in (head1, head2)]
    assert signed[0] and signed[1] and signed[0][1] == signed[1][1]
    url = f"http://{head2['Host']}{path2}"
    assert verify_signature(m1, url, head1, body1) == verify_signature(m2, url, head2, body2)


@pytest.mark.parametrize("status", sorted(ERROR_TYPES))
def test_error_answers_raise_the_stock_clients_error(server: Recording, status: int) -> None:
    server.status = status
    with pytest.raises(ClientError) as stock:
        stock_client(server.endpoint).post_to_connection(ConnectionId="A=", Data=b"x")
    sender = direct(server.endpoint)
    try:
        with pytest.raises(ClientError) as ours:
            sender.post("A=", b"x")
    finally:
        sender.close()
    assert ours.value.response["Error"] == stock.value.response["Error"]
    assert ours.value.response["Error"]["Code"] == ERROR_TYPES[status]
    assert ours.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert ours.value.operation_name == stock.value.operation_name == "PostToConnection"
