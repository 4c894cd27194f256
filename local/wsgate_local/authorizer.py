"""The $connect REQUEST authorizer: identity sources and policy evaluation. Pure, no I/O.

WebSocket authorizers never cache, so this runs for every handshake.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AuthOutcome:
    """What the handshake does after the authorizer: ``status`` 200 lets it through."""

    status: int
    authorizer: dict[str, Any] | None = None
    reason: str = ""


def missing_identity_sources(
    sources: Sequence[str],
    headers: Mapping[str, str],
    query: Mapping[str, str],
    *,
    stage_variables: Mapping[str, str] | None = None,
    context: Mapping[str, Any] | None = None,
) -> list[str]:
    """The identity sources that are absent or empty; any of them means 401 with no call.

    ``headers`` is matched case-insensitively, the query string exactly.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    missing: list[str] = []
    for source in sources:
        value: Any = None
        if source.startswith("route.request.header."):
            value = lower.get(source[len("route.request.header.") :].lower())
        elif source.startswith("route.request.querystring."):
            value = query.get(source[len("route.request.querystring.") :])
        elif source.startswith("stageVariables."):
            value = (stage_variables or {}).get(source[len("stageVariables.") :])
        elif source.startswith("context."):
            value = (context or {}).get(source[len("context.") :])
        if value is None or value == "":
            missing.append(source)
    return missing


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(pattern: Any, value: str) -> bool:
    return isinstance(pattern, str) and fnmatch.fnmatchcase(value, pattern)


def _action_matches(action: Any) -> bool:
    return any(
        _matches(a, "execute-api:Invoke") or a == "*" or a == "execute-api:*"
        for a in _as_list(action)
    )


def evaluate_policy(result: Any, arn: str) -> AuthOutcome:
    """Turn an authorizer's return value into an outcome.

    Allow for ``execute-api:Invoke`` on the method ARN (wildcards allowed) and no matching Deny →
    200 with ``{"principalId": …, **context}``; an explicit or implicit deny → 403; output that is
    not a policy (no principalId, no statements, object/array context values) → 500.
    """
    if not isinstance(result, dict):
        return AuthOutcome(500, reason="authorizer output is not an object")
    principal = result.get("principalId")
    policy = result.get("policyDocument")
    if principal is None or not isinstance(policy, dict):
        return AuthOutcome(500, reason="authorizer output lacks principalId or policyDocument")
    statements = policy.get("Statement")
    if not isinstance(statements, list | dict):
        return AuthOutcome(500, reason="policyDocument has no Statement")
    context = result.get("context") or {}
    if not isinstance(context, dict) or any(isinstance(v, dict | list) for v in context.values()):
        return AuthOutcome(500, reason="context values must be strings, numbers or booleans")
    allowed = denied = False
    for st in _as_list(statements):
        if not isinstance(st, dict):
            return AuthOutcome(500, reason="policy statement is not an object")
        if not _action_matches(st.get("Action")):
            continue
        if not any(_matches(r, arn) for r in _as_list(st.get("Resource"))):
            continue
        effect = st.get("Effect")
        if effect == "Deny":
            denied = True
        elif effect == "Allow":
            allowed = True
    if denied or not allowed:
        return AuthOutcome(403, reason="policy denies " + arn)
    return AuthOutcome(200, authorizer={"principalId": principal, **context})


def outcome_for_error(error_message: str, cause: str = "") -> AuthOutcome:
    """An authorizer that raised: the message ``Unauthorized`` → 401, anything else → 500.

    ``cause`` is the refusal's reason when the authorizer gave one (wsgate's ``@authorizer``
    raises ``Unauthorized("why")`` and turns it into the bare ``Unauthorized`` AWS expects).
    """
    if error_message == "Unauthorized":
        return AuthOutcome(401, reason="refused: " + (cause or "Unauthorized"))
    return AuthOutcome(500, reason="authorizer failed: " + error_message)
