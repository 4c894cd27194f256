"""``http_api = true``: an HTTP API before the dispatcher, planned and applied offline."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tfoffline import Terraform


class Stack:
    def __init__(self, tf: Terraform) -> None:
        self.plan = tf.plan()
        self.outputs = tf.apply()
        self.state = tf.state()

    def resources(self, module: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for child in self.state["values"]["root_module"].get("child_modules", []):
            if child["address"] == f"module.{module}":
                for res in child.get("resources", []):
                    if res["mode"] == "managed":
                        found[res["address"].split(".", 2)[2]] = res["values"]
        return found


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with Terraform("tests/terraform/fixtures/http_api") as tf:
        yield Stack(tf)


def test_http_api_is_an_http_api_with_one_default_route_to_the_dispatcher(stack: Stack) -> None:
    res = stack.resources("with_http")
    assert res["aws_apigatewayv2_api.http[0]"]["protocol_type"] == "HTTP"
    route = res["aws_apigatewayv2_route.http[0]"]
    integration = res["aws_apigatewayv2_integration.http[0]"]
    assert route["route_key"] == "$default"
    assert route["target"] == f"integrations/{integration['id']}"
    assert integration["integration_type"] == "AWS_PROXY"
    assert integration["payload_format_version"] == "2.0"
    # The same function as the WebSocket API's integration.
    assert integration["integration_uri"] == res["aws_lambda_function.dispatcher"]["invoke_arn"]
    assert (
        integration["integration_uri"]
        == res["aws_apigatewayv2_integration.this"]["integration_uri"]
    )


def test_http_stage_throttles_and_logs_like_the_websocket_stage(stack: Stack) -> None:
    res = stack.resources("with_http")
    http, ws = res["aws_apigatewayv2_stage.http[0]"], res["aws_apigatewayv2_stage.this"]
    assert http["name"] == "$default" and http["auto_deploy"] is True
    for key in ("throttling_burst_limit", "throttling_rate_limit"):
        assert http["default_route_settings"][0][key] == ws["default_route_settings"][0][key]
    assert http["default_route_settings"][0]["throttling_burst_limit"] == 40
    log_group = res["aws_cloudwatch_log_group.http[0]"]
    assert http["access_log_settings"][0]["destination_arn"] == log_group["arn"]
    assert log_group["retention_in_days"] == 400
    fields = json.loads(http["access_log_settings"][0]["format"])
    assert {"requestId", "httpMethod", "path", "status", "integrationError"} <= set(fields)
    assert all(value.startswith("$context.") for value in fields.values())


def test_lambda_permission_allows_only_this_http_apis_default_route(stack: Stack) -> None:
    res = stack.resources("with_http")
    permission = res["aws_lambda_permission.http[0]"]
    api = res["aws_apigatewayv2_api.http[0]"]
    assert permission["principal"] == "apigateway.amazonaws.com"
    assert permission["action"] == "lambda:InvokeFunction"
    assert permission["function_name"] == res["aws_lambda_function.dispatcher"]["function_name"]
    assert permission["source_arn"] == f"{api['execution_arn']}/*/$default"
    # The WebSocket API keeps its own, separate permission.
    assert res["aws_lambda_permission.dispatcher"]["source_arn"] != permission["source_arn"]


def test_http_api_url_is_an_output(stack: Stack) -> None:
    res = stack.resources("with_http")
    api = res["aws_apigatewayv2_api.http[0]"]
    out = stack.outputs["with_http"]
    assert out["http_api_url"] == f"https://{api['id']}.execute-api.eu-west-1.amazonaws.com/"
    assert out["http_api_id"] == api["id"]
    assert out["http_api_log_group_name"] == "/aws/apigateway/with-http-http"


def test_without_http_api_nothing_http_is_created(stack: Stack) -> None:
    assert not [a for a in stack.resources("without_http") if a.endswith(".http[0]")]
    assert stack.outputs["without_http"] == {"http_api_url": None, "http_api_id": None}


def test_http_api_plans_with_the_real_provider_schema(
    terraform_config: Callable[..., Terraform],
) -> None:
    # validate checks every argument of http.tf against hashicorp/aws's schema.
    tf = terraform_config("tests/terraform/fixtures/http_api")
    assert tf.validate()["valid"] is True
