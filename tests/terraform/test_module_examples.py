"""Every example is a working root module: init, validate, plan and apply offline.

The examples are what users copy, and the local gateway reads the same module blocks, so their
route keys, handlers and wiring are asserted here on the plan and on the applied state.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tools"))

from tfoffline import Terraform  # noqa: E402

PREDEFINED = ["$connect", "$default", "$disconnect"]
VARIABLES: dict[str, dict[str, Any]] = {"authorizer": {"auth_secret": "s" * 64}}


class Example:
    def __init__(self, name: str) -> None:
        self.name = name
        self.tf = Terraform(REPO_ROOT / "examples" / name)
        variables = VARIABLES.get(name)
        self.validation = self.tf.validate()
        self.plan = self.tf.plan(variables=variables)
        self.outputs = self.tf.apply(variables=variables)
        self.state = self.tf.state()

    def planned(self, rtype: str, module: str | None = "module.ws") -> list[dict[str, Any]]:
        return [
            c["change"]["after"]
            for c in self.plan["resource_changes"]
            if c["type"] == rtype and c.get("module_address") == module and c["mode"] == "managed"
        ]

    def applied(self, address: str) -> dict[str, Any]:
        def walk(module: dict[str, Any]) -> Iterator[dict[str, Any]]:
            yield from module.get("resources", [])
            for child in module.get("child_modules", []):
                yield from walk(child)

        for res in walk(self.state["values"]["root_module"]):
            if res["address"] == address:
                return res["values"]  # type: ignore[no-any-return]
        raise KeyError(address)

    def route_keys(self) -> list[str]:
        """The WebSocket API's route keys (an optional HTTP API's route is not one of them)."""
        return sorted(
            c["change"]["after"]["route_key"]
            for c in self.plan["resource_changes"]
            if c["type"] == "aws_apigatewayv2_route"
            and c["address"].startswith("module.ws.")
            and c["name"] == "this"
        )


_cache: dict[str, Example] = {}


@pytest.fixture(scope="module")
def example() -> Iterator[Any]:
    def get(name: str) -> Example:
        if name not in _cache:
            _cache[name] = Example(name)
        return _cache[name]

    yield get
    for ex in _cache.values():
        ex.tf.cleanup()
    _cache.clear()


@pytest.mark.parametrize("name", ["echo", "chat", "authorizer", "notify", "zappa-migration"])
def test_example_validates_plans_and_applies_to_a_stage_url(example, name):
    ex = example(name)
    assert ex.validation["valid"] is True
    assert ex.validation["warning_count"] == 0
    url = ex.outputs["websocket_url"]
    assert url.startswith("wss://") and ".execute-api.us-east-1.amazonaws.com/" in url
    assert url.endswith("/dev")
    # only the module's resources and the example's own; nothing planned twice
    addresses = [c["address"] for c in ex.plan["resource_changes"]]
    assert len(addresses) == len(set(addresses))


@pytest.mark.parametrize(
    ("name", "routes", "handler"),
    [
        ("echo", [], "app.app"),
        ("chat", ["hello", "join", "leave", "members", "ping", "say"], "app.app"),
        ("authorizer", ["say", "whoami"], "app.app"),
        ("notify", ["subscribe", "unsubscribe"], "app.app"),
        ("zappa-migration", [], "wsgate.compat.zappa.handler"),
    ],
)
def test_example_routes_and_handler(example, name, routes, handler):
    ex = example(name)
    assert ex.route_keys() == sorted(PREDEFINED + routes)
    (function,) = [
        f
        for f in ex.planned("aws_lambda_function")
        if not f["function_name"].endswith("-authorizer")
    ]
    assert function["handler"] == handler
    assert function["function_name"] == name


def test_authorizer_example_guards_connect_with_its_own_function(example):
    ex = example("authorizer")
    routes = {r["route_key"]: r for r in ex.planned("aws_apigatewayv2_route")}
    assert routes["$connect"]["authorization_type"] == "CUSTOM"
    assert all(r["authorization_type"] == "NONE" for k, r in routes.items() if k != "$connect")
    assert routes["whoami"]["route_response_selection_expression"] == "$default"
    (authorizer,) = ex.planned("aws_apigatewayv2_authorizer")
    assert authorizer["identity_sources"] == ["route.request.querystring.token"]
    auth_fn = ex.applied("module.ws.aws_lambda_function.authorizer[0]")
    assert auth_fn["handler"] == "auth.authorize"
    assert auth_fn["environment"][0]["variables"]["AUTH_SECRET"] == "s" * 64


def test_notify_example_wires_a_scheduled_sender_with_the_modules_env_and_policy(example):
    ex = example("notify")
    notifier = ex.applied("aws_lambda_function.notifier")
    assert notifier["handler"] == "notifier.handler"
    assert notifier["environment"][0]["variables"] == ex.outputs["env"]
    assert set(ex.outputs["env"]) == {"WSGATE_ENDPOINT", "WSGATE_TABLE"}
    assert ex.outputs["env"]["WSGATE_ENDPOINT"].startswith("https://")
    # the same zip as the dispatcher: runtime and src/ together
    dispatcher = ex.applied("module.ws.aws_lambda_function.this")
    assert notifier["filename"] == dispatcher["filename"]
    assert notifier["source_code_hash"] == dispatcher["source_code_hash"]

    send = json.loads(ex.applied("aws_iam_role_policy.notifier_send")["policy"])
    sids = {s["Sid"]: s for s in send["Statement"]}
    assert set(sids) == {"ManageConnections", "ConnectionTable"}
    api = ex.applied("module.ws.aws_apigatewayv2_api.this")["execution_arn"]
    assert sids["ManageConnections"]["Resource"][0] == f"{api}/dev/POST/@connections/*"
    logs = json.loads(ex.applied("aws_iam_role_policy.notifier_logs")["policy"])
    group = ex.applied("aws_cloudwatch_log_group.notifier")["arn"]
    assert logs["Statement"] == [
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [f"{group}:*"],
        }
    ]

    rule = ex.applied("aws_cloudwatch_event_rule.notify")
    assert rule["schedule_expression"] == "rate(1 minute)"
    target = ex.applied("aws_cloudwatch_event_target.notify")
    assert target["arn"] == notifier["arn"]
    permission = ex.applied("aws_lambda_permission.notify")
    assert permission["principal"] == "events.amazonaws.com"
    assert permission["source_arn"] == rule["arn"]


def test_zappa_example_names_the_module_holding_the_decorated_handlers(example):
    ex = example("zappa-migration")
    function = ex.applied("module.ws.aws_lambda_function.this")
    assert function["environment"][0]["variables"]["WSGATE_ZAPPA_MODULE"] == "app"
    assert (REPO_ROOT / "examples" / "zappa-migration" / "src" / "app.py").exists()


@pytest.mark.parametrize("name", ["echo", "chat", "authorizer", "notify", "zappa-migration"])
def test_local_gateway_reads_the_same_api_the_plan_deploys(example, name):
    from wsgate_local.config import load_config

    ex = example(name)
    local = load_config(REPO_ROOT / "examples" / name, variables=VARIABLES.get(name))
    assert sorted(PREDEFINED + list(local.routes)) == ex.route_keys()
    planned_two_way = sorted(
        r["route_key"]
        for r in ex.planned("aws_apigatewayv2_route")
        if r.get("route_response_selection_expression") == "$default"
    )
    assert sorted(local.two_way_routes) == planned_two_way
    # The WebSocket API and its stage (an optional HTTP API auto-deploys its $default stage).
    (api,) = [a for a in ex.planned("aws_apigatewayv2_api") if a["protocol_type"] == "WEBSOCKET"]
    assert local.route_selection_expression == api["route_selection_expression"]
    (stage,) = [s for s in ex.planned("aws_apigatewayv2_stage") if not s.get("auto_deploy")]
    assert local.stage_name == stage["name"]
    dispatcher = ex.applied("module.ws.aws_lambda_function.this")
    assert local.handler == dispatcher["handler"]
    authorizers = ex.planned("aws_apigatewayv2_authorizer")
    if authorizers:
        assert list(local.authorizer_identity_sources) == authorizers[0]["identity_sources"]
        auth_fn = ex.applied("module.ws.aws_lambda_function.authorizer[0]")
        assert local.authorizer_handler == auth_fn["handler"]
    else:
        assert local.authorizer_handler is None
