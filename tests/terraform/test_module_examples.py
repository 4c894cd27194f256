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
#: An RSA public key in PEM form (the authorizer example verifies tokens with it).
PUBLIC_KEY = (
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAycW1bjF2Oobu8HZbe7mK\n"
    "-----END PUBLIC KEY-----\n"
)
VARIABLES: dict[str, dict[str, Any]] = {"authorizer": {"jwt_public_key": PUBLIC_KEY}}


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

    def module_default(self, name: str) -> Any:
        """The default of a module variable (the examples leave source_excludes at it)."""
        import hcl2

        with open(REPO_ROOT / "variables.tf") as fh:
            doc = hcl2.load(fh)
        for block in doc["variable"]:
            for key, body in block.items():
                if key.strip('"') == name:
                    return [json.loads(v) if v.startswith('"') else v for v in body["default"]]
        raise KeyError(name)

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


def test_authorizer_reads_its_key_from_parameter_store_with_iam_for_that_parameter(example):
    ex = example("authorizer")
    param = ex.applied("aws_ssm_parameter.jwt_public_key")
    assert param["type"] == "SecureString"
    auth_env = ex.applied("module.ws.aws_lambda_function.authorizer[0]")["environment"][0]
    assert auth_env["variables"]["JWT_PUBLIC_KEY_PARAMETER"] == param["name"]
    # The key is in no function's environment, and the dispatcher gets none of the
    # authorizer's settings.
    dispatcher_env = ex.applied("module.ws.aws_lambda_function.dispatcher")["environment"][0]
    for env in (auth_env["variables"], dispatcher_env["variables"]):
        assert not [v for v in env.values() if "BEGIN PUBLIC KEY" in v]
    assert not [k for k in dispatcher_env["variables"] if k.startswith("JWT_")]
    # ssm:GetParameter on exactly that parameter, attached to the authorizer's role only.
    policy = ex.applied("aws_iam_role_policy.authorizer_reads_key")
    assert policy["role"] == ex.applied("module.ws.aws_iam_role.authorizer[0]")["name"]
    assert json.loads(policy["policy"])["Statement"] == [
        {
            "Sid": "ReadJwtPublicKey",
            "Effect": "Allow",
            "Action": ["ssm:GetParameter"],
            "Resource": [param["arn"]],
        }
    ]
    assert param["arn"] == f"arn:aws:ssm:us-east-1:123456789012:parameter{param['name']}"


def test_notify_example_wires_a_scheduled_sender_with_the_modules_env_and_policy(example):
    ex = example("notify")
    notifier = ex.applied("aws_lambda_function.notifier")
    assert notifier["handler"] == "notifier.handler"
    assert notifier["environment"][0]["variables"] == ex.outputs["env"]
    assert set(ex.outputs["env"]) == {
        "WSGATE_ENDPOINT",
        "WSGATE_TABLE",
        "WSGATE_FANOUT_FUNCTION",
        "WSGATE_FANOUT_THRESHOLD",
        "WSGATE_FANOUT_SHARD_SIZE",
    }
    assert ex.outputs["env"]["WSGATE_ENDPOINT"].startswith("https://")
    # the same zip as the dispatcher: runtime and src/ together
    dispatcher = ex.applied("module.ws.aws_lambda_function.dispatcher")
    assert notifier["filename"] == dispatcher["filename"]
    assert notifier["source_code_hash"] == dispatcher["source_code_hash"]

    send = json.loads(ex.applied("aws_iam_role_policy.notifier_send")["policy"])
    sids = {s["Sid"]: s for s in send["Statement"]}
    assert set(sids) == {"ManageConnections", "ConnectionTable", "FanOut"}
    # a large publish from the notifier fans out through the dispatcher, and only through it
    assert ex.outputs["env"]["WSGATE_FANOUT_FUNCTION"] == dispatcher["function_name"]
    assert sids["FanOut"]["Action"] == ["lambda:InvokeFunction"]
    assert sids["FanOut"]["Resource"] == [dispatcher["arn"]]
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
    function = ex.applied("module.ws.aws_lambda_function.dispatcher")
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
    dispatcher = ex.applied("module.ws.aws_lambda_function.dispatcher")
    assert local.handler == dispatcher["handler"]
    authorizers = ex.planned("aws_apigatewayv2_authorizer")
    if authorizers:
        assert list(local.authorizer_identity_sources) == authorizers[0]["identity_sources"]
        auth_fn = ex.applied("module.ws.aws_lambda_function.authorizer[0]")
        assert local.authorizer_handler == auth_fn["handler"]
    else:
        assert local.authorizer_handler is None


@pytest.mark.parametrize("name", ["echo", "chat", "authorizer", "notify", "zappa-migration"])
def test_example_function_uploads_its_src_byte_for_byte_with_the_runtime(example, name):
    import re
    import zipfile

    ex = example(name)
    function = ex.applied("module.ws.aws_lambda_function.dispatcher")
    excludes = [re.compile(p) for p in ex.module_default("source_excludes")]
    src = REPO_ROOT / "examples" / name / "src"
    expected = {
        p.relative_to(src).as_posix(): p.read_bytes()
        for p in src.rglob("*")
        if p.is_file() and not any(x.search(p.relative_to(src).as_posix()) for x in excludes)
    }
    with zipfile.ZipFile(ex.tf.workdir / function["filename"]) as zf:
        names = set(zf.namelist())
        for rel, data in expected.items():
            assert zf.read(rel) == data, rel
        runtime = REPO_ROOT / "lambda" / "wsgate"
        assert zf.read("wsgate/app.py") == (runtime / "app.py").read_bytes()
    assert not [n for n in names if n.startswith(("tests/", ".venv/", "wsgate_local/"))]
    assert not [n for n in names if "__pycache__" in n and not n.endswith(".cpython-312.pyc")]
