"""Stand-in hashicorp/aws: the generated schema, plus deterministic values in AWS's formats.

Applying fills each computed attribute the plan left unknown: ids, ARNs and endpoints are built
the way AWS writes them (account ``123456789012``, the provider's region); anything the stand-in
has no rule for gets an empty value of its type. Nothing contacts AWS.
"""

from __future__ import annotations

import hashlib
import json
import os
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tfoffline.values import UNKNOWN

ACCOUNT = "123456789012"
SCHEMA_FILE = Path(__file__).with_name("schema") / "aws.json"
LAST_MODIFIED = "2024-01-01T00:00:00.000+0000"

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

LOWER = string.ascii_lowercase + string.digits
UPPER = string.ascii_uppercase + string.digits


def token(seed: str, n: int, alphabet: str = LOWER) -> str:
    """``n`` characters from ``alphabet``, the same for the same seed."""
    digest = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big")
    out = []
    for _ in range(n):
        digest, i = divmod(digest, len(alphabet))
        out.append(alphabet[i])
    return "".join(out)


def uuid_like(seed: str) -> str:
    h = hashlib.sha256(seed.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def _seed(type_name: str, obj: dict[str, Any]) -> str:
    known = {
        k: v
        for k, v in obj.items()
        if v is not UNKNOWN and k not in ("tags", "tags_all", "timeouts")
    }
    return type_name + json.dumps(known, sort_keys=True, default=str)


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
            h = _file_base64sha256(planned.get("filename"))
            if h is not None:
                planned["source_code_hash"] = h
        return planned

    def apply(
        self, type_name: str, block: dict[str, Any], planned: dict[str, Any]
    ) -> dict[str, Any]:
        given = planned.get("region")
        region = given if isinstance(given, str) else self.region
        rule = RULES.get(type_name, _generic)
        filled = rule(type_name, planned, region)
        for k, v in filled.items():
            if planned.get(k) is UNKNOWN:
                planned[k] = v
        if planned.get("id") is UNKNOWN:
            planned["id"] = token(_seed(type_name, planned), 12)
        if planned.get("arn") is UNKNOWN:
            planned["arn"] = _generic_arn(type_name, planned, region)
        return planned

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
                out["id"] = token(_seed(type_name, config), 12)
            if "arn" in out and out.get("arn") is None:
                out["arn"] = _generic_arn(type_name, out, self.region)
        for k, v in fixed.items():
            if k in out and (out.get(k) is None or k not in ("name", "region")):
                out[k] = v
        return out


def _env_region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def _file_base64sha256(path: Any) -> str | None:
    import base64

    if not isinstance(path, str) or not os.path.isfile(path):
        return None
    return base64.b64encode(hashlib.sha256(Path(path).read_bytes()).digest()).decode()


SERVICE_OF_PREFIX = {
    "apigatewayv2": "apigateway",
    "api_gateway": "apigateway",
    "lambda": "lambda",
    "iam": "iam",
    "dynamodb": "dynamodb",
    "cloudwatch_log": "logs",
    "cloudwatch_event": "events",
    "cloudwatch": "cloudwatch",
    "scheduler": "scheduler",
    "sqs": "sqs",
    "sns": "sns",
    "kms": "kms",
    "route53": "route53",
    "acm": "acm",
}


def _generic_arn(type_name: str, obj: dict[str, Any], region: str) -> str:
    rest = type_name.removeprefix("aws_")
    service = next(
        (s for p, s in SERVICE_OF_PREFIX.items() if rest.startswith(p)), rest.split("_")[0]
    )
    name = obj.get("name") if isinstance(obj.get("name"), str) else obj.get("id")
    kind = rest.removeprefix(next((p for p in SERVICE_OF_PREFIX if rest.startswith(p)), "")).strip(
        "_"
    )
    scope = "" if service in ("iam", "route53") else region
    return f"arn:aws:{service}:{scope}:{ACCOUNT}:{kind.replace('_', '-') or service}/{name}"


def _name(type_name: str, obj: dict[str, Any]) -> str:
    name = obj.get("name")
    if isinstance(name, str):
        return name
    prefix = obj.get("name_prefix")
    prefix = prefix if isinstance(prefix, str) else "terraform-"
    return prefix + token(_seed(type_name, obj), 26, string.digits)


Rule = Callable[[str, dict[str, Any], str], dict[str, Any]]


def _generic(type_name: str, o: dict[str, Any], region: str) -> dict[str, Any]:
    return {}


def _apigw_api(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    api_id = token(_seed(t, o), 10)
    scheme = "wss" if o.get("protocol_type") == "WEBSOCKET" else "https"
    return {
        "id": api_id,
        "arn": f"arn:aws:apigateway:{r}::/apis/{api_id}",
        "api_endpoint": f"{scheme}://{api_id}.execute-api.{r}.amazonaws.com",
        "execution_arn": f"arn:aws:execute-api:{r}:{ACCOUNT}:{api_id}",
        "api_key_selection_expression": "$request.header.x-api-key",
        "route_selection_expression": "$request.method $request.path",
    }


def _apigw_stage(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    api, name = o.get("api_id"), o.get("name")
    # A WebSocket stage URL is wss://; the stand-in cannot see the API's protocol, and
    # WebSocket APIs are what this project deploys.
    return {
        "id": name,
        "arn": f"arn:aws:apigateway:{r}::/apis/{api}/stages/{name}",
        "execution_arn": f"arn:aws:execute-api:{r}:{ACCOUNT}:{api}/{name}",
        "invoke_url": f"wss://{api}.execute-api.{r}.amazonaws.com/{name}",
        "deployment_id": token(_seed(t, o), 6),
    }


def _short_id(n: int) -> Rule:
    def rule(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
        return {"id": token(_seed(t, o), n)}

    return rule


def _apigw_domain(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    d = o.get("domain_name")
    return {
        "id": d,
        "arn": f"arn:aws:apigateway:{r}::/domainnames/{d}",
        "api_mapping_selection_expression": "$request.basepath",
    }


def _lambda_function(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    name = o.get("function_name")
    arn = f"arn:aws:lambda:{r}:{ACCOUNT}:function:{name}"
    version = "1" if o.get("publish") is True else "$LATEST"
    qualified = f"{arn}:{version}"
    size = (
        os.path.getsize(o["filename"])
        if isinstance(o.get("filename"), str) and os.path.isfile(o["filename"])
        else 0
    )

    def invoke(a: str) -> str:
        return f"arn:aws:apigateway:{r}:lambda:path/2015-03-31/functions/{a}/invocations"

    return {
        "id": name,
        "arn": arn,
        "invoke_arn": invoke(arn),
        "qualified_arn": qualified,
        "qualified_invoke_arn": invoke(qualified),
        "response_streaming_invoke_arn": (
            f"arn:aws:apigateway:{r}:lambda:path/2021-11-15/functions/{arn}"
            "/response-streaming-invocations"
        ),
        "version": version,
        "last_modified": LAST_MODIFIED,
        "source_code_hash": _file_base64sha256(o.get("filename")) or "",
        "code_sha256": _file_base64sha256(o.get("filename")) or "",
        "source_code_size": size,
        "architectures": ["x86_64"],
        "memory_size": 128,
        "timeout": 3,
        "package_type": "Zip",
        "publish": False,
    }


def _lambda_permission(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    sid = o.get("statement_id")
    if not isinstance(sid, str):
        given = o.get("statement_id_prefix")
        prefix = given if isinstance(given, str) else "terraform-"
        sid = prefix + token(_seed(t, o), 26, string.digits)
    return {"id": sid, "statement_id": sid, "statement_id_prefix": ""}


def _iam_role(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    name = _name(t, o)
    path = o.get("path") if isinstance(o.get("path"), str) else "/"
    return {
        "id": name,
        "name": name,
        "path": path,
        "arn": f"arn:aws:iam::{ACCOUNT}:role{path}{name}",
        "unique_id": "AROA" + token(_seed(t, o), 17, UPPER),
        "create_date": "2024-01-01T00:00:00Z",
        "name_prefix": "",
    }


def _iam_policy(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    name = _name(t, o)
    path = o.get("path") if isinstance(o.get("path"), str) else "/"
    arn = f"arn:aws:iam::{ACCOUNT}:policy{path}{name}"
    return {
        "id": arn,
        "arn": arn,
        "name": name,
        "path": path,
        "policy_id": "ANPA" + token(_seed(t, o), 17, UPPER),
    }


def _iam_role_policy(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    name = _name(t, o)
    return {"id": f"{o.get('role')}:{name}", "name": name, "name_prefix": ""}


def _iam_attachment(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    return {"id": f"{o.get('role')}-{token(_seed(t, o), 26, string.digits)}"}


def _dynamodb_table(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    name = o.get("name")
    arn = f"arn:aws:dynamodb:{r}:{ACCOUNT}:table/{name}"
    streaming = o.get("stream_enabled") is True
    return {
        "id": name,
        "arn": arn,
        "stream_arn": f"{arn}/stream/2024-01-01T00:00:00.000" if streaming else "",
        "stream_label": "2024-01-01T00:00:00.000" if streaming else "",
        "billing_mode": "PROVISIONED",
        "read_capacity": 0,
        "write_capacity": 0,
        "stream_view_type": "",
    }


def _log_group(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    name = _name(t, o)
    return {
        "id": name,
        "name": name,
        "arn": f"arn:aws:logs:{r}:{ACCOUNT}:log-group:{name}",
        "log_group_class": "STANDARD",
        "name_prefix": "",
    }


def _sqs_queue(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    name = _name(t, o)
    url = f"https://sqs.{r}.amazonaws.com/{ACCOUNT}/{name}"
    return {"id": url, "url": url, "name": name, "arn": f"arn:aws:sqs:{r}:{ACCOUNT}:{name}"}


def _sns_topic(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    name = _name(t, o)
    arn = f"arn:aws:sns:{r}:{ACCOUNT}:{name}"
    return {"id": arn, "arn": arn, "name": name, "owner": ACCOUNT}


def _kms_key(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    key_id = uuid_like(_seed(t, o))
    return {
        "id": key_id,
        "key_id": key_id,
        "arn": f"arn:aws:kms:{r}:{ACCOUNT}:key/{key_id}",
        "key_usage": "ENCRYPT_DECRYPT",
        "customer_master_key_spec": "SYMMETRIC_DEFAULT",
    }


def _kms_alias(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    name = _name(t, o)
    return {
        "id": name,
        "name": name,
        "arn": f"arn:aws:kms:{r}:{ACCOUNT}:{name}",
        "target_key_arn": f"arn:aws:kms:{r}:{ACCOUNT}:key/{o.get('target_key_id')}",
    }


def _event_rule(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    name = _name(t, o)
    bus = o.get("event_bus_name")
    path = name if bus in (None, "default", UNKNOWN) else f"{bus}/{name}"
    return {"id": name, "name": name, "arn": f"arn:aws:events:{r}:{ACCOUNT}:rule/{path}"}


def _schedule(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    name = _name(t, o)
    group = o.get("group_name") if isinstance(o.get("group_name"), str) else "default"
    return {
        "id": f"{group}/{name}",
        "name": name,
        "arn": f"arn:aws:scheduler:{r}:{ACCOUNT}:schedule/{group}/{name}",
    }


def _acm_certificate(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    arn = f"arn:aws:acm:{r}:{ACCOUNT}:certificate/{uuid_like(_seed(t, o))}"
    return {"id": arn, "arn": arn}


def _route53_zone(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    zone = "Z" + token(_seed(t, o), 20, UPPER)
    return {"id": zone, "zone_id": zone, "arn": f"arn:aws:route53:::hostedzone/{zone}"}


def _route53_record(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    return {"id": f"{o.get('zone_id')}_{o.get('name')}_{o.get('type')}", "fqdn": o.get("name")}


def _apigw_account(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    return {"id": "api-gateway-account"}


RULES: dict[str, Rule] = {
    "aws_apigatewayv2_api": _apigw_api,
    "aws_apigatewayv2_stage": _apigw_stage,
    "aws_apigatewayv2_route": _short_id(7),
    "aws_apigatewayv2_integration": _short_id(7),
    "aws_apigatewayv2_integration_response": _short_id(6),
    "aws_apigatewayv2_route_response": _short_id(6),
    "aws_apigatewayv2_deployment": _short_id(6),
    "aws_apigatewayv2_authorizer": _short_id(6),
    "aws_apigatewayv2_api_mapping": _short_id(6),
    "aws_apigatewayv2_domain_name": _apigw_domain,
    "aws_api_gateway_account": _apigw_account,
    "aws_lambda_function": _lambda_function,
    "aws_lambda_permission": _lambda_permission,
    "aws_iam_role": _iam_role,
    "aws_iam_policy": _iam_policy,
    "aws_iam_role_policy": _iam_role_policy,
    "aws_iam_role_policy_attachment": _iam_attachment,
    "aws_dynamodb_table": _dynamodb_table,
    "aws_cloudwatch_log_group": _log_group,
    "aws_sqs_queue": _sqs_queue,
    "aws_sns_topic": _sns_topic,
    "aws_kms_key": _kms_key,
    "aws_kms_alias": _kms_alias,
    "aws_cloudwatch_event_rule": _event_rule,
    "aws_scheduler_schedule": _schedule,
    "aws_acm_certificate": _acm_certificate,
    "aws_route53_zone": _route53_zone,
    "aws_route53_record": _route53_record,
}


# -- aws_iam_policy_document ----------------------------------------------------------------
def _one_or_many(values: list[str]) -> Any:
    values = sorted(set(values))
    return values[0] if len(values) == 1 else values


def _principals(blocks: list[dict[str, Any]]) -> Any:
    if len(blocks) == 1 and blocks[0]["type"] == "*":
        return "*"
    out: dict[str, Any] = {}
    for p in blocks:
        out.setdefault(p["type"], []).extend(p.get("identifiers") or [])
    return {k: _one_or_many(v) for k, v in sorted(out.items())}


def _statement(s: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if s.get("sid"):
        out["Sid"] = s["sid"]
    out["Effect"] = s.get("effect") or "Allow"
    for key, field in (
        ("Action", "actions"),
        ("NotAction", "not_actions"),
        ("Resource", "resources"),
        ("NotResource", "not_resources"),
    ):
        if s.get(field):
            out[key] = _one_or_many(s[field])
    if s.get("principals"):
        out["Principal"] = _principals(s["principals"])
    if s.get("not_principals"):
        out["NotPrincipal"] = _principals(s["not_principals"])
    if s.get("condition"):
        cond: dict[str, dict[str, Any]] = {}
        for c in s["condition"]:
            vals = c.get("values") or []
            cond.setdefault(c["test"], {})[c["variable"]] = vals[0] if len(vals) == 1 else vals
        out["Condition"] = cond
    return out


def policy_document(config: dict[str, Any]) -> dict[str, Any]:
    """The policy JSON the provider renders for an ``aws_iam_policy_document`` config."""
    statements: list[dict[str, Any]] = []
    for src in config.get("source_policy_documents") or []:
        statements.extend(json.loads(src).get("Statement", []))
    for s in config.get("statement") or []:
        rendered = _statement(s)
        sid = rendered.get("Sid")
        statements = [x for x in statements if not sid or x.get("Sid") != sid]
        statements.append(rendered)
    for src in config.get("override_policy_documents") or []:
        for s in json.loads(src).get("Statement", []):
            sid = s.get("Sid")
            statements = [x for x in statements if not sid or x.get("Sid") != sid]
            statements.append(s)
    doc: dict[str, Any] = {"Version": config.get("version") or "2012-10-17"}
    if config.get("policy_id"):
        doc["Id"] = config["policy_id"]
    doc["Statement"] = statements
    return doc
