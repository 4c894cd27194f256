"""The local @connections API and DynamoDB serve the developer's own SDK clients only: a
loopback ``Host`` and a SigV4-shaped ``Authorization`` header are required, and no CORS header
invites a web page in. A browser's simple ``text/plain`` POST, a DNS-rebound ``Host`` and a
preflight all fail; stock boto3 works unchanged. ``--host 0.0.0.0`` prints a warning."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest
from reliability_support import EXAMPLES, GatewayProcess
from websockets.sync.client import connect

ECHO = EXAMPLES / "echo"
#: Shaped like SigV4, signed by nobody: the shape is all the local services check.
FAKE_SIGV4 = (
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/execute-api/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
)


def http(
    method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body or None, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def no_cors(headers: dict[str, str]) -> bool:
    return not any(name.lower().startswith("access-control-") for name in headers)


@pytest.fixture(scope="module")
def echo(tmp_path_factory: pytest.TempPathFactory) -> Any:
    gateway = GatewayProcess(ECHO, tmp_path_factory.mktemp("exposure"))
    try:
        yield gateway
    finally:
        gateway.stop()


def test_a_web_page_cannot_post_to_a_connection_but_boto3_can(echo: GatewayProcess) -> None:
    with connect(echo.ws_url, open_timeout=30) as ws:
        [conn] = echo.live_connections()
        url = f"{echo.endpoint}/@connections/{conn['connectionId']}"
        page = {"Content-Type": "text/plain", "Origin": "http://attacker.example"}
        # A browser's simple request: no preflight, no Authorization header possible.
        status, headers, _ = http("POST", url, b"from a web page", page)
        assert status == 403 and no_cors(headers)
        # DNS rebinding: the right address, the attacker's name in Host.
        rebound = {"Host": "attacker.example", "Authorization": FAKE_SIGV4}
        status, headers, body = http("POST", url, b"rebound", rebound)
        assert status == 403 and no_cors(headers)
        assert b"loopback" in body  # the answer says what is required
        # The preflight a page needs for anything else gets no CORS permission.
        status, headers, _ = http(
            "OPTIONS", url, headers={**page, "Access-Control-Request-Method": "POST"}
        )
        assert no_cors(headers)
        # A stock SDK client is served, with any credentials.
        management = boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=echo.endpoint,
            region_name="us-east-1",
            aws_access_key_id="anything",
            aws_secret_access_key="anything",
        )
        management.post_to_connection(ConnectionId=conn["connectionId"], Data=b"from boto3")
        assert ws.recv(timeout=10) == "from boto3"  # the first and only frame


def test_local_dynamodb_refuses_pages_and_rebinding_and_sends_no_cors(
    echo: GatewayProcess,
) -> None:
    target = {"X-Amz-Target": "DynamoDB_20120810.ListTables"}
    amz_json = {"Content-Type": "application/x-amz-json-1.0", **target}
    status, headers, body = http(
        "POST", echo.dynamodb_url, b"{}", {**amz_json, "Origin": "http://attacker.example"}
    )
    assert status == 400 and no_cors(headers)
    assert json.loads(body)["__type"].endswith("MissingAuthenticationTokenException")
    rebound = {**amz_json, "Host": "attacker.example", "Authorization": FAKE_SIGV4}
    status, headers, _ = http("POST", echo.dynamodb_url, b"{}", rebound)
    assert status == 403 and no_cors(headers)
    status, headers, _ = http(
        "OPTIONS",
        echo.dynamodb_url,
        headers={"Origin": "http://attacker.example", "Access-Control-Request-Method": "POST"},
    )
    assert no_cors(headers)
    client = boto3.client(
        "dynamodb",
        endpoint_url=echo.dynamodb_url,
        region_name="us-east-1",
        aws_access_key_id="anything",
        aws_secret_access_key="anything",
    )
    assert echo.table in client.list_tables()["TableNames"]


def test_binding_beyond_loopback_prints_a_warning(gateway_process: Any) -> None:
    gateway = gateway_process(ECHO, "--host", "0.0.0.0")
    banner = gateway.output()
    assert "warning: listening on 0.0.0.0" in banner
    # The gateway still serves its own handlers' SDK calls at the bound address.
    with connect(gateway.ws_url.replace("0.0.0.0", "127.0.0.1"), open_timeout=30) as ws:
        ws.send("ping")
        assert ws.recv(timeout=15) == "ping"
