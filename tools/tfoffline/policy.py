"""The JSON document ``aws_iam_policy_document`` renders, as the provider writes it."""

from __future__ import annotations

import json
from typing import Any


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
