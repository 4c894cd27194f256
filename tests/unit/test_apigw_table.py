"""The connection table's schema is declared once in Python and once in HCL; they must agree.

``wsgate.apigw.table`` is what the local gateway and the unit tests create and what the store
writes; ``main.tf``'s ``aws_dynamodb_table.this`` is what Terraform deploys.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hcl2
import pytest
from hcl2 import SerializationOptions
from mgmt_stub import TABLE, clean_env_fixture, table_fixture  # noqa: F401
from wsgate import _clients, store
from wsgate.apigw import table

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(name="declared", scope="module")
def declared_fixture() -> dict[str, Any]:
    options = SerializationOptions(
        strip_string_quotes=True, explicit_blocks=False, with_comments=False
    )
    parsed = hcl2.loads((ROOT / "main.tf").read_text(), serialization_options=options)
    tables = [r["aws_dynamodb_table"] for r in parsed["resource"] if "aws_dynamodb_table" in r]
    assert len(tables) == 1, "main.tf declares one connection table"
    declared: dict[str, Any] = tables[0]["this"]
    return declared


def test_main_tf_declares_the_key_schema_of_the_core(declared: dict[str, Any]) -> None:
    assert declared["hash_key"] == table.HASH_KEY
    assert declared["range_key"] == table.RANGE_KEY
    assert {a["name"]: a["type"] for a in declared["attribute"]} == {
        table.HASH_KEY: table.KEY_TYPE,
        table.RANGE_KEY: table.KEY_TYPE,
    }
    assert declared["billing_mode"] == table.BILLING_MODE


def test_main_tf_expires_items_by_the_core_ttl_attribute(declared: dict[str, Any]) -> None:
    assert declared["ttl"] == [{"attribute_name": table.TTL_ATTRIBUTE, "enabled": True}]


def test_the_table_created_locally_has_the_declared_schema(table: str) -> None:
    client = _clients.dynamodb_client()
    described = client.describe_table(TableName=TABLE)["Table"]
    assert described["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    ttl = client.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "ttl"


def test_the_store_writes_keys_of_the_schema() -> None:
    assert set(store.connection_key("c=")) == {table.HASH_KEY, table.RANGE_KEY}
    assert set(store.membership_key("lobby", "c=")) == {table.HASH_KEY, table.RANGE_KEY}
