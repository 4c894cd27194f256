"""Stand-in hashicorp/aws: the generated schema, plus deterministic values in AWS's formats.

Applying fills each computed attribute the plan left unknown: ids, ARNs and endpoints are built
the way AWS writes them (account ``123456789012``, the provider's region); anything the stand-in
has no rule for gets an empty value of its type. Nothing contacts AWS.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from tfoffline import account
from tfoffline.plugin import ProviderError
from tfoffline.policy import policy_document
from tfoffline.rules import (
    ACCOUNT,
    RULES,
    UPPER,
    file_base64sha256,
    generic_arn,
    no_rule,
    seed_of,
    token,
)
from tfoffline.values import UNKNOWN

SCHEMA_FILE = Path(__file__).with_name("schema") / "aws.json"

REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "eu-west-1": "Europe (Ireland)",
    "eu-central-1": "Europe (Frankfurt)",
    "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
}

#: Provider defaults of optional arguments, known at plan time as the real provider plans them
#: (hashicorp/aws 6.x docs; see ../shared/aws/TERRAFORM.md section 2).
PLAN_DEFAULTS: dict[str, dict[str, Any]] = {
    "aws_apigatewayv2_api": {
        "route_selection_expression": "$request.method $request.path",
        "api_key_selection_expression": "$request.header.x-api-key",
    },
    "aws_apigatewayv2_route": {"authorization_type": "NONE"},
    "aws_apigatewayv2_integration": {"connection_type": "INTERNET"},
    "aws_lambda_function": {
        "architectures": ["x86_64"],
        "memory_size": 128,
        "timeout": 3,
        "package_type": "Zip",
        "publish": False,
    },
    "aws_dynamodb_table": {"billing_mode": "PROVISIONED"},
    "aws_cloudwatch_log_group": {"log_group_class": "STANDARD"},
}


#: Arguments whose change makes the provider upload the function's code again
#: (resourceFunctionUpdate -> needsFunctionCodeUpdate, internal/service/lambda/function.go).
LAMBDA_CODE_ARGS = (
    "filename",
    "image_uri",
    "s3_bucket",
    "s3_key",
    "s3_object_version",
    "source_code_hash",
    "architectures",
)
#: Resources whose create (and code update) reads a local file, and the argument naming it:
#: the provider reads the zip with tfio.ReadFileContents and sends its bytes to AWS.
READS_FILE = {
    "aws_lambda_function": "filename",
    "aws_lambda_layer_version": "filename",
    # PutObject with the file's bytes (resourceObjectUpload, internal/service/s3/object.go)
    "aws_s3_object": "source",
}
#: aws_s3_object arguments whose change uploads the object again.
S3_OBJECT_UPLOAD_ARGS = ("bucket", "key", "source", "source_hash", "content", "content_base64")


def _uploads_code(type_name: str, planned: dict[str, Any], prior: Any) -> bool:
    if type_name not in READS_FILE:
        return False
    if prior is None or type_name == "aws_lambda_layer_version":
        return True
    args = LAMBDA_CODE_ARGS if type_name == "aws_lambda_function" else S3_OBJECT_UPLOAD_ARGS
    return any(planned.get(k) != prior.get(k) for k in args)


def read_upload(type_name: str, planned: dict[str, Any], prior: Any) -> None:
    """Fail as the provider does when the file it uploads is not there (or not readable)."""
    path = planned.get(READS_FILE.get(type_name, ""))
    if not isinstance(path, str) or not _uploads_code(type_name, planned, prior):
        return
    try:
        Path(path).read_bytes()
    except OSError as exc:
        reason = exc.strerror.lower() if exc.strerror else str(exc)
        what = "opening S3 object source" if type_name == "aws_s3_object" else "reading ZIP file"
        raise ProviderError(f"{what} ({path}): open {path}: {reason}") from None


class AwsBehaviour:
    def __init__(self) -> None:
        self.region = _env_region()
        self.default_tags: dict[str, str] = {}

    def schema(self) -> dict[str, Any]:
        data = json.loads(SCHEMA_FILE.read_text())
        return data["provider_schemas"]["registry.terraform.io/hashicorp/aws"]

    def configure(self, config: dict[str, Any]) -> None:
        # From scratch every time: a reattached server is configured once per command.
        region = config.get("region")
        self.region = region if isinstance(region, str) else _env_region()
        tags = config.get("default_tags") or []
        self.default_tags = {}
        if tags and isinstance(tags[0], dict) and isinstance(tags[0].get("tags"), dict):
            self.default_tags = dict(tags[0]["tags"])

    def validate(self, kind: str, type_name: str, config: dict[str, Any]) -> list[str]:
        return []

    # -- resources ---------------------------------------------------------------------------
    def plan(
        self, type_name: str, block: dict[str, Any], prior: Any, planned: dict[str, Any]
    ) -> dict[str, Any]:
        attrs = block.get("attributes", {})
        if prior is None:
            for name, value in PLAN_DEFAULTS.get(type_name, {}).items():
                if planned.get(name) is UNKNOWN:
                    planned[name] = value
        if "region" in attrs and planned.get("region") in (None, UNKNOWN):
            planned["region"] = self.region
        if "tags_all" in attrs:
            tags = planned.get("tags")
            if tags is UNKNOWN:
                planned["tags_all"] = UNKNOWN
            else:
                planned["tags_all"] = {**self.default_tags, **(tags or {})}
        if type_name == "aws_lambda_function" and planned.get("source_code_hash") is UNKNOWN:
            h = file_base64sha256(planned.get("filename"))
            if h is not None:
                planned["source_code_hash"] = h
        if (
            type_name == "aws_lambda_function"
            and prior is not None
            and any(planned.get(k) != prior.get(k) for k in LAMBDA_CODE_ARGS)
        ):
            # New code: AWS reports its hash and size after the upload.
            planned["code_sha256"] = UNKNOWN
            planned["source_code_size"] = UNKNOWN
        return planned

    def apply(
        self, type_name: str, block: dict[str, Any], planned: dict[str, Any], prior: Any = None
    ) -> dict[str, Any]:
        read_upload(type_name, planned, prior)
        given = planned.get("region")
        region = given if isinstance(given, str) else self.region
        try:
            account.on_apply(type_name, planned, planned.get("id") is UNKNOWN, region)
        except account.AccountError as exc:
            raise ProviderError(str(exc)) from None
        rule = RULES.get(type_name, no_rule)
        filled = rule(type_name, planned, region)
        for k, v in filled.items():
            if planned.get(k) is UNKNOWN:
                planned[k] = v
        if planned.get("id") is UNKNOWN:
            planned["id"] = token(seed_of(type_name, planned), 12)
        if planned.get("arn") is UNKNOWN:
            planned["arn"] = generic_arn(type_name, planned, region)
        account.after_apply(type_name, planned)
        return planned

    def delete(self, type_name: str, prior: dict[str, Any]) -> None:
        given = prior.get("region")
        account.on_delete(type_name, prior, given if isinstance(given, str) else self.region)

    # -- data sources ------------------------------------------------------------------------
    def read_data(
        self, type_name: str, block: dict[str, Any], config: dict[str, Any]
    ) -> dict[str, Any]:
        out = dict(config)
        region = config.get("region") or config.get("name") or self.region
        fixed: dict[str, Any] = {}
        if type_name == "aws_region":
            fixed = {
                "id": region,
                "name": region,
                "region": region,
                "description": REGION_NAMES.get(region, region),
                "endpoint": f"ec2.{region}.amazonaws.com",
            }
        elif type_name == "aws_caller_identity":
            fixed = {
                "id": ACCOUNT,
                "account_id": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:user/terraform",
                "user_id": "AIDA" + token("caller", 17, UPPER),
            }
        elif type_name == "aws_partition":
            fixed = {
                "id": "aws",
                "partition": "aws",
                "dns_suffix": "amazonaws.com",
                "reverse_dns_prefix": "com.amazonaws",
            }
        elif type_name == "aws_iam_policy_document":
            doc = policy_document(config)
            fixed = {
                "json": json.dumps(doc, indent=2),
                "minified_json": json.dumps(doc, separators=(",", ":")),
                "id": str(int(hashlib.sha256(json.dumps(doc).encode()).hexdigest()[:8], 16)),
            }
        else:
            if "region" in out and out.get("region") is None:
                out["region"] = self.region
            if out.get("id") is None:
                out["id"] = token(seed_of(type_name, config), 12)
            if "arn" in out and out.get("arn") is None:
                out["arn"] = generic_arn(type_name, out, self.region)
        for k, v in fixed.items():
            if k in out and (out.get(k) is None or k not in ("name", "region")):
                out[k] = v
        return out


def _env_region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
