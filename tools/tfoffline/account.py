"""The AWS account behind the stand-in aws provider: the server-side rules that span resources.

Real AWS refuses some requests because of what else exists in the account, not because of the
request itself. The stand-in keeps that state in one JSON file per working copy
(``TFOFFLINE_ACCOUNT_FILE``, set by :class:`tfoffline.Terraform`), shared by every provider
process of that copy (aliased providers run in processes of their own), under a file lock:

* **IAM names are global to the account.** Roles and customer managed policies live in no
  region: ``CreateRole`` with a name the account already has fails with
  ``EntityAlreadyExists`` whatever region the provider is configured for (IAM User Guide,
  "IAM object quotas"/"Friendly names and paths": names must be unique within the account).
* **Stage logging needs the account's CloudWatch role, per region.** ``CreateStage`` or
  ``UpdateStage`` with access logs or execution logging fails with ``BadRequestException:
  CloudWatch Logs role ARN must be set in account settings to enable logging`` until
  ``UpdateAccount`` (``aws_api_gateway_account``) has set ``cloudWatchRoleArn`` in that region
  (API Gateway Developer Guide, "Set up CloudWatch logging for REST APIs / WebSocket APIs";
  ../shared/aws/SEMANTICS.md section 9). A fresh account has none. Seed one with
  ``TFOFFLINE_APIGW_CLOUDWATCH_ROLE_REGIONS`` (comma-separated regions, or ``*``). HTTP APIs
  are exempt: their access logs are delivered with the caller's CloudWatch Logs permissions
  ("Configure logging for HTTP APIs in API Gateway"), so the stand-in remembers each API's
  protocol.

Without ``TFOFFLINE_ACCOUNT_FILE`` the rules are not checked (a bare provider process).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tfoffline.values import UNKNOWN

#: Resource types whose ``name`` is unique in the whole account (IAM has no regions).
GLOBAL_NAMES = {"aws_iam_role": "role", "aws_iam_policy": "policy"}

LOGGING_ERROR = (
    "BadRequestException: CloudWatch Logs role ARN must be set in account settings to enable "
    "logging (region {region} of account {account} has no API Gateway CloudWatch role; "
    "aws_api_gateway_account sets it)"
)


class AccountError(Exception):
    """AWS refused the request because of the account's state."""


def _path() -> Path | None:
    value = os.environ.get("TFOFFLINE_ACCOUNT_FILE")
    return Path(value) if value else None


@contextlib.contextmanager
def _locked() -> Iterator[dict[str, Any] | None]:
    path = _path()
    if path is None:
        yield None
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            data = json.loads(path.read_text()) if path.exists() else {}
            yield data
            path.write_text(json.dumps(data, indent=1, sort_keys=True))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _seeded_logging(region: str) -> bool:
    seeded = os.environ.get("TFOFFLINE_APIGW_CLOUDWATCH_ROLE_REGIONS", "")
    regions = {r.strip() for r in seeded.split(",") if r.strip()}
    return "*" in regions or region in regions


def _stage_logs(o: dict[str, Any]) -> bool:
    access = o.get("access_log_settings")
    if access not in (None, [], UNKNOWN):
        return True
    for key in ("default_route_settings", "route_settings"):
        for s in o.get(key) or []:
            if isinstance(s, dict) and s.get("logging_level") not in (None, "OFF", UNKNOWN):
                return True
            if isinstance(s, dict) and s.get("data_trace_enabled") is True:
                return True
    return False


def on_apply(type_name: str, planned: dict[str, Any], creating: bool, region: str) -> None:
    """Check ``planned`` against the account and record what it adds; raise AccountError."""
    from tfoffline.rules import ACCOUNT

    with _locked() as data:
        if data is None:
            return
        if type_name in GLOBAL_NAMES and creating:
            name = planned.get("name")
            names = data.setdefault(GLOBAL_NAMES[type_name], {})
            if isinstance(name, str):
                if name in names:
                    raise AccountError(
                        f"EntityAlreadyExists: {GLOBAL_NAMES[type_name].capitalize()} with name "
                        f"{name} already exists (created from region {names[name]}; IAM names "
                        "are unique across the whole account, not per region)"
                    )
                names[name] = region
        elif type_name == "aws_api_gateway_account":
            role = planned.get("cloudwatch_role_arn")
            data.setdefault("apigateway_cloudwatch_role", {})[region] = (
                role if isinstance(role, str) else ""
            )
        elif type_name == "aws_apigatewayv2_stage" and _stage_logs(planned):
            protocol = data.get("apigatewayv2_protocol", {}).get(str(planned.get("api_id")))
            role = data.get("apigateway_cloudwatch_role", {}).get(region)
            if protocol == "HTTP":
                return
            if not role and not _seeded_logging(region):
                raise AccountError(LOGGING_ERROR.format(region=region, account=ACCOUNT))


def after_apply(type_name: str, state: dict[str, Any]) -> None:
    """Remember what later requests are judged by (an API's protocol, by its id)."""
    if type_name != "aws_apigatewayv2_api":
        return
    with _locked() as data:
        if data is not None:
            data.setdefault("apigatewayv2_protocol", {})[str(state.get("id"))] = state.get(
                "protocol_type"
            )


def on_delete(type_name: str, prior: dict[str, Any], region: str) -> None:
    """Forget what a destroyed resource held in the account."""
    with _locked() as data:
        if data is None:
            return
        if type_name in GLOBAL_NAMES:
            data.setdefault(GLOBAL_NAMES[type_name], {}).pop(str(prior.get("name")), None)
        elif type_name == "aws_api_gateway_account":
            # Provider v6 resets the account setting when the resource is destroyed
            # (version 6 upgrade guide: reset_on_delete was removed, destroy always resets).
            data.setdefault("apigateway_cloudwatch_role", {}).pop(region, None)
