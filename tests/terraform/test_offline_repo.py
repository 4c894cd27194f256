"""Repository-wide checks: every .tf type is in the stand-in schema, and every .tf is fmt-clean."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from tfoffline import TerraformError, fmt_check

REPO_ROOT = Path(__file__).resolve().parents[2]

SCHEMA = REPO_ROOT / "tools" / "tfoffline" / "schema" / "aws.json"
SKIP_DIRS = {".git", ".terraform", ".tfoffline", "node_modules", "build"}
BLOCK_RE = re.compile(r'^\s*(resource|data)\s+"([A-Za-z0-9_]+)"\s+"', re.MULTILINE)
ARCHIVE_TYPES = {"archive_file", "external"}  # served by the archive and external stand-ins


def _tf_files() -> list[Path]:
    out = []
    for path in sorted(REPO_ROOT.rglob("*.tf")):
        parts = set(path.relative_to(REPO_ROOT).parts)
        if parts & SKIP_DIRS or any(p.startswith(".venv") for p in parts):
            continue
        out.append(path)
    return out


def _schema_types() -> tuple[set[str], set[str]]:
    s = json.loads(SCHEMA.read_text())["provider_schemas"]["registry.terraform.io/hashicorp/aws"]
    return set(s["resource_schemas"]), set(s["data_source_schemas"])


def test_every_type_used_in_the_repo_is_in_the_schema() -> None:
    resources, data_sources = _schema_types()
    missing = []
    for path in _tf_files():
        for kind, type_name in BLOCK_RE.findall(path.read_text()):
            known = resources if kind == "resource" else data_sources
            if type_name.startswith("aws_") and type_name not in known:
                missing.append(f"{kind} {type_name} ({path.relative_to(REPO_ROOT)})")
            elif not type_name.startswith("aws_") and type_name not in ARCHIVE_TYPES | {
                "terraform_data"
            }:
                missing.append(
                    f"{kind} {type_name} ({path.relative_to(REPO_ROOT)}): no stand-in provider"
                )
    assert not missing, "types the offline providers do not serve:\n" + "\n".join(missing)


def test_schema_has_the_computed_attributes_the_module_reads() -> None:
    s = json.loads(SCHEMA.read_text())["provider_schemas"]["registry.terraform.io/hashicorp/aws"]
    r, d = s["resource_schemas"], s["data_source_schemas"]
    expected = {
        "aws_apigatewayv2_api": ["id", "arn", "api_endpoint", "execution_arn", "tags_all"],
        "aws_apigatewayv2_stage": ["id", "arn", "invoke_url", "execution_arn"],
        "aws_lambda_function": ["arn", "invoke_arn", "qualified_arn", "version"],
        "aws_dynamodb_table": ["arn", "stream_arn"],
        "aws_iam_role": ["arn", "unique_id"],
        "aws_cloudwatch_log_group": ["arn"],
    }
    for type_name, names in expected.items():
        attrs = r[type_name]["block"]["attributes"]
        for name in names:
            assert attrs[name].get("computed"), f"{type_name}.{name} must be computed"
    for type_name in (
        "aws_region",
        "aws_caller_identity",
        "aws_partition",
        "aws_iam_policy_document",
    ):
        assert type_name in d
    ttl = r["aws_dynamodb_table"]["block"]["block_types"]["ttl"]
    assert (ttl["nesting_mode"], ttl.get("max_items")) == ("list", 1)
    route_settings = r["aws_apigatewayv2_stage"]["block"]["block_types"]["route_settings"]
    assert route_settings["nesting_mode"] == "set"
    assert r["aws_apigatewayv2_api"]["block"]["attributes"]["protocol_type"].get("required")


def test_every_tf_file_in_the_repo_is_fmt_clean() -> None:
    try:
        fmt_check(REPO_ROOT)
    except TerraformError as err:
        pytest.fail(f"terraform fmt -check found unformatted files:\n{err.stdout}")


def test_fmt_check_names_an_unformatted_file(tmp_path: Path) -> None:
    (tmp_path / "ok.tf").write_text('variable "ok" {\n  type = string\n}\n')
    (tmp_path / "modules" / "child").mkdir(parents=True)
    (tmp_path / "modules" / "child" / "messy.tf").write_text(
        'variable "x" {\n type    = string\n}\n'
    )
    (tmp_path / ".terraform").mkdir()
    (tmp_path / ".terraform" / "vendored.tf").write_text('variable "y" {\n type    = string\n}\n')
    with pytest.raises(TerraformError) as err:
        fmt_check(tmp_path)
    assert err.value.stdout.split() == ["modules/child/messy.tf"]


def _shape(block: dict[str, Any]) -> dict[str, Any]:
    """The parts of a schema block Terraform validates against: types, flags, nesting, limits."""
    flags = ("required", "optional", "computed")
    return {
        "attributes": {
            name: (a["type"], *(bool(a.get(f)) for f in flags))
            for name, a in block.get("attributes", {}).items()
        },
        "blocks": {
            name: (
                b["nesting_mode"],
                b.get("min_items", 0),
                b.get("max_items", 0),
                _shape(b["block"]),
            )
            for name, b in block.get("block_types", {}).items()
        },
    }


def test_terraform_sees_exactly_the_generated_schema(terraform_config: Any) -> None:
    tf = terraform_config(REPO_ROOT / "tests" / "terraform" / "fixtures" / "minimal")
    tf.init()
    served = json.loads(tf.run("providers", "schema", "-json").stdout)["provider_schemas"]
    served_aws = served["registry.terraform.io/hashicorp/aws"]
    generated = json.loads(SCHEMA.read_text())["provider_schemas"]
    generated_aws = generated["registry.terraform.io/hashicorp/aws"]
    assert set(served_aws["resource_schemas"]) == set(generated_aws["resource_schemas"])
    assert set(served_aws["data_source_schemas"]) == set(generated_aws["data_source_schemas"])
    for kind in ("resource_schemas", "data_source_schemas"):
        for type_name, schema in generated_aws[kind].items():
            served_block = served_aws[kind][type_name]["block"]
            assert _shape(served_block) == _shape(schema["block"]), type_name
