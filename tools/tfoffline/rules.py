"""Computed values in AWS's formats for the stand-in aws provider: ids, ARNs, endpoints.

Each rule gets the planned object (its arguments known) and the region, and returns values for
the attributes the plan left unknown. The same arguments always give the same values.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tfoffline.values import UNKNOWN

ACCOUNT = "123456789012"
LAST_MODIFIED = "2024-01-01T00:00:00.000+0000"

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


def seed_of(type_name: str, obj: dict[str, Any]) -> str:
    known = {
        k: v
        for k, v in obj.items()
        if v is not UNKNOWN and k not in ("tags", "tags_all", "timeouts")
    }
    return type_name + json.dumps(known, sort_keys=True, default=str)


def file_base64sha256(path: Any) -> str | None:
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
    "ssm": "ssm",
}


def generic_arn(type_name: str, obj: dict[str, Any], region: str) -> str:
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


def _name(type_name: str, obj: dict[str, Any], region: str = "") -> str:
    name = obj.get("name")
    if isinstance(name, str):
        return name
    prefix = obj.get("name_prefix")
    prefix = prefix if isinstance(prefix, str) else "terraform-"
    # The provider makes the suffix unique (a timestamp and a counter); here the provider's
    # region joins the seed, so the same arguments in two regions get two names.
    return prefix + token(region + seed_of(type_name, obj), 26, string.digits)


Rule = Callable[[str, dict[str, Any], str], dict[str, Any]]


def no_rule(type_name: str, o: dict[str, Any], region: str) -> dict[str, Any]:
    return {}


def _apigw_api(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    api_id = token(seed_of(t, o), 10)
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
        "deployment_id": token(seed_of(t, o), 6),
    }


def _short_id(n: int) -> Rule:
    def rule(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
        return {"id": token(seed_of(t, o), n)}

    return rule


def _apigw_domain(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    d = o.get("domain_name")
    # A regional domain's target is d-<id>.execute-api.<region>.amazonaws.com in API Gateway's
    # hosted zone for the region (a fake id here: the real ones are per region).
    for config in o.get("domain_name_configuration") or []:
        if isinstance(config, dict):
            if config.get("target_domain_name") is UNKNOWN:
                config["target_domain_name"] = (
                    f"d-{token(seed_of(t, o), 10)}.execute-api.{r}.amazonaws.com"
                )
            if config.get("hosted_zone_id") is UNKNOWN:
                config["hosted_zone_id"] = "Z" + token(f"apigw-zone-{r}", 13, UPPER)
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
        "source_code_hash": file_base64sha256(o.get("filename")) or "",
        "code_sha256": file_base64sha256(o.get("filename")) or "",
        "source_code_size": size,
        "architectures": ["x86_64"],
        "memory_size": 128,
        "timeout": 3,
        "package_type": "Zip",
        "publish": False,
    }


def _lambda_alias(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    function = o.get("function_name")
    base = (
        function
        if isinstance(function, str) and function.startswith("arn:")
        else f"arn:aws:lambda:{r}:{ACCOUNT}:function:{function}"
    )
    arn = f"{base}:{o.get('name')}"
    return {
        "id": arn,
        "arn": arn,
        "invoke_arn": f"arn:aws:apigateway:{r}:lambda:path/2015-03-31/functions/{arn}/invocations",
    }


def _lambda_permission(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    sid = o.get("statement_id")
    if not isinstance(sid, str):
        given = o.get("statement_id_prefix")
        prefix = given if isinstance(given, str) else "terraform-"
        sid = prefix + token(seed_of(t, o), 26, string.digits)
    return {"id": sid, "statement_id": sid, "statement_id_prefix": ""}


def _iam_role(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    name = _name(t, o, r)
    path = o.get("path") if isinstance(o.get("path"), str) else "/"
    return {
        "id": name,
        "name": name,
        "path": path,
        "arn": f"arn:aws:iam::{ACCOUNT}:role{path}{name}",
        "unique_id": "AROA" + token(seed_of(t, o), 17, UPPER),
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
        "policy_id": "ANPA" + token(seed_of(t, o), 17, UPPER),
    }


def _iam_role_policy(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    name = _name(t, o)
    return {"id": f"{o.get('role')}:{name}", "name": name, "name_prefix": ""}


def _iam_attachment(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    return {"id": f"{o.get('role')}-{token(seed_of(t, o), 26, string.digits)}"}


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
    key_id = uuid_like(seed_of(t, o))
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
    arn = f"arn:aws:acm:{r}:{ACCOUNT}:certificate/{uuid_like(seed_of(t, o))}"
    return {"id": arn, "arn": arn}


def _route53_zone(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    zone = "Z" + token(seed_of(t, o), 20, UPPER)
    return {"id": zone, "zone_id": zone, "arn": f"arn:aws:route53:::hostedzone/{zone}"}


def _route53_record(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    return {"id": f"{o.get('zone_id')}_{o.get('name')}_{o.get('type')}", "fqdn": o.get("name")}


def _apigw_account(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    return {"id": "api-gateway-account"}


def _ssm_parameter(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    name = o.get("name")
    # arn:aws:ssm:{region}:{account}:parameter/{name}, one slash whether or not the name has one
    path = name.lstrip("/") if isinstance(name, str) else ""
    return {
        "id": name,
        "arn": f"arn:aws:ssm:{r}:{ACCOUNT}:parameter/{path}",
        "version": 1,
        "tier": "Standard",
        "data_type": "text",
        "key_id": "alias/aws/ssm" if o.get("type") == "SecureString" else "",
    }


def _lambda_layer_version(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    name = o.get("layer_name")
    layer = f"arn:aws:lambda:{r}:{ACCOUNT}:layer:{name}"
    size = (
        os.path.getsize(o["filename"])
        if isinstance(o.get("filename"), str) and os.path.isfile(o["filename"])
        else 0
    )
    return {
        "id": f"{layer}:1",
        "arn": f"{layer}:1",
        "layer_arn": layer,
        "version": "1",
        "created_date": LAST_MODIFIED,
        "source_code_hash": file_base64sha256(o.get("filename")) or "",
        "code_sha256": file_base64sha256(o.get("filename")) or "",
        "source_code_size": size,
    }


def _s3_object(t: str, o: dict[str, Any], r: str) -> dict[str, Any]:
    source = o.get("source")
    etag = ""
    if isinstance(source, str) and os.path.isfile(source):
        etag = hashlib.md5(Path(source).read_bytes()).hexdigest()  # single-part upload
    return {
        "id": o.get("key"),
        "arn": f"arn:aws:s3:::{o.get('bucket')}/{o.get('key')}",
        "etag": etag,
        "version_id": "",
        "storage_class": "STANDARD",
        "server_side_encryption": "aws:kms" if o.get("kms_key_id") else "AES256",
        "content_type": "binary/octet-stream",
    }


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
    "aws_lambda_alias": _lambda_alias,
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
    "aws_ssm_parameter": _ssm_parameter,
    "aws_lambda_layer_version": _lambda_layer_version,
    "aws_s3_object": _s3_object,
}
