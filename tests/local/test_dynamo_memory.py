"""The local DynamoDB keeps no copy of the table per transaction, so a gateway whose clients
join and leave rooms for hours does not grow with every join."""

from __future__ import annotations

import gc

from moto.dynamodb.models.table import Table
from wsgate_local.dynamo import LocalDynamo


def _tables_alive() -> int:
    gc.collect()
    return sum(isinstance(obj, Table) for obj in gc.get_objects())


def test_transactions_leave_no_table_copies_behind():
    dynamo = LocalDynamo("memory-check-connections")
    dynamo.reserve()
    dynamo.start()
    try:
        client = dynamo.client()
        table = dynamo.table_name
        before = _tables_alive()
        for i in range(60):  # what rooms.join sends: one transaction per join
            key = {"pk": {"S": f"conn#c{i}"}, "sk": {"S": "meta"}}
            client.put_item(TableName=table, Item=key)
            client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": table,
                            "Key": key,
                            "UpdateExpression": "ADD #rooms :room",
                            "ConditionExpression": "attribute_exists(pk)",
                            "ExpressionAttributeNames": {"#rooms": "rooms"},
                            "ExpressionAttributeValues": {":room": {"SS": ["lobby"]}},
                        }
                    },
                    {
                        "Put": {
                            "TableName": table,
                            "Item": {"pk": {"S": "room#lobby"}, "sk": {"S": f"conn#c{i}"}},
                        }
                    },
                ]
            )
        # the writes all landed, and no snapshot of the table outlived its transaction
        members = client.query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "room#lobby"}},
        )
        assert members["Count"] == 60
        assert _tables_alive() <= before
    finally:
        dynamo.stop()
