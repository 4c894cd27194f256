"""AWS's account-level rules, offline: a fresh account, account-wide IAM names, ARNs that only
exist once the same apply has created them.

The stand-in aws provider keeps one account per working copy (tools/tfoffline/account.py): it
refuses a logging stage while the region has no API Gateway CloudWatch role, and a second IAM
role of a name the account already has, whatever the region, as AWS does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tfoffline import TerraformError

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
MODULE_VARS = {"name": "acct", "source_dir": "tests/terraform/fixture/src"}


def _resources(state: dict[str, Any], rtype: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}

    def walk(module: dict[str, Any]) -> None:
        for res in module.get("resources", []):
            if res["type"] == rtype and res["mode"] == "managed":
                found[res["address"]] = res["values"]
        for child in module.get("child_modules", []):
            walk(child)

    walk(state["values"]["root_module"])
    return found


# -- stage logging on a fresh account ----------------------------------------------------------


def test_the_default_stage_applies_on_a_fresh_account_without_logs(terraform_config):
    tf = terraform_config(REPO_ROOT)
    tf.apply(variables=MODULE_VARS)
    [stage] = _resources(tf.state(), "aws_apigatewayv2_stage").values()
    assert stage["access_log_settings"] == []
    assert stage["default_route_settings"][0]["logging_level"] == "OFF"


def test_logs_without_the_account_role_stop_the_plan_with_what_to_set(terraform_config):
    tf = terraform_config(REPO_ROOT)
    with pytest.raises(TerraformError) as err:
        tf.plan(variables={**MODULE_VARS, "access_log_enabled": True})
    message = " ".join(str(err.value).split())
    assert "create_api_gateway_account = true" in message
    assert "api_gateway_cloudwatch_role_exists = true" in message


def test_logs_apply_when_this_stack_sets_the_account_role(terraform_config):
    tf = terraform_config(REPO_ROOT)
    variables = {**MODULE_VARS, "access_log_enabled": True, "create_api_gateway_account": True}
    outputs = tf.apply(variables=variables)
    [stage] = _resources(tf.state(), "aws_apigatewayv2_stage").values()
    assert stage["access_log_settings"][0]["destination_arn"].endswith(
        f":log-group:{outputs['log_group_names']['access']}"
    )
    assert len(_resources(tf.state(), "aws_api_gateway_account")) == 1


def test_stating_an_existing_role_is_trusted_and_aws_has_the_last_word(terraform_config):
    variables = {
        **MODULE_VARS,
        "access_log_enabled": True,
        "api_gateway_cloudwatch_role_exists": True,
    }
    # The region has a role (set elsewhere): the stage applies, and the module leaves it alone.
    seeded = terraform_config(REPO_ROOT, env={"TFOFFLINE_APIGW_CLOUDWATCH_ROLE_REGIONS": "*"})
    seeded.apply(variables=variables)
    assert _resources(seeded.state(), "aws_api_gateway_account") == {}
    # The statement was wrong: AWS refuses the stage, as it would.
    fresh = terraform_config(REPO_ROOT)
    with pytest.raises(TerraformError, match="CloudWatch Logs role ARN must be set"):
        fresh.apply(variables=variables)


# -- IAM names are account-wide ----------------------------------------------------------------


def test_one_name_applies_in_two_regions_of_one_account(terraform_config):
    tf = terraform_config(FIXTURES / "two_regions")
    outputs = tf.apply()
    ireland, virginia = outputs["websocket_urls"]
    assert ".eu-west-1." in ireland and ".us-east-1." in virginia
    roles = _resources(tf.state(), "aws_iam_role")
    names = [r["name"] for r in roles.values()]
    assert len(names) == 4 and len(set(names)) == 4  # dispatcher and authorizer, twice
    assert all(n.startswith(("twin-dispatcher-", "twin-authorizer-")) for n in names)
    assert all(len(n) <= 64 for n in names)


def test_exact_role_names_collide_across_regions_as_aws_says(terraform_config):
    tf = terraform_config(FIXTURES / "two_regions")
    with pytest.raises(TerraformError, match="EntityAlreadyExists: Role with name twin-"):
        tf.apply(variables={"iam_role_use_name_prefix": False})


def test_role_path_and_permissions_boundary_reach_every_role(terraform_config):
    tf = terraform_config(REPO_ROOT)
    boundary = "arn:aws:iam::123456789012:policy/boundary"
    tf.apply(
        variables={
            **MODULE_VARS,
            "name": "a-name-longer-than-twenty-six-characters",
            "authorizer_handler": "auth.check",
            "create_api_gateway_account": True,
            "iam_role_path": "/wsgate/",
            "iam_role_permissions_boundary": boundary,
        }
    )
    roles = _resources(tf.state(), "aws_iam_role")
    assert len(roles) == 3
    for role in roles.values():
        assert role["path"] == "/wsgate/"
        assert role["permissions_boundary"] == boundary
        assert role["arn"].startswith("arn:aws:iam::123456789012:role/wsgate/")
        assert role["name"].startswith("a-name-longer-than-twenty--")
        assert len(role["name_prefix"] or role["name"][:-26]) <= 38


# -- optional ARNs from the same apply ---------------------------------------------------------


@pytest.fixture(scope="module")
def same_apply():
    from tfoffline import Terraform

    tf = Terraform(FIXTURES / "same_apply")
    try:
        plan = tf.plan()
        outputs = tf.apply()
        yield plan, outputs, tf.state()
    finally:
        tf.cleanup()


def test_every_optional_arn_may_come_from_the_same_apply(same_apply):
    plan, _, state = same_apply
    # The plan already knows how many of everything there will be.
    planned = {c["address"] for c in plan["resource_changes"]}
    for address in (
        "module.built.aws_apigatewayv2_authorizer.this[0]",
        "module.built.aws_route53_record.this[0]",
        "module.built.aws_apigatewayv2_domain_name.this[0]",
        "module.attached.aws_apigatewayv2_authorizer.this[0]",
        "module.attached.aws_lambda_permission.authorizer[0]",
    ):
        assert address in planned
    authorizers = _resources(state, "aws_apigatewayv2_authorizer")
    alias = next(iter(_resources(state, "aws_lambda_alias").values()))["arn"]
    assert authorizers["module.attached.aws_apigatewayv2_authorizer.this[0]"]["authorizer_uri"] == (
        f"arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/{alias}/invocations"
    )
    permissions = _resources(state, "aws_lambda_permission")
    assert (
        permissions["module.attached.aws_lambda_permission.authorizer[0]"]["function_name"] == alias
    )
    functions = _resources(state, "aws_lambda_function")
    key = next(iter(_resources(state, "aws_kms_key").values()))["arn"]
    dispatcher = functions["module.built.aws_lambda_function.dispatcher"]
    assert dispatcher["kms_key_arn"] == key
    assert dispatcher["layers"] == [
        next(iter(_resources(state, "aws_lambda_layer_version").values()))["arn"]
    ]
    queue = next(iter(_resources(state, "aws_sqs_queue").values()))["arn"]
    assert dispatcher["dead_letter_config"][0]["target_arn"] == queue
    policy = json.loads(
        _resources(state, "aws_iam_role_policy")["module.built.aws_iam_role_policy.dispatcher"][
            "policy"
        ]
    )
    assert {
        "Sid": "DeadLetterQueue",
        "Effect": "Allow",
        "Action": ["sqs:SendMessage"],
        "Resource": [queue],
    } in policy["Statement"]


def test_the_alias_record_points_the_domain_at_api_gateway(same_apply):
    _, outputs, state = same_apply
    [record] = _resources(state, "aws_route53_record").values()
    [domain] = _resources(state, "aws_apigatewayv2_domain_name").values()
    zone = next(iter(_resources(state, "aws_route53_zone").values()))
    target = domain["domain_name_configuration"][0]
    assert record["zone_id"] == zone["zone_id"]
    assert (record["name"], record["type"]) == ("ws.same-apply.example", "A")
    assert record["alias"] == [
        {
            "name": target["target_domain_name"],
            "zone_id": target["hosted_zone_id"],
            "evaluate_target_health": False,
        }
    ]
    assert outputs["built"]["websocket_url"] == "wss://ws.same-apply.example"


def test_functions_send_through_execute_api_until_it_is_disabled(same_apply, terraform_config):
    _, outputs, _ = same_apply
    # A custom domain with execute-api still on: sends must work before DNS exists.
    built = outputs["built"]
    assert built["management_endpoint"].startswith("https://")
    assert ".execute-api.eu-west-1.amazonaws.com/dev" in built["management_endpoint"]
    assert built["env"]["WSGATE_ENDPOINT"] == built["management_endpoint"]
    # With execute-api off, the domain (and the mapping's base path) is the only way in.
    tf = terraform_config(REPO_ROOT)
    off = tf.apply(
        variables={
            **MODULE_VARS,
            "domain_name": "ws.example.com",
            "domain_certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/abcd",
            "api_mapping_key": "chat",
            "disable_execute_api_endpoint": True,
        }
    )
    assert off["management_endpoint"] == "https://ws.example.com/chat"
