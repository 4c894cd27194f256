"""The connection table's key schema: the one the Terraform module declares (``main.tf``,
``aws_dynamodb_table.this``), the local gateway creates, and the runtime's store writes.

``tests/unit/test_apigw_table.py`` reads ``main.tf`` and checks it declares exactly this.
"""

from __future__ import annotations

from typing import Any

HASH_KEY = "pk"
RANGE_KEY = "sk"
#: Both keys are strings.
KEY_TYPE = "S"
TTL_ATTRIBUTE = "ttl"
BILLING_MODE = "PAY_PER_REQUEST"


def create_table_arguments(table_name: str) -> dict[str, Any]:
    """``CreateTable`` arguments for a table with this schema (on-demand billing)."""
    return {
        "TableName": table_name,
        "KeySchema": [
            {"AttributeName": HASH_KEY, "KeyType": "HASH"},
            {"AttributeName": RANGE_KEY, "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": HASH_KEY, "AttributeType": KEY_TYPE},
            {"AttributeName": RANGE_KEY, "AttributeType": KEY_TYPE},
        ],
        "BillingMode": BILLING_MODE,
    }


def time_to_live_arguments(table_name: str) -> dict[str, Any]:
    """``UpdateTimeToLive`` arguments that turn on expiry by the ``ttl`` attribute."""
    return {
        "TableName": table_name,
        "TimeToLiveSpecification": {"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
    }


def create_connection_table(client: Any, table_name: str) -> None:
    """Create the connection table with a boto3 DynamoDB ``client`` (local gateway, tests)."""
    client.create_table(**create_table_arguments(table_name))
    client.update_time_to_live(**time_to_live_arguments(table_name))
