"""The send path's POST is the request a stock boto3 client sends, and its errors are the client's.

A recording @connections server (the ``mgmt_stub`` server, keeping each request's headers) takes
the same call from ``wsgate.send`` and from ``post_to_connection`` of a stock boto3 client; both
are checked field by field and their SigV4 signatures are verified with botocore's signer.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
import wsgate
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials, RefreshableCredentials
from botocore.exceptions import ClientError
from mgmt_stub import ManagementStub, _Handler, clean_env_fixture, serving  # noqa: F401
from wsgate import _clients, metrics
from wsgate._direct_sender import DirectSender
from wsgate.context import current_lambda_context
from wsgate.errors import SendFailed
from wsgate_local.testing import wsgate_gateway  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parents[2]


class Recorder(ManagementStub):
    """The stub, also keeping (method, path, headers, body) of every request it answers."""

    def __init__(self) -> None:
        super().__init__()
        self.headers_seen: list[dict[str, str]] = []
        self.wire: list[tuple[str, str, dict[str, str], bytes]] = []
        self.raw_answers: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.sockets: list[socket.socket] = []

    def close_idle(self) -> None:
        """Close the server's side of every open connection."""
        with self.lock:
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def answer(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any] | None]:
        with self.lock:
            self.wire.append((method, path, self.headers_seen[-1], body))
        return super().answer(method, path, body)


class _RecordingHandler(_Handler):
    stub: Recorder

    def setup(self) -> None:
        super().setup()
        with self.stub.lock:
            self.stub.sockets.append(self.connection)

    def _serve(self) -> None:
        raw = self.stub.raw_answers.get(self.path.rsplit("/", 1)[-1])
        if raw is None:
            with self.stub.lock:
                self.stub.headers_seen.append(dict(self.headers))
            super()._serve()
            return
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, headers, payload = raw
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(payload))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_POST = do_GET = do_DELETE = _serve


@pytest.fixture(name="rec")
def rec_fixture() -> Iterator[Recorder]:
    with serving(Recorder(), _RecordingHandler) as stub:
        yield stub


def stock_client(endpoint: str, region: str = "us-east-1") -> Any:
    # One attempt, as wsgate configures its own client: every answer is seen as it is.
    return boto3.session.Session().client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint,
        region_name=region,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def verify_signature(
    method: str, url: str, headers: dict[str, str], body: bytes, secret: str = "testing"
) -> str:
    """Recompute the request's SigV4 signature with botocore's signer; returns its scope."""
    authorization = headers["Authorization"]
    found = re.match(
        r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<scope>[^,]+), "
        r"SignedHeaders=(?P<signed>[^,]+), Signature=(?P<signature>[0-9a-f]{64})$",
        authorization,
    )
    assert found, authorization
    date, region, service, _ = found["scope"].split("/")
    lower = {name.lower(): value for name, value in headers.items()}
    signed = {name: lower[name] for name in found["signed"].split(";")}
    request = AWSRequest(method=method, url=url, headers=signed, data=body)
    request.context["timestamp"] = lower["x-amz-date"]
    signer = SigV4Auth(
        Credentials(found["key"], secret, lower.get("x-amz-security-token")), service, region
    )
    string_to_sign = signer.string_to_sign(request, signer.canonical_request(request))
    assert signer.signature(string_to_sign, request) == found["signature"]
    assert date == lower["x-amz-date"][:8]
    return str(found["scope"])


@pytest.mark.parametrize(
    ("connection_id", "data"),
    [
        ("A=", b'{"type":"hello"}'),
        ("a/b+c d=", "zoë ✓".encode()),
        ("Id_with-safe.chars~", b"\x00\xff" * 1000),
        ("empty=", b""),
    ],
)
def test_wire_request_is_the_stock_clients(rec: Recorder, connection_id: str, data: bytes) -> None:
    rec.connect(connection_id)
    stock_client(rec.endpoint).post_to_connection(ConnectionId=connection_id, Data=data)
    wsgate.send(connection_id, data, endpoint=rec.endpoint)

    (m1, path1, head1, body1), (m2, path2, head2, body2) = rec.wire
    assert (m2, path2, body2) == (m1, path1, body1) == ("POST", path1, data)
    assert path1.startswith("/dev/@connections/")
    assert rec.received[connection_id] == [data, data]
    for name in ("Host", "Content-Length", "X-Amz-Security-Token"):
        assert head2.get(name) == head1.get(name), name
    signed = [re.search(r"SignedHeaders=([^,]+)", h["Authorization"]) for h in (head1, head2)]
    assert signed[0] and signed[1] and signed[0][1] == signed[1][1]
    url = f"http://{head2['Host']}{path2}"
    assert verify_signature(m1, url, head1, body1) == verify_signature(m2, url, head2, body2)


def test_signature_scope_names_execute_api_and_the_region(
    rec: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    rec.connect("A=")
    wsgate.send("A=", "hi", endpoint=rec.endpoint)
    method, path, headers, body = rec.wire[0]
    scope = verify_signature(method, f"http://{headers['Host']}{path}", headers, body)
    assert scope.split("/")[1:] == ["eu-west-3", "execute-api", "aws4_request"]


def test_an_execute_api_endpoint_is_signed_for_its_own_region() -> None:
    endpoint = "https://abc123.execute-api.ap-southeast-2.amazonaws.com/prod"
    poster = _clients.sender(endpoint)
    request = AWSRequest(method="POST", url=endpoint + "/@connections/A%3D", data=b"hi")
    poster.sign(request)
    assert "/ap-southeast-2/execute-api/aws4_request" in request.headers["Authorization"]
    assert _clients.sender(endpoint) is poster  # one per endpoint


def test_refreshed_credentials_sign_the_next_request(rec: Recorder) -> None:
    issued = iter(range(100))

    def refresh() -> dict[str, str]:
        # Expiring within botocore's mandatory refresh window: every use refreshes.
        expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=60)
        n = next(issued)
        return {
            "access_key": f"KEY{n}",
            "secret_key": f"SECRET{n}",
            "token": "t",
            "expiry_time": expires.isoformat(),
        }

    credentials = RefreshableCredentials.create_from_metadata(refresh(), refresh, "test")
    rec.connect("A=")
    poster = DirectSender(rec.endpoint, "us-east-1", credentials)
    try:
        poster.post("A=", b"one")
        poster.post("A=", b"two")
    finally:
        poster.close()
    used = [h["Authorization"].split("Credential=")[1].split("/")[0] for _, _, h, _ in rec.wire]
    assert used == ["KEY1", "KEY2"]
    for n, (method, path, headers, body) in enumerate(rec.wire, start=1):
        url = f"http://{headers['Host']}{path}"
        verify_signature(method, url, headers, body, secret=f"SECRET{n}")


@pytest.mark.parametrize("status", [403, 410, 413, 429, 500, 503])
def test_error_answers_parse_to_the_stock_clients_error(rec: Recorder, status: int) -> None:
    for _ in range(2):
        rec.script("A=", status)
    with pytest.raises(ClientError) as stock:
        stock_client(rec.endpoint).post_to_connection(ConnectionId="A=", Data=b"x")
    poster = _clients.sender(rec.endpoint)
    with pytest.raises(ClientError) as ours:
        poster.post("A=", b"x")
    assert ours.value.response["Error"] == stock.value.response["Error"]
    assert ours.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert ours.value.operation_name == "PostToConnection"


@pytest.mark.parametrize(
    ("headers", "body", "code"),
    [
        (
            {},
            b'{"__type": "com.amazon.coral#GoneException:http://x", "message": "m"}',
            "GoneException",
        ),
        (
            {},
            b'{"code": "LimitExceededException", "Message": "slow down"}',
            "LimitExceededException",
        ),
        ({"x-amzn-ErrorType": "ForbiddenException:http://x"}, b"{}", "ForbiddenException"),
        ({}, b"<html>Service Unavailable</html>", "503"),
    ],
)
def test_error_code_comes_from_the_header_then_the_body_as_botocore_reads_it(
    rec: Recorder, headers: dict[str, str], body: bytes, code: str
) -> None:
    rec.raw_answers["B%3D"] = (503 if code == "503" else 400, headers, body)
    with pytest.raises(ClientError) as stock:
        stock_client(rec.endpoint).post_to_connection(ConnectionId="B=", Data=b"x")
    with pytest.raises(ClientError) as ours:
        _clients.sender(rec.endpoint).post("B=", b"x")
    assert ours.value.response["Error"]["Code"] == code
    assert ours.value.response["Error"] == stock.value.response["Error"]


def test_payload_too_large_answer_fails_without_retrying(rec: Recorder) -> None:
    rec.connect("A=")
    rec.script("A=", 413)
    with pytest.raises(SendFailed, match=r"PayloadTooLargeException after 1 attempt$"):
        wsgate.send("A=", "hi", endpoint=rec.endpoint)
    assert rec.calls("A=") == 1
    assert "Retries" not in metrics.pending()


def test_an_endpoint_nobody_listens_on_is_retried_then_fails() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Retried while the invocation has time (2.5 s left: about 1.25 s of retries), then reported.
    deadline = time.monotonic() + 2.5
    context = SimpleNamespace(
        get_remaining_time_in_millis=lambda: int((deadline - time.monotonic()) * 1000)
    )
    token = current_lambda_context.set(context)
    try:
        with pytest.raises(SendFailed, match=r"EndpointConnectionError after \d+ attempts") as err:
            wsgate.send("A=", "hi", endpoint=f"http://127.0.0.1:{port}/dev")
    finally:
        current_lambda_context.reset(token)
    attempts = int(str(err.value.reason).split(" after ")[1].split()[0])
    assert attempts > 1
    assert metrics.pending()["Retries"] == attempts - 1


def test_concurrent_sends_share_one_poster_and_all_arrive(rec: Recorder) -> None:
    ids = [f"c{n}=" for n in range(8)]
    rec.connect(*ids)
    barrier = threading.Barrier(len(ids))

    def burst(cid: str) -> None:
        barrier.wait()
        for n in range(25):
            wsgate.send(cid, {"n": n}, endpoint=rec.endpoint)

    threads = [threading.Thread(target=burst, args=(cid,)) for cid in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for cid in ids:
        assert rec.received[cid] == [
            json.dumps({"n": n}, separators=(",", ":")).encode() for n in range(25)
        ]
    assert len(_clients._senders) == 1


def test_echo_through_the_local_gateway_arrives_byte_for_byte(wsgate_gateway: Any) -> None:  # noqa: F811
    gw = wsgate_gateway(ROOT / "examples" / "echo")
    with gw.connect() as client:
        for text in ["hello", "zoë ✓ " * 10, '{"action":"x","n":[1,2]}', "y" * 32_000]:
            client.send(text)
            assert client.recv() == text


def test_an_idle_connection_the_server_closed_is_replaced_before_use(rec: Recorder) -> None:
    rec.connect("A=")
    wsgate.send("A=", "first", endpoint=rec.endpoint)
    # The server drops its idle keep-alive connection, as load balancers do after a while.
    rec.close_idle()
    wsgate.send("A=", "second", endpoint=rec.endpoint)
    assert rec.received["A="] == [b"first", b"second"]
    assert "Retries" not in metrics.pending()


def test_an_endpoint_behind_a_proxy_is_reached_through_the_proxy(
    rec: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{rec.endpoint.split(':')[2].split('/')[0]}")
    with pytest.raises(SendFailed):  # the recorder is no real proxy: it answers 403 itself
        wsgate.send("A=", "via proxy", endpoint="http://ws.example.invalid/dev")
    assert rec.wire[0][1] == "http://ws.example.invalid/dev/@connections/A%3D"


def test_a_connection_cut_mid_request_fails_without_a_retry_that_could_duplicate(
    rec: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec.connect("A=")

    def cut(self: Recorder, method: str, path: str, body: bytes) -> Any:
        raise ConnectionResetError("cut")  # the handler thread dies: no answer, socket closed

    monkeypatch.setattr(Recorder, "answer", cut)
    with pytest.raises(SendFailed, match=r"ConnectionClosedError after 1 attempt$"):
        wsgate.send("A=", "maybe delivered", endpoint=rec.endpoint)


@pytest.fixture(name="tls_rec")
def tls_rec_fixture(tmp_path: Path) -> Iterator[tuple[Recorder, Path]]:
    """The recorder behind TLS with a self-signed certificate for 127.0.0.1 (and its file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)

    class TlsServer(ThreadingHTTPServer):
        def get_request(self) -> tuple[socket.socket, Any]:
            sock, address = super().get_request()
            return context.wrap_socket(sock, server_side=True), address

    stub = Recorder()
    handler = type("Handler", (_RecordingHandler,), {"stub": stub})
    server = TlsServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    stub.server = server
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield stub, cert_file
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_https_endpoint_is_verified_against_the_configured_ca_bundle(
    tls_rec: tuple[Recorder, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    rec, cert_file = tls_rec
    endpoint = rec.endpoint.replace("http://", "https://")
    rec.connect("A=")
    with pytest.raises(SendFailed, match="SSLError"):  # not signed by a CA the client trusts
        wsgate.send("A=", "unverified", endpoint=endpoint)
    assert rec.wire == []

    _clients.reset()
    monkeypatch.setenv("AWS_CA_BUNDLE", str(cert_file))
    stock_client(endpoint).post_to_connection(ConnectionId="A=", Data=b"over tls")
    wsgate.send("A=", "over tls", endpoint=endpoint)
    assert rec.received["A="] == [b"over tls", b"over tls"]
    (_, path1, head1, _), (_, path2, head2, _) = rec.wire
    assert (path1, head1["Host"]) == (path2, head2["Host"])
