"""The local DynamoDB expires items past their ``ttl``, as DynamoDB's time to live does."""

from __future__ import annotations

import time

import pytest
from local_support import recorder_gateway


@pytest.fixture(scope="module")
def sweeping(tmp_path_factory):
    gw, _ = recorder_gateway(tmp_path_factory.mktemp("ttl"), ttl_interval=0.3)
    try:
        yield gw
    finally:
        gw.stop()


def _item(pk: str, ttl: float | None) -> dict:
    item = {"pk": {"S": pk}, "sk": {"S": "meta"}}
    if ttl is not None:
        item["ttl"] = {"N": str(int(ttl))}
    return item


def test_items_past_their_ttl_disappear_and_the_others_stay(sweeping):
    client = sweeping.dynamodb_client()
    table = sweeping.config.table_name
    now = time.time()
    assert client.describe_time_to_live(TableName=table)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "ttl",
    }
    for item in (
        _item("conn#expired", now - 60),
        _item("conn#soon", now + 2),
        _item("conn#later", now + 3600),
        _item("conn#forever", None),
    ):
        client.put_item(TableName=table, Item=item)

    def keys() -> set[str]:
        return {i["pk"]["S"] for i in client.scan(TableName=table)["Items"]}

    deadline = time.monotonic() + 20
    while "conn#expired" in keys() or "conn#soon" in keys():
        assert time.monotonic() < deadline, f"expired items still stored: {keys()}"
        time.sleep(0.2)
    assert {"conn#later", "conn#forever"} <= keys()
