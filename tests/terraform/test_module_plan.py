"""The root module through a fixture root: plan and apply offline, then assert on the result.

``tests/terraform/fixture/main.tf`` calls the module three times: ``basic`` (defaults),
``full`` (authorizer built from source_dir, custom domain, tracing, KMS, execution logging, DLQ)
and ``external_auth`` (an existing authorizer function). One validate, one plan and one apply
cover all three; the plan shows what is known before apply, the state after apply shows the
ARNs the stand-in provider filled in (account 123456789012, region eu-west-1).
"""

from __future__ import annotations

import json
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tools"))

from tfoffline import Terraform  # noqa: E402

REGION = "eu-west-1"
KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"


class Applied:
    """The fixture root after validate, plan and apply."""

    def __init__(self, tf: Terraform) -> None:
        self.tf = tf
        self.validation = tf.validate()
        self.plan = tf.plan()
        self.outputs = tf.apply()
        self.state = tf.state()

    # -- lookups -----------------------------------------------------------------------------
    def planned(self, address: str) -> dict[str, Any]:
        for change in self.plan["resource_changes"]:
            if change["address"] == address:
                return change
        raise KeyError(address)

    def resources(self, module: str, rtype: str) -> dict[str, dict[str, Any]]:
        """Applied resources of a type in ``module.<module>``, by address."""
        found = {}
        for child in self.state["values"]["root_module"].get("child_modules", []):
            if child["address"] != f"module.{module}":
                continue
            for res in child.get("resources", []):
                if res["type"] == rtype and res["mode"] == "managed":
                    found[res["address"]] = res["values"]
        return found

    def one(self, module: str, rtype: str, name: str = "this") -> dict[str, Any]:
        matches = [
            v
            for a, v in self.resources(module, rtype).items()
            if a.split(".")[-1].split("[")[0] == name
        ]
        assert len(matches) == 1, (module, rtype, name, len(matches))
        return matches[0]

    def config(self, module: str, address: str) -> dict[str, Any]:
        """The configuration (expressions) of a resource in the module call."""
        call = self.plan["configuration"]["root_module"]["module_calls"][module]["module"]
        for res in call["resources"]:
            if res["address"] == address:
                return res
        raise KeyError(address)

    def policy(self, module: str, name: str) -> dict[str, Any]:
        return json.loads(self.one(module, "aws_iam_role_policy", name)["policy"])


@pytest.fixture(scope="module")
def applied() -> Iterator[Applied]:
    tf = Terraform(REPO_ROOT / "tests" / "terraform" / "fixture")
    try:
        yield Applied(tf)
    finally:
        tf.cleanup()


def statements(policy: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in policy["Statement"]}


# -- plan ------------------------------------------------------------------------------------


def test_fixture_root_validates(applied):
    assert applied.validation["valid"] is True
    assert applied.validation["error_count"] == 0


def test_routes_are_the_three_predefined_keys_plus_custom_routes(applied):
    keys = {
        module: sorted(
            c["change"]["after"]["route_key"]
            for c in applied.plan["resource_changes"]
            if c["type"] == "aws_apigatewayv2_route" and c["module_address"] == f"module.{module}"
        )
        for module in ("basic", "full", "external_auth")
    }
    assert keys == {
        "basic": ["$connect", "$default", "$disconnect", "join", "say"],
        "full": ["$connect", "$default", "$disconnect", "ping"],
        "external_auth": ["$connect", "$default", "$disconnect"],
    }


def test_api_is_websocket_with_action_route_selection(applied):
    api = applied.planned("module.basic.aws_apigatewayv2_api.this")["change"]["after"]
    assert api["protocol_type"] == "WEBSOCKET"
    assert api["route_selection_expression"] == "$request.body.action"
    assert api["name"] == "basic"


def test_one_lambda_proxy_integration_with_post_and_the_timeout(applied):
    integrations = {m: applied.one(m, "aws_apigatewayv2_integration") for m in ("basic", "full")}
    for integration in integrations.values():
        assert integration["integration_type"] == "AWS_PROXY"
        assert integration["integration_method"] == "POST"
        assert integration["payload_format_version"] in (None, "", "1.0")
    assert integrations["basic"]["timeout_milliseconds"] == 29000
    assert integrations["full"]["timeout_milliseconds"] == 10000
    # wired to the dispatcher's invoke ARN, and every route targets it
    function = applied.one("basic", "aws_lambda_function", "dispatcher")
    assert integrations["basic"]["integration_uri"] == function["invoke_arn"]
    integration_id = integrations["basic"]["id"]
    targets = {
        r["route_key"]: r["target"]
        for r in applied.resources("basic", "aws_apigatewayv2_route").values()
    }
    assert set(targets.values()) == {f"integrations/{integration_id}"}


def test_two_way_routes_get_a_default_route_response(applied):
    routes = {
        r["route_key"]: r for r in applied.resources("basic", "aws_apigatewayv2_route").values()
    }
    two_way = {
        k for k, r in routes.items() if r["route_response_selection_expression"] == "$default"
    }
    assert two_way == {"join", "$default"}
    responses = applied.resources("basic", "aws_apigatewayv2_route_response").values()
    assert sorted((r["route_id"], r["route_response_key"]) for r in responses) == sorted(
        (routes[k]["id"], "$default") for k in ("join", "$default")
    )
    assert applied.resources("full", "aws_apigatewayv2_route_response") == {}


def test_stage_always_sets_throttling_never_data_trace_and_logs_json(applied):
    basic = applied.one("basic", "aws_apigatewayv2_stage")
    settings = basic["default_route_settings"][0]
    assert settings["throttling_burst_limit"] == 500
    assert settings["throttling_rate_limit"] == 1000
    assert settings["data_trace_enabled"] is False
    assert settings["logging_level"] == "OFF"
    assert basic["name"] == "dev"
    assert basic["deployment_id"] == applied.one("basic", "aws_apigatewayv2_deployment")["id"]

    # Off by default: a fresh account has no CloudWatch role, and AWS refuses a logging stage.
    assert basic["access_log_settings"] == []
    assert not any(".access" in a for a in applied.resources("basic", "aws_cloudwatch_log_group"))
    access = applied.one("full", "aws_apigatewayv2_stage")["access_log_settings"][0]
    assert (
        access["destination_arn"]
        == applied.one("full", "aws_cloudwatch_log_group", "access")["arn"]
    )
    assert len(access["format"]) <= 1024  # the v2 API models the format as 1-1024 characters
    fields = json.loads(access["format"])
    for key in ("requestId", "connectionId", "routeKey", "eventType", "status"):
        assert fields[key] == f"$context.{key}"

    # set explicitly, not left to a default that a provider release could change
    configured = applied.config("basic", "aws_apigatewayv2_stage.this")["expressions"]
    assert configured["default_route_settings"][0]["data_trace_enabled"] == {
        "constant_value": False
    }

    full = applied.one("full", "aws_apigatewayv2_stage")["default_route_settings"][0]
    assert (full["throttling_burst_limit"], full["throttling_rate_limit"]) == (50, 100)
    assert full["logging_level"] == "ERROR"
    assert full["data_trace_enabled"] is False
    assert full["detailed_metrics_enabled"] is True


def test_deployment_redeploys_on_route_changes_and_is_replaced_before_destroy(applied):
    deployment = applied.config("basic", "aws_apigatewayv2_deployment.this")
    references = set(deployment["expressions"]["triggers"]["references"])
    for wanted in (
        "aws_apigatewayv2_route.this",
        "aws_apigatewayv2_integration.this",
        "aws_apigatewayv2_route_response.this",
        "aws_apigatewayv2_authorizer.this",
    ):
        assert wanted in references
    # `terraform show -json` has no lifecycle; read it from the source.
    import hcl2

    options = hcl2.SerializationOptions(
        strip_string_quotes=True, explicit_blocks=False, with_comments=False
    )
    with (REPO_ROOT / "main.tf").open() as handle:
        source = hcl2.load(handle, serialization_options=options)
    blocks = [
        r["aws_apigatewayv2_deployment"]["this"]
        for r in source["resource"]
        if "aws_apigatewayv2_deployment" in r
    ]
    assert blocks[0]["lifecycle"][0]["create_before_destroy"] is True


def test_dispatcher_lambda_settings_and_environment(applied):
    function = applied.one("basic", "aws_lambda_function", "dispatcher")
    assert function["runtime"] == "python3.12"
    assert function["handler"] == "app.app"
    assert function["architectures"] == ["arm64"]
    assert function["tracing_config"][0]["mode"] == "PassThrough"
    assert function["environment"][0]["variables"] == {
        "WSGATE_ENDPOINT": applied.outputs["basic"]["management_endpoint"],
        "WSGATE_TABLE": "basic-connections",
        "WSGATE_FANOUT_FUNCTION": "basic",
        "WSGATE_FANOUT_THRESHOLD": "1000",
        "WSGATE_FANOUT_SHARD_SIZE": "1000",
        "WSGATE_LOG_LEVEL": "INFO",
        "WSGATE_ROUTE_SELECTION_EXPRESSION": "$request.body.action",
    }
    assert function["function_name"] == "basic"  # what WSGATE_FANOUT_FUNCTION names
    assert function["source_code_hash"] == applied.outputs["basic"]["package"]["source_code_hash"]

    full = applied.one("full", "aws_lambda_function", "dispatcher")
    assert full["tracing_config"][0]["mode"] == "Active"
    assert full["reserved_concurrent_executions"] == 20
    assert full["kms_key_arn"] == KMS_KEY
    assert full["dead_letter_config"][0]["target_arn"].endswith(":full-dlq")
    assert full["environment"][0]["variables"] == {
        "FEATURE": "on",
        "WSGATE_ENDPOINT": "https://ws.example.com/chat",
        "WSGATE_TABLE": "full-connections",
        "WSGATE_FANOUT_FUNCTION": "full",
        "WSGATE_FANOUT_THRESHOLD": "200",
        "WSGATE_FANOUT_SHARD_SIZE": "250",
        "WSGATE_LOG_LEVEL": "INFO",
        "WSGATE_ROUTE_SELECTION_EXPRESSION": "$request.body.action",
    }
    assert full["tags"] == {"team": "realtime"}


def test_zip_holds_the_runtime_and_the_users_code_only(applied):
    filename = applied.outputs["basic"]["package"]["filename"]
    with zipfile.ZipFile(applied.tf.workdir / filename) as archive:
        names = set(archive.namelist())
    assert {"wsgate/__init__.py", "wsgate/app.py", "wsgate/compat/zappa.py"} <= names
    # the API Gateway core the runtime imports travels with it
    assert {"wsgate/apigw/__init__.py", "wsgate/apigw/selection.py"} <= names
    assert {"app.py", "auth.py", "helpers.py"} <= names
    # the fixture's source_dir also holds a hidden .env and a tests/ directory: both stay out
    assert (REPO_ROOT / "tests/terraform/fixture/src/.env").exists()
    assert ".env" not in names
    assert not [n for n in names if n.startswith("tests/")]
    # .pyc files only as the build compiles them (for python3.12, beside their source, when a
    # python3.12 is on PATH), never copied from a cache in source_dir
    for name in names:
        if name.endswith(".pyc") or "__pycache__" in name:
            head, _, base = name.rpartition("__pycache__/")
            assert base.endswith(".cpython-312.pyc"), name
            assert f"{head}{base.split('.')[0]}.py" in names, name
    assert not [n for n in names if n.startswith(("wsgate_local/", "tests/", "local/"))]


def test_connection_table_is_on_demand_with_ttl_pitr_and_encryption(applied):
    table = applied.one("basic", "aws_dynamodb_table")
    assert table["name"] == "basic-connections"
    assert table["billing_mode"] == "PAY_PER_REQUEST"
    assert (table["hash_key"], table["range_key"]) == ("pk", "sk")
    assert sorted((a["name"], a["type"]) for a in table["attribute"]) == [("pk", "S"), ("sk", "S")]
    assert table["ttl"] == [{"attribute_name": "ttl", "enabled": True}]
    assert table["point_in_time_recovery"][0]["enabled"] is True
    assert table["server_side_encryption"][0]["enabled"] is False  # AWS owned key
    assert table["deletion_protection_enabled"] is False

    full = applied.one("full", "aws_dynamodb_table")
    assert full["server_side_encryption"][0] == {"enabled": True, "kms_key_arn": KMS_KEY}
    assert full["deletion_protection_enabled"] is True


# -- IAM ---------------------------------------------------------------------------------------


def test_dispatcher_policy_is_exactly_connections_table_and_own_logs(applied):
    api = applied.outputs["basic"]["execution_arn"]
    table = applied.outputs["basic"]["table_arn"]
    log_group = applied.one("basic", "aws_cloudwatch_log_group", "dispatcher")["arn"]
    policy = applied.policy("basic", "dispatcher")
    assert policy["Version"] == "2012-10-17"
    # Which DynamoDB actions are needed is the IAM ledger's to say (tests/iam): it checks them
    # against every call the runtime makes. Here: the table, and nothing but the table.
    table_actions = statements(policy)["ConnectionTable"]["Action"]
    assert table_actions and all(a.startswith("dynamodb:") for a in table_actions)
    assert statements(policy) == {
        "ManageConnections": {
            "Sid": "ManageConnections",
            "Effect": "Allow",
            "Action": ["execute-api:ManageConnections"],
            "Resource": [
                f"{api}/dev/POST/@connections/*",
                f"{api}/dev/GET/@connections/*",
                f"{api}/dev/DELETE/@connections/*",
            ],
        },
        "ConnectionTable": {
            "Sid": "ConnectionTable",
            "Effect": "Allow",
            "Action": table_actions,
            "Resource": [table],
        },
        "FanOut": {
            "Sid": "FanOut",
            "Effect": "Allow",
            "Action": ["lambda:InvokeFunction"],
            "Resource": [applied.outputs["basic"]["function_arn"]],  # this function, no other
        },
        "WriteOwnLogs": {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [f"{log_group}:*"],
        },
    }


def test_optional_features_add_only_their_own_statements(applied):
    full = statements(applied.policy("full", "dispatcher"))
    assert set(full) == {
        "ManageConnections",
        "ConnectionTable",
        "FanOut",
        "ConnectionTableKey",
        "WriteOwnLogs",
        "XRayWrite",
        "DecryptEnvironment",
        "DeadLetterQueue",
    }
    assert full["ManageConnections"]["Resource"][0].endswith("/prod/POST/@connections/*")
    assert full["ConnectionTableKey"]["Resource"] == [KMS_KEY]
    assert full["DecryptEnvironment"] == {
        "Sid": "DecryptEnvironment",
        "Effect": "Allow",
        "Action": ["kms:Decrypt"],
        "Resource": [KMS_KEY],
    }
    assert full["DeadLetterQueue"]["Action"] == ["sqs:SendMessage"]
    assert full["XRayWrite"]["Action"] == ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]

    authorizer = statements(applied.policy("full", "authorizer"))
    assert set(authorizer) == {"WriteOwnLogs", "XRayWrite", "DecryptEnvironment"}
    assert authorizer["WriteOwnLogs"]["Resource"] == [
        applied.one("full", "aws_cloudwatch_log_group", "authorizer")["arn"] + ":*"
    ]


def test_no_statement_allows_every_action_and_only_xray_uses_every_resource(applied):
    for module in ("basic", "full", "external_auth"):
        for policy in applied.resources(module, "aws_iam_role_policy").values():
            for statement in json.loads(policy["policy"])["Statement"]:
                actions = (
                    statement["Action"]
                    if isinstance(statement["Action"], list)
                    else [statement["Action"]]
                )
                assert all("*" not in a for a in actions), statement
                if statement["Resource"] == "*" or "*" in statement["Resource"]:
                    assert statement["Sid"] == "XRayWrite"


def test_roles_are_assumable_by_lambda_only(applied):
    for module in ("basic", "full"):
        for role in applied.resources(module, "aws_iam_role").values():
            trust = json.loads(role["assume_role_policy"])["Statement"]
            principals = [s["Principal"]["Service"] for s in trust]
            if "-apigw-logs" in role["name"]:
                assert principals == ["apigateway.amazonaws.com"]
            else:
                assert principals == ["lambda.amazonaws.com"]


def test_lambda_permissions_are_scoped_to_this_api(applied):
    api = applied.outputs["full"]["execution_arn"]
    dispatcher = applied.one("full", "aws_lambda_permission", "dispatcher")
    assert dispatcher["principal"] == "apigateway.amazonaws.com"
    assert dispatcher["source_arn"] == f"{api}/prod/*"
    authorizer_id = applied.one("full", "aws_apigatewayv2_authorizer")["id"]
    auth = applied.one("full", "aws_lambda_permission", "authorizer")
    assert auth["source_arn"] == f"{api}/authorizers/{authorizer_id}"
    assert auth["function_name"] == "full-authorizer"


def test_sender_policy_output_is_what_another_function_needs_to_send(applied):
    policy = json.loads(applied.outputs["basic"]["sender_policy_json"])
    assert [s["Sid"] for s in policy["Statement"]] == [
        "ManageConnections",
        "ConnectionTable",
        "FanOut",
    ]
    # A large publish from another function starts its shards on the dispatcher, and only there.
    assert statements(policy)["FanOut"]["Resource"] == [applied.outputs["basic"]["function_arn"]]
    assert applied.outputs["basic"]["env"] == {
        "WSGATE_ENDPOINT": applied.outputs["basic"]["management_endpoint"],
        "WSGATE_TABLE": "basic-connections",
        "WSGATE_FANOUT_FUNCTION": "basic",
        "WSGATE_FANOUT_THRESHOLD": "1000",
        "WSGATE_FANOUT_SHARD_SIZE": "1000",
    }


def test_shards_are_retried_twice_and_dropped_after_an_hour_in_the_queue(applied):
    for module in ("basic", "full"):
        config = applied.one(module, "aws_lambda_function_event_invoke_config", "dispatcher")
        assert config["function_name"] == module
        assert config["maximum_retry_attempts"] == 2
        assert config["maximum_event_age_in_seconds"] == 3600


# -- authorizer ----------------------------------------------------------------------------------


def test_authorizer_built_from_source_dir_guards_connect_only(applied):
    authorizer = applied.one("full", "aws_apigatewayv2_authorizer")
    function = applied.one("full", "aws_lambda_function", "authorizer")
    assert authorizer["authorizer_type"] == "REQUEST"
    assert authorizer["authorizer_uri"] == function["invoke_arn"]
    assert authorizer["identity_sources"] == ["route.request.querystring.token"]
    # WebSocket APIs reject a result TTL, so the module never configures one
    expressions = applied.config("full", "aws_apigatewayv2_authorizer.this")["expressions"]
    assert "authorizer_result_ttl_in_seconds" not in expressions
    assert function["handler"] == "auth.check"
    assert "WSGATE_TABLE" not in function["environment"][0]["variables"]
    # its own size and time limit, not the dispatcher's
    assert (function["memory_size"], function["timeout"]) == (128, 5)
    dispatcher = applied.one("full", "aws_lambda_function", "dispatcher")
    assert (dispatcher["memory_size"], dispatcher["timeout"]) != (128, 5)

    routes = {
        r["route_key"]: r for r in applied.resources("full", "aws_apigatewayv2_route").values()
    }
    assert routes["$connect"]["authorization_type"] == "CUSTOM"
    assert routes["$connect"]["authorizer_id"] == authorizer["id"]
    for key in ("$disconnect", "$default", "ping"):
        assert routes[key]["authorization_type"] == "NONE"
        assert not routes[key].get("authorizer_id")


def test_existing_authorizer_function_is_invoked_by_arn_and_granted_permission(applied):
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:shared-authorizer"
    authorizer = applied.one("external_auth", "aws_apigatewayv2_authorizer")
    assert authorizer["authorizer_uri"] == (
        f"arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/{arn}/invocations"
    )
    assert authorizer["identity_sources"] == ["route.request.header.Authorization"]
    permission = applied.one("external_auth", "aws_lambda_permission", "authorizer")
    assert permission["function_name"] == arn
    assert applied.resources("external_auth", "aws_lambda_function").keys() == {
        "module.external_auth.aws_lambda_function.dispatcher"
    }


# -- outputs after apply ---------------------------------------------------------------------------


def test_urls_use_the_execute_api_host_and_the_stage(applied):
    basic = applied.outputs["basic"]
    host = f"{basic['api_id']}.execute-api.{REGION}.amazonaws.com"
    assert basic["websocket_url"] == f"wss://{host}/dev"
    assert basic["management_endpoint"] == f"https://{host}/dev"
    assert basic["stage_name"] == "dev"


def test_custom_domain_changes_both_urls_and_uses_tls_1_2(applied):
    full = applied.outputs["full"]
    assert full["websocket_url"] == "wss://ws.example.com/chat"
    assert full["management_endpoint"] == "https://ws.example.com/chat"
    domain = applied.one("full", "aws_apigatewayv2_domain_name")
    assert domain["domain_name_configuration"][0]["security_policy"] == "TLS_1_2"
    assert domain["domain_name_configuration"][0]["endpoint_type"] == "REGIONAL"
    # clients (and the @connections calls) can only come through the domain
    assert applied.one("full", "aws_apigatewayv2_api")["disable_execute_api_endpoint"] is True
    assert applied.one("basic", "aws_apigatewayv2_api")["disable_execute_api_endpoint"] is False
    mapping = applied.one("full", "aws_apigatewayv2_api_mapping")
    assert mapping["api_mapping_key"] == "chat"
    assert mapping["api_id"] == full["api_id"]


def test_log_groups_keep_logs_for_the_retention_with_the_key(applied):
    names = applied.outputs["full"]["log_group_names"]
    assert set(names) == {"dispatcher", "access", "authorizer", "execution"}
    assert (
        names["execution"] == f"API-Gateway-Execution-Logs_{applied.outputs['full']['api_id']}/prod"
    )
    for group in applied.resources("full", "aws_cloudwatch_log_group").values():
        assert group["retention_in_days"] == 731
        assert group["kms_key_id"] == KMS_KEY
    for group in applied.resources("basic", "aws_cloudwatch_log_group").values():
        assert group["retention_in_days"] == 365
    assert set(applied.outputs["basic"]["log_group_names"]) == {"dispatcher"}


def test_api_gateway_account_role_only_when_asked(applied):
    assert len(applied.resources("full", "aws_api_gateway_account")) == 1
    assert applied.resources("basic", "aws_api_gateway_account") == {}
    attachment = applied.one("full", "aws_iam_role_policy_attachment", "api_gateway_cloudwatch")
    assert attachment["policy_arn"] == (
        "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
    )


def test_every_taggable_resource_carries_the_tags(applied):
    schema = json.loads((REPO_ROOT / "tools" / "tfoffline" / "schema" / "aws.json").read_text())
    (provider,) = schema["provider_schemas"].values()
    taggable = {
        rtype
        for rtype, rs in provider["resource_schemas"].items()
        if "tags" in rs["block"]["attributes"]
    }
    (full,) = [
        m
        for m in applied.state["values"]["root_module"]["child_modules"]
        if m["address"] == "module.full"
    ]
    checked = []
    for res in full["resources"]:
        if res["mode"] == "managed" and res["type"] in taggable:
            assert res["values"]["tags"] == {"team": "realtime"}, res["address"]
            checked.append(res["type"])
    assert {"aws_apigatewayv2_api", "aws_lambda_function", "aws_dynamodb_table"} <= set(checked)
    assert len(checked) >= 10


def test_unchanged_config_plans_no_changes_and_a_new_route_redeploys(terraform_config):
    tf = terraform_config(REPO_ROOT)
    variables = {
        "name": "redeploy",
        "source_dir": "tests/terraform/fixture/src",
        "routes": ["join"],
    }
    tf.apply(variables=variables)

    again = tf.plan(variables=variables)
    changed = [
        c["address"] for c in again["resource_changes"] if c["change"]["actions"] != ["no-op"]
    ]
    assert changed == []  # the deployment trigger is stable: no redeploy on every apply

    more = tf.plan(variables={**variables, "routes": ["join", "leave"]})
    actions = {c["address"]: c["change"]["actions"] for c in more["resource_changes"]}
    assert actions['aws_apigatewayv2_route.this["leave"]'] == ["create"]
    # A changed trigger means a new deployment (the real provider replaces it, create before
    # destroy, and the stage moves over; the stand-in cannot tell ForceNew and plans an update).
    assert actions["aws_apigatewayv2_deployment.this"] != ["no-op"]
