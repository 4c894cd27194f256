"""The local HTTP API (``http_api = true``): payload 2.0 events in, API Gateway's reading out."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from wsgate_local.config import GatewayConfig
from wsgate_local.http_api import http_event, http_response
from wsgate_local.testing import running_gateway

CONFIG = GatewayConfig(name="demo", source_dir=Path("."), http_api=True)


def _event(**kw):
    base = dict(
        method="GET",
        path="/",
        query="",
        headers=[],
        body=b"",
        source_ip="127.0.0.1",
        host="127.0.0.1:3002",
    )
    base.update(kw)
    return http_event(CONFIG, **base)


def test_event_has_payload_2_fields_for_the_default_route_and_stage() -> None:
    event = _event(path="/items/1", query="a=1&a=2&b=", headers=[("User-Agent", "curl/8")])
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/items/1" and event["rawQueryString"] == "a=1&a=2&b="
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    context = event["requestContext"]
    assert context["stage"] == "$default" and context["routeKey"] == "$default"
    assert context["http"]["method"] == "GET" and context["http"]["userAgent"] == "curl/8"
    assert context["apiId"] == CONFIG.api_id and context["accountId"] == CONFIG.account_id
    assert isinstance(context["timeEpoch"], int) and context["time"].endswith("+0000")


def test_headers_are_lower_cased_and_joined_and_cookies_are_split_out() -> None:
    event = _event(
        headers=[("X-Tag", "a"), ("x-tag", "b"), ("Cookie", "s=1; t=2"), ("Cookie", "u=3")]
    )
    assert event["headers"]["x-tag"] == "a,b"
    assert "cookie" not in event["headers"]
    assert event["cookies"] == ["s=1", "t=2", "u=3"]


def test_binary_body_arrives_base64_encoded_and_text_as_is() -> None:
    binary = _event(method="POST", body=b"\x00\xff", headers=[("Content-Type", "image/png")])
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\x00\xff"
    text = _event(method="POST", body=b'{"a": 1}', headers=[("Content-Type", "application/json")])
    assert (text["isBase64Encoded"], text["body"]) == (False, '{"a": 1}')


def test_result_without_status_code_is_a_json_200() -> None:
    assert http_response({"ok": True}) == (
        200,
        [("Content-Type", "application/json")],
        b'{"ok": true}',
    )
    assert http_response("hi")[2] == b'"hi"'


def test_result_fields_become_status_headers_cookies_and_body() -> None:
    status, headers, body = http_response(
        {
            "statusCode": 201,
            "headers": {"content-type": "image/png"},
            "cookies": ["a=1; Path=/"],
            "body": base64.b64encode(b"\x89PNG").decode(),
            "isBase64Encoded": True,
        }
    )
    assert status == 201 and body == b"\x89PNG"
    assert ("Set-Cookie", "a=1; Path=/") in headers and ("content-type", "image/png") in headers


@pytest.mark.parametrize(
    "bad",
    [
        {"statusCode": "abc"},
        {"statusCode": 99},
        {"statusCode": 200, "body": "!!", "isBase64Encoded": True},
    ],
)
def test_malformed_result_is_an_internal_server_error(bad: dict) -> None:
    status, _, body = http_response(bad)
    assert status == 500 and json.loads(body) == {"message": "Internal Server Error"}


def test_gateway_serves_the_http_api_only_when_the_module_asks(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(
        "import json\n"
        "def app(event, context):\n"
        "    if 'http' not in event.get('requestContext', {}):\n"
        "        return {'statusCode': 200}\n"
        "    if event['rawPath'] == '/boom':\n"
        "        raise RuntimeError('boom')\n"
        "    return {'statusCode': 200, 'headers': {'content-type': 'application/json'},\n"
        "            'body': json.dumps({'path': event['rawPath'],\n"
        "                                'q': event.get('queryStringParameters')})}\n"
    )
    repo = Path(__file__).resolve().parents[2]

    def module_block(extra: str) -> str:
        return (
            f'module "ws" {{\n  source = "{repo}"\n  name = "demo"\n'
            f'  source_dir = "${{path.module}}/src"\n{extra}}}\n'
        )

    (tmp_path / "main.tf").write_text(module_block("  http_api = true\n"))
    with running_gateway(tmp_path, workers=1, quiet=True) as gw:
        assert gw.http_url is not None
        with urllib.request.urlopen(gw.http_url + "x/y?k=v", timeout=30) as response:
            assert json.loads(response.read()) == {"path": "/x/y", "q": {"k": "v"}}
        with pytest.raises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(gw.http_url + "boom", timeout=30)
        assert failed.value.code == 500
        assert json.loads(failed.value.read()) == {"message": "Internal Server Error"}
    (tmp_path / "main.tf").write_text(module_block(""))
    with running_gateway(tmp_path, workers=1, quiet=True) as gw:
        assert gw.http_url is None
