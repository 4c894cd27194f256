"""A stage serves the deployment it points at: every setting that only goes live with a new
deployment must change the deployment's ``triggers`` (which force a new deployment, created
before the old one is deleted), and a setting that does not must leave them alone.

One apply of the module, then one plan per setting from that state. The real provider replaces a
deployment whose ``triggers`` change; the stand-in plans every change in place, so the tests
read the planned ``triggers`` themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tfoffline import Terraform

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENT = "aws_apigatewayv2_deployment.this"
BASE: dict[str, Any] = {
    "name": "redeploy",
    "source_dir": "tests/terraform/fixture/src",
    "routes": ["say"],
    "authorizer_handler": "auth.check",
    "domain_name": "ws.example.com",
    "domain_certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/abcd",
}

#: Settings that need a new deployment, each with a changed value.
REDEPLOY = {
    # "you must deploy your API for the change to take effect" (Disable the default endpoint
    # for WebSocket APIs)
    "disable_execute_api_endpoint": True,
    # which deployed route a message takes
    "route_selection_expression": "$request.body.type",
    "routes": ["say", "join"],
    "two_way_routes": ["say"],
    "integration_timeout_ms": 10000,
    "authorizer_identity_sources": ["route.request.querystring.token"],
    "authorizer_handler": None,
}

#: Stage and function settings that apply without a deployment.
NO_REDEPLOY = {
    "throttling_burst_limit": 50,
    "detailed_metrics_enabled": True,
    "memory_size": 512,
    "log_retention_in_days": 30,
}


@pytest.fixture(scope="module")
def applied() -> Iterator[Terraform]:
    tf = Terraform(REPO_ROOT)
    try:
        tf.apply(variables=BASE)
        yield tf
    finally:
        tf.cleanup()


def _deployment_change(tf: Terraform, **changes: Any) -> dict[str, Any]:
    plan = tf.plan(variables={**BASE, **changes})
    [change] = [c["change"] for c in plan["resource_changes"] if c["address"] == DEPLOYMENT]
    return change


def _triggers_change(change: dict[str, Any]) -> bool:
    if (change.get("after_unknown") or {}).get("triggers"):
        return True
    return change["before"]["triggers"] != change["after"]["triggers"]


def test_an_unchanged_configuration_keeps_its_deployment(applied):
    change = _deployment_change(applied)
    assert change["actions"] == ["no-op"]


@pytest.mark.parametrize("setting", sorted(REDEPLOY))
def test_a_setting_that_needs_a_deployment_changes_the_triggers(applied, setting):
    change = _deployment_change(applied, **{setting: REDEPLOY[setting]})
    assert _triggers_change(change), f"{setting} changed, the deployment would stay the old one"


@pytest.mark.parametrize("setting", sorted(NO_REDEPLOY))
def test_a_stage_or_function_setting_keeps_the_deployment(applied, setting):
    change = _deployment_change(applied, **{setting: NO_REDEPLOY[setting]})
    assert not _triggers_change(change)
