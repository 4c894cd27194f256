"""A correct config passes init, plan, apply, a clean re-plan, destroy and `terraform test`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tfoffline import Terraform, TerraformError

FIXTURES = Path(__file__).resolve().parent / "fixtures"

REGION = "eu-west-1"
ACCOUNT = "123456789012"


@pytest.fixture
def applied(valid_applied: tuple[Terraform, dict[str, Any]]) -> tuple[Terraform, dict[str, Any]]:
    return valid_applied


def _changes(plan: dict[str, Any]) -> dict[str, list[str]]:
    return {rc["address"]: rc["change"]["actions"] for rc in plan["resource_changes"]}


def test_init_installs_both_providers_from_the_mirror(
    terraform_config: Callable[..., Terraform],
) -> None:
    # reattach=False: terraform installs the launchers from the filesystem mirror and starts
    # the providers itself, as it does for anyone pointing TF_CLI_CONFIG_FILE at the mirror.
    tf = terraform_config(FIXTURES / "valid", reattach=False)
    tf.init()
    lock = (tf.workdir / ".terraform.lock.hcl").read_text()
    for name in ("aws", "archive"):
        assert f'provider "registry.terraform.io/hashicorp/{name}"' in lock
    assert not (FIXTURES / "valid" / ".terraform.lock.hcl").exists()
    created = _changes(tf.plan())
    assert created["aws_apigatewayv2_api.this"] == ["create"]


def test_full_lifecycle_ends_with_nothing_left(fixture_config: Callable[[str], Terraform]) -> None:
    tf = fixture_config("valid")
    tf.init()
    tf.validate()
    created = _changes(tf.plan())
    assert created["aws_apigatewayv2_api.this"] == ["create"]
    assert created["archive_file.inline"] == ["create"]
    assert set(map(tuple, created.values())) == {("create",)}

    tf.apply()
    assert {rc for rc, actions in _changes(tf.plan()).items() if actions != ["no-op"]} == set()

    tf.destroy()
    assert tf.state().get("values") is None


def test_plan_leaves_computed_values_unknown(fixture_config: Callable[[str], Terraform]) -> None:
    plan = fixture_config("valid").plan()
    api = next(
        rc for rc in plan["resource_changes"] if rc["address"] == "aws_apigatewayv2_api.this"
    )
    assert api["change"]["after"]["name"] == "fixture"
    for name in ("id", "arn", "api_endpoint", "execution_arn"):
        assert api["change"]["after_unknown"][name] is True
    function = next(rc for rc in plan["resource_changes"] if rc["type"] == "aws_lambda_function")
    # Provider defaults of unset arguments are known at plan time, as with the real provider.
    after = function["change"]["after"]
    assert (after["memory_size"], after["timeout"], after["architectures"]) == (128, 3, ["x86_64"])
    assert function["change"]["after_unknown"]["invoke_arn"] is True
    table = next(
        rc for rc in plan["resource_changes"] if rc["address"] == "aws_dynamodb_table.this"
    )
    # default_tags from the provider block merge into tags_all already at plan time.
    assert table["change"]["after"]["tags_all"] == {"Project": "tfoffline", "Component": "store"}


def test_apply_fills_computed_values_in_aws_formats(
    applied: tuple[Terraform, dict[str, Any]],
) -> None:
    _, out = applied
    api_id = out["api_id"]
    assert re.fullmatch(r"[a-z0-9]{10}", api_id)
    assert out["api_endpoint"] == f"wss://{api_id}.execute-api.{REGION}.amazonaws.com"
    assert out["execution_arn"] == f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}"
    assert out["invoke_url"] == f"wss://{api_id}.execute-api.{REGION}.amazonaws.com/dev"
    assert out["function_arn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fixture"
    assert out["invoke_arn"] == (
        f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{out['function_arn']}/invocations"
    )
    assert out["table_arn"] == f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/fixture-connections"
    assert out["role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/fixture-role"
    assert (
        out["log_group_arn"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/apigateway/fixture"
    )
    assert out["identity"] == {"region": REGION, "account": ACCOUNT, "partition": "aws"}
    assert out["table_tags_all"] == {"Project": "tfoffline", "Component": "store"}


def test_iam_policy_document_renders_policy_json(applied: tuple[Terraform, dict[str, Any]]) -> None:
    _, out = applied
    assert json.loads(out["assume_role_policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "LambdaAssume",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"Service": "lambda.amazonaws.com"},
            }
        ],
    }


def test_applied_values_are_the_same_on_every_run(
    applied: tuple[Terraform, dict[str, Any]], fixture_config: Callable[[str], Terraform]
) -> None:
    _, first = applied
    second = fixture_config("valid").apply()
    for name in ("api_id", "execution_arn", "invoke_arn", "table_arn"):
        assert second[name] == first[name]
    assert second["handler_zip"]["base64sha256"] == first["handler_zip"]["base64sha256"]


def test_terraform_test_file_passes(fixture_config: Callable[[str], Terraform]) -> None:
    output = fixture_config("valid").test()
    assert "2 passed, 0 failed" in output


def test_terraform_test_reports_a_failed_assertion(
    fixture_config: Callable[[str], Terraform],
) -> None:
    tf = fixture_config("valid")
    with pytest.raises(TerraformError) as err:
        tf.test("-filter=tests/offline.tftest.hcl", variables={"region": "us-west-2"})
    assert "api_endpoint must look like AWS's." in str(err.value) + err.value.stdout


def test_tftest_drives_the_same_working_copy(fixture_config: Callable[[str], Terraform]) -> None:
    tf = fixture_config("valid")
    tt = tf.tftest()
    tt.setup(cleanup_on_exit=False)
    plan = tt.plan(output=True)
    assert plan.resources["aws_apigatewayv2_stage.this"]["values"]["name"] == "dev"
