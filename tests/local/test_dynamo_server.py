"""The local DynamoDB's server process: transactions that are all or nothing, cheap whatever
the table's size, and a process that keeps no copy of the table per transaction, so a gateway
whose clients join and leave rooms for hours does not grow with every join."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from wsgate_local.dynamo import LocalDynamo

TABLE = "server-check-connections"


@pytest.fixture(scope="module")
def dynamo() -> Iterator[LocalDynamo]:
    server = LocalDynamo(TABLE, ttl_interval=None)
    server.reserve()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _key(pk: str, sk: str = "meta") -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _join(client: Any, i: int) -> None:
    """What rooms.join sends: one transaction per join."""
    key = _key(f"conn#c{i}")
    client.put_item(TableName=TABLE, Item=key)
    client.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": key,
                    "UpdateExpression": "ADD #rooms :room",
                    "ConditionExpression": "attribute_exists(pk)",
                    "ExpressionAttributeNames": {"#rooms": "rooms"},
                    "ExpressionAttributeValues": {":room": {"SS": ["lobby"]}},
                }
            },
            {"Put": {"TableName": TABLE, "Item": _key("room#lobby", f"conn#c{i}")}},
        ]
    )


def test_the_server_runs_beside_the_caller_and_the_next_start_finds_it_empty() -> None:
    first = LocalDynamo("server-check-first", ttl_interval=None)
    url = first.reserve()
    first.start()
    pid = first.pid
    assert pid is not None and pid != os.getpid() and Path(f"/proc/{pid}").exists()
    assert first.url == url  # the address given out before the start is the one served
    client = first.client()
    assert client.list_tables()["TableNames"] == ["server-check-first"]
    client.put_item(TableName="server-check-first", Item=_key("conn#left-behind"))
    first.stop()
    # a later gateway in this process may get the same server back, but nothing of the first
    second = LocalDynamo("server-check-second", ttl_interval=None)
    second.start()
    try:
        assert second.client().list_tables()["TableNames"] == ["server-check-second"]
        assert second.client().scan(TableName="server-check-second")["Items"] == []
    finally:
        second.stop()


def test_transactions_leave_no_table_copies_behind(dynamo: LocalDynamo) -> None:
    client = dynamo.client()
    filler = [
        {"PutRequest": {"Item": {**_key(f"conn#filler{i}"), "data": {"S": "x" * 200}}}}
        for i in range(3000)
    ]
    for start in range(0, len(filler), 25):
        client.batch_write_item(RequestItems={TABLE: filler[start : start + 25]})
    for i in range(20):  # warm up: first-use buffers count in the baseline
        _join(client, i)
    assert dynamo.pid is not None
    before = _rss_kb(dynamo.pid)
    for i in range(20, 220):
        _join(client, i)
    # the writes all landed, and no snapshot of the 3,000-item table outlived its transaction
    members = client.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "room#lobby"}},
    )
    assert members["Count"] == 220
    # One copy of the table is about 3 MB: 200 kept copies would be 600 MB.
    assert _rss_kb(dynamo.pid) - before < 24 * 1024


def test_a_failed_transaction_leaves_every_item_as_it_was(dynamo: LocalDynamo) -> None:
    client = dynamo.client()
    client.put_item(TableName=TABLE, Item={**_key("tx#updated"), "n": {"N": "1"}})
    client.put_item(TableName=TABLE, Item={**_key("tx#deleted"), "n": {"N": "1"}})
    client.put_item(TableName=TABLE, Item={**_key("tx#replaced"), "n": {"N": "1"}})
    actions = [
        {
            "Update": {
                "TableName": TABLE,
                "Key": _key("tx#updated"),
                "UpdateExpression": "SET n = :two, extra = :two",
                "ExpressionAttributeValues": {":two": {"N": "2"}},
            }
        },
        {"Delete": {"TableName": TABLE, "Key": _key("tx#deleted")}},
        {"Put": {"TableName": TABLE, "Item": {**_key("tx#replaced"), "n": {"N": "2"}}}},
        {"Put": {"TableName": TABLE, "Item": {**_key("tx#created"), "n": {"N": "2"}}}},
    ]
    failing = {
        "ConditionCheck": {
            "TableName": TABLE,
            "Key": _key("tx#missing"),
            "ConditionExpression": "attribute_exists(pk)",
        }
    }
    with pytest.raises(client.exceptions.TransactionCanceledException) as raised:
        client.transact_write_items(TransactItems=[*actions, failing])
    reasons = [r["Code"] for r in raised.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "None", "ConditionalCheckFailed"]

    def item(pk: str) -> dict[str, Any] | None:
        found = client.get_item(TableName=TABLE, Key=_key(pk), ConsistentRead=True)
        return found.get("Item")  # type: ignore[no-any-return]

    assert item("tx#updated") == {**_key("tx#updated"), "n": {"N": "1"}}
    assert item("tx#deleted") == {**_key("tx#deleted"), "n": {"N": "1"}}
    assert item("tx#replaced") == {**_key("tx#replaced"), "n": {"N": "1"}}
    assert item("tx#created") is None

    # the same actions without the failing check all apply
    client.transact_write_items(TransactItems=actions)
    assert item("tx#updated") == {**_key("tx#updated"), "n": {"N": "2"}, "extra": {"N": "2"}}
    assert item("tx#deleted") is None
    assert item("tx#replaced") == {**_key("tx#replaced"), "n": {"N": "2"}}
    assert item("tx#created") == {**_key("tx#created"), "n": {"N": "2"}}


def test_a_query_reads_its_partition_in_order_page_by_page(dynamo: LocalDynamo) -> None:
    client = dynamo.client()
    rows = [{"PutRequest": {"Item": _key(f"q#room{i % 7}", f"conn#{i:04d}")}} for i in range(350)]
    for start in range(0, len(rows), 25):
        client.batch_write_item(RequestItems={TABLE: rows[start : start + 25]})
    expected = [f"conn#{i:04d}" for i in range(350) if i % 7 == 3]

    def pages(forward: bool) -> list[str]:
        request: dict[str, Any] = {
            "TableName": TABLE,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :conn)",
            "ExpressionAttributeValues": {":pk": {"S": "q#room3"}, ":conn": {"S": "conn#"}},
            "Limit": 15,
            "ScanIndexForward": forward,
        }
        found: list[str] = []
        while True:
            page = client.query(**request)
            found.extend(item["sk"]["S"] for item in page["Items"])
            if "LastEvaluatedKey" not in page:
                return found
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    assert pages(True) == expected
    assert pages(False) == expected[::-1]
    empty = client.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "q#nowhere"}},
    )
    assert empty["Items"] == []


def _answers(numbered: bool) -> list[dict[str, Any]]:
    """Every answer of a set of paged Queries and Scans, from moto in this process, over one
    table whose partitions hold every attribute type."""
    import boto3
    from moto import mock_aws

    kind = "N" if numbered else "S"
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="diff",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": kind},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        for i in range(120):
            sk = str(i * 7 % 120 - 30) if numbered else f"{'conn#' if i % 5 else 'meta#'}{i:03d}"
            client.put_item(
                TableName="diff",
                Item={
                    "pk": {"S": f"room{i % 3}"},
                    "sk": {kind: sk},
                    "n": {"N": str(i / 4)},
                    "b": {"B": bytes([i, 255 - i])},
                    "tags": {"SS": [f"t{i % 4}", "all"]},
                    "bins": {"BS": [b"\x00", bytes([i])]},
                    "doc": {"M": {"l": {"L": [{"N": "1"}, {"NULL": True}, {"BOOL": i % 2 == 0}]}}},
                    "text": {"S": 'é\u2028"\\' * (i % 3)},
                },
            )
        if numbered:
            conditions = [
                ("pk = :pk", {}),
                (
                    "pk = :pk AND sk BETWEEN :low AND :high",
                    {":low": {"N": "-5"}, ":high": {"N": "40"}},
                ),
                ("pk = :pk AND sk > :low", {":low": {"N": "12"}}),
            ]
        else:
            conditions = [
                ("pk = :pk", {}),
                ("pk = :pk AND begins_with(sk, :p)", {":p": {"S": "conn#"}}),
                ("pk = :pk AND sk <= :high", {":high": {"S": "conn#060"}}),
            ]
        answers: list[dict[str, Any]] = []
        for condition, values in conditions:
            for forward in (True, False):
                for limit in (None, 1, 7, 40):
                    for extra in (
                        {},
                        {"ProjectionExpression": "sk, b, doc"},
                        {"FilterExpression": "contains(tags, :t)", "t": {"S": "t1"}},
                    ):
                        request: dict[str, Any] = {
                            "TableName": "diff",
                            "KeyConditionExpression": condition,
                            "ExpressionAttributeValues": {":pk": {"S": "room1"}, **values},
                            "ScanIndexForward": forward,
                            "ConsistentRead": True,
                        }
                        if "t" in extra:
                            request["FilterExpression"] = extra["FilterExpression"]
                            request["ExpressionAttributeValues"][":t"] = extra["t"]
                        elif extra:
                            request.update(extra)
                        if limit is not None:
                            request["Limit"] = limit
                        while True:
                            page = client.query(**request)
                            page.pop("ResponseMetadata")
                            answers.append(page)
                            if "LastEvaluatedKey" not in page:
                                break
                            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        # A start key that names no item begins right after where it would be.
        missing = {"pk": {"S": "room1"}, "sk": {kind: "31" if numbered else "conn#0005"}}
        for forward in (True, False):
            page = client.query(
                TableName="diff",
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": "room1"}},
                ExclusiveStartKey=missing,
                ScanIndexForward=forward,
                Limit=5,
            )
            page.pop("ResponseMetadata")
            answers.append(page)
        scan = client.scan(TableName="diff", Limit=50)
        scan.pop("ResponseMetadata")
        answers.append(scan)
    return answers


@pytest.mark.parametrize("numbered", [False, True], ids=["string-keys", "number-keys"])
def test_the_quick_query_and_answer_paths_answer_as_moto_does(numbered: bool) -> None:
    from wsgate_local.dynamo_server import direct_item_answers, partition_queries

    expected = _answers(numbered)
    undo = [partition_queries(), direct_item_answers()]
    try:
        got = _answers(numbered)
    finally:
        for step in undo:
            step()
    assert len(got) == len(expected) > 200
    for mine, theirs in zip(got, expected, strict=True):
        assert mine == theirs
