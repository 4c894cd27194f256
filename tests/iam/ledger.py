"""The IAM ledger: recorded AWS calls of the runtime, as IAM checks against the module's policies.

``recorder.py`` writes what the runtime called; this module turns each call into the IAM
request(s) AWS authorizes (action + resource ARN), evaluates them with moto's IAM policy engine
against the policy documents an offline ``apply`` wrote, and lists the grants no call used.

Sources for the mapping:

* DynamoDB: each API operation is authorized as ``dynamodb:<Operation>`` on the table ARN
  ``arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}`` (an index is
  ``.../table/${TableName}/index/${IndexName}``). ``TransactWriteItems`` has no action of its own:
  each contained item is authorized as the action it performs (Put -> ``PutItem``, Update ->
  ``UpdateItem``, Delete -> ``DeleteItem``, ConditionCheck -> ``ConditionCheckItem``), and
  ``BatchGetItem``/``BatchWriteItem`` are checked once per table (Service Authorization
  Reference, "Actions, resources, and condition keys for Amazon DynamoDB"; DynamoDB Developer
  Guide, "Using IAM with DynamoDB transactions").
* Lambda: ``Invoke`` is authorized as ``lambda:InvokeFunction`` on the function's ARN
  ``arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}`` (Service
  Authorization Reference, "Actions, resources, and condition keys for AWS Lambda"; the Invoke
  API reference names the permission). The function is the one the runtime's environment named.
* @connections: every operation is ``execute-api:ManageConnections`` on
  ``arn:${Partition}:execute-api:${Region}:${Account}:${ApiId}/${Stage}/${Method}/@connections/${ConnectionId}``
  with POST for PostToConnection, GET for GetConnection, DELETE for DeleteConnection (API Gateway
  Developer Guide, "Use @connections commands in your backend service"; ../shared/aws/SEMANTICS.md
  section 7).
"""

from __future__ import annotations

import fnmatch
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

TRANSACT_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}
CONNECTION_METHODS = {
    "PostToConnection": "POST",
    "GetConnection": "GET",
    "DeleteConnection": "DELETE",
}

#: Grants that no call of the runtime uses because AWS uses them on the function's behalf, by Sid,
#: with the actions each may hold (so nothing else can hide under the Sid).
PLATFORM_GRANTS: dict[str, tuple[set[str], str]] = {
    "WriteOwnLogs": (
        {"logs:CreateLogStream", "logs:PutLogEvents"},
        "Lambda writes the function's stdout/stderr to its log group with the execution role",
    ),
    "XRayWrite": (
        {"xray:PutTraceSegments", "xray:PutTelemetryRecords"},
        "Lambda's X-Ray integration sends the trace segments (tracing_enabled)",
    ),
    "DecryptEnvironment": (
        {"kms:Decrypt"},
        "Lambda decrypts the environment variables with the role (kms_key_arn)",
    ),
    "DeadLetterQueue": (
        {"sqs:SendMessage", "sns:Publish"},
        "Lambda sends failed asynchronous events to the dead-letter target",
    ),
    "ConnectionTableKey": (
        {"kms:Decrypt", "kms:GenerateDataKey"},
        "DynamoDB uses the customer managed key on the caller's behalf (kms_key_arn)",
    ),
}


@dataclass(frozen=True)
class Target:
    """Where a deployed function's calls go: one example's table and API stage, the dispatcher's
    environment (to find a table the app names by a variable) and the tables in the state."""

    region: str
    account: str
    table_arn: str
    execution_arn: str
    stage: str
    example: str = ""
    env: tuple[tuple[str, str], ...] = ()
    tables: tuple[tuple[str, str], ...] = ()
    function: str = ""  # the dispatcher's deployed name (its AWS_LAMBDA_FUNCTION_NAME)


@dataclass(frozen=True)
class Check:
    """One IAM authorization AWS makes for a call: an action on a resource (abstract until
    resolved against a :class:`Target`)."""

    action: str
    kind: str  # "table", "connections", "function" or "other"
    name: str = ""  # table name / connection id / resource
    index: str = ""
    method: str = ""
    own: bool = True  # the runtime's configured table/endpoint (WSGATE_TABLE/WSGATE_ENDPOINT)
    stage: str = ""
    env_key: str = ""  # the environment variable that named another table
    scope: str = "runtime"  # or "example:<name>": that example's own code made the call

    def applies_to(self, t: Target) -> bool:
        return self.scope == "runtime" or self.scope == f"example:{t.example}"

    def arn(self, t: Target) -> str:
        if self.kind == "table":
            if self.own:
                base = t.table_arn
            else:
                # The deployed name of the table the app found in its environment.
                name = dict(t.env).get(self.env_key, self.name) if self.env_key else self.name
                base = dict(t.tables).get(
                    name, f"arn:aws:dynamodb:{t.region}:{t.account}:table/{name}"
                )
            return f"{base}/index/{self.index}" if self.index else base
        if self.kind == "function":
            if self.env_key == "AWS_LAMBDA_FUNCTION_NAME":
                name = t.function  # Lambda sets it to the running function's own name
            else:
                name = dict(t.env).get(self.env_key, self.name) if self.env_key else self.name
            return f"arn:aws:lambda:{t.region}:{t.account}:function:{name}"
        if self.kind == "connections":
            stage = t.stage if self.own else self.stage
            return f"{t.execution_arn}/{stage}/{self.method}/@connections/{self.name}"
        return self.name or "*"


def read_records(directory: str | Path) -> list[dict[str, Any]]:
    records = []
    for path in sorted(Path(directory).glob("*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                record = json.loads(line)
                record["pid"] = path.stem
                records.append(record)
    return records


def checks_of(record: dict[str, Any]) -> list[Check]:
    """The IAM authorizations AWS makes for one recorded call."""
    service, op = record["service"], record["operation"]
    params = record.get("params") or {}
    scope = record.get("scope", "runtime")
    if service == "dynamodb":
        own_table = record.get("table_env")
        env_keys = record.get("table_env_keys") or {}

        def table(action: str, name: str | None, index: str = "") -> Check:
            name = name or ""
            return Check(
                action,
                "table",
                name,
                index,
                own=(name == own_table),
                env_key=env_keys.get(name, ""),
                scope=scope,
            )

        if op == "TransactWriteItems":
            return [table(TRANSACT_ACTIONS[k], name) for k, name in params["TransactItems"]]
        if op == "TransactGetItems":
            return [table("dynamodb:GetItem", name) for _, name in params["TransactItems"]]
        if op in ("BatchGetItem", "BatchWriteItem"):
            return [table(f"dynamodb:{op}", name) for name in params["RequestItems"]]
        return [table(f"dynamodb:{op}", params.get("TableName"), params.get("IndexName", ""))]
    if service == "apigatewaymanagementapi":
        url = record.get("url") or ""
        base, _, tail = url.partition("/@connections/")
        endpoint = (record.get("endpoint_env") or "").rstrip("/")
        stage = urlsplit(base).path.rstrip("/").rsplit("/", 1)[-1]
        return [
            Check(
                "execute-api:ManageConnections",
                "connections",
                unquote(tail) or params.get("ConnectionId", ""),
                method=CONNECTION_METHODS[op],
                own=bool(endpoint) and base.rstrip("/") == endpoint,
                stage=stage,
                scope=scope,
            )
        ]
    if service == "lambda" and op == "Invoke":
        keys = record.get("function_env_keys") or []
        # The module's own variable first: it is what the deployed environment carries.
        env_key = next(
            (k for k in ("WSGATE_FANOUT_FUNCTION", "AWS_LAMBDA_FUNCTION_NAME") if k in keys), ""
        )
        return [
            Check(
                "lambda:InvokeFunction",
                "function",
                params.get("FunctionName", ""),
                env_key=env_key,
                scope=scope,
            )
        ]
    return [Check(f"{record.get('signing_name') or service}:{op}", "other", "*", scope=scope)]


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


@dataclass
class Evaluation:
    denied: list[tuple[str, str, str]]  # (policy, action, arn)
    unused: list[tuple[str, str, str]]  # (policy, action, resource pattern)
    platform: list[tuple[str, str, str]]  # (policy, sid, reason)


def evaluate(
    policies: dict[str, str],
    checks: Iterable[Check],
    target: Target,
    *,
    runtime_roles: dict[str, list[str]],
) -> Evaluation:
    """Each check against each runtime role's policies; each grant against the checks.

    ``policies`` maps a name to a policy JSON; ``runtime_roles`` maps each role of a function
    that runs the wsgate runtime (the dispatcher, a sender) to the names of its policies. Every
    check must be allowed by one policy of each such role and denied by none (IAM's rule for the
    identity policies of one principal). Every policy's grants must each be used by some check,
    or be a platform grant.
    """
    from moto.iam.access_control import IAMPolicy, PermissionResult

    resolved = sorted({(c.action, c.arn(target)) for c in checks if c.applies_to(target)})
    out = Evaluation([], [], [])
    for role, names in sorted(runtime_roles.items()):
        engines = [IAMPolicy(policies[n]) for n in names]
        for action, arn in resolved:
            results = [e.is_action_permitted(action, arn) for e in engines]
            if PermissionResult.DENIED in results or PermissionResult.PERMITTED not in results:
                out.denied.append((role, action, arn))
    for name, document in sorted(policies.items()):
        for statement in _as_list_of_statements(json.loads(document)):
            sid = statement.get("Sid", "")
            actions = _as_list(statement.get("Action"))
            if sid in PLATFORM_GRANTS and set(actions) <= PLATFORM_GRANTS[sid][0]:
                out.platform.append((name, sid, PLATFORM_GRANTS[sid][1]))
                continue
            for action in actions:
                for resource in _as_list(statement.get("Resource")):
                    if not any(
                        fnmatch.fnmatchcase(a.lower(), action.lower())
                        and fnmatch.fnmatchcase(arn, resource)
                        for a, arn in resolved
                    ):
                        out.unused.append((name, action, resource))
    return out


def _as_list_of_statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    s = doc.get("Statement", [])
    return [s] if isinstance(s, dict) else list(s)


def lint(document: str) -> list[str]:
    """parliament's findings for one identity policy (unknown actions, resource mismatches, ...)."""
    from parliament import analyze_policy_string

    policy = analyze_policy_string(document)
    return [f"{f.issue}: {f.detail}" for f in policy.findings]


def figures(records: list[dict[str, Any]]) -> Counter[str]:
    return Counter(f"{r['service']}:{r['operation']} via {r['via']}" for r in records)
