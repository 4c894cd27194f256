"""``python -m bench.dynamodb OUT.json [--quick]``: the local DynamoDB's cost per operation.

What the chat's rooms send, against a table already holding N items: a join (PutItem of the
connection, then a two-action TransactWriteItems) and a room's member list (Query of one
partition). Measured on the local gateway's DynamoDB server (:mod:`wsgate_local.dynamo`, its own
process) and on the baseline: moto's ``ThreadedMotoServer`` as shipped, in the caller's process,
which is how the gateway ran it before. Each size is measured on one and then on the other.
CPU is the caller's plus, for the server process, the server's (from ``/proc``).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TABLE = "bench-connections"


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def _baseline() -> Iterator[tuple[Any, int | None]]:
    import logging

    import boto3
    from moto.server import ThreadedMotoServer
    from wsgate.apigw import table

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    client = boto3.client(
        "dynamodb",
        endpoint_url=f"http://{host}:{port}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    table.create_connection_table(client, TABLE)
    try:
        yield client, None
    finally:
        client.delete_table(TableName=TABLE)
        server.stop()


@contextmanager
def _local() -> Iterator[tuple[Any, int | None]]:
    from wsgate_local.dynamo import LocalDynamo

    dynamo = LocalDynamo(TABLE, ttl_interval=None)
    dynamo.start()
    try:
        yield dynamo.client(), dynamo.pid
    finally:
        dynamo.stop()


def _fill(client: Any, items: int) -> None:
    rows = [
        {
            "PutRequest": {
                "Item": {
                    "pk": {"S": f"room#r{i // 10}"},  # partitions of 10
                    "sk": {"S": f"conn#filler{i:06d}"},
                    "ttl": {"N": "9999999999"},
                }
            }
        }
        for i in range(items)
    ]
    for start in range(0, len(rows), 25):
        client.batch_write_item(RequestItems={TABLE: rows[start : start + 25]})


def _join(client: Any, i: int) -> None:
    key = {"pk": {"S": f"conn#c{i}"}, "sk": {"S": "meta"}}
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
                    "ExpressionAttributeValues": {":room": {"SS": ["room-a"]}},
                }
            },
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "room#a"}, "sk": key["pk"]}}},
        ]
    )


def _members(client: Any) -> None:
    client.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "room#r7"}},
    )


def _measure(server: Any, items: int, ops: int) -> dict[str, float]:
    with server() as (client, pid):
        _fill(client, items)
        for i in range(5):  # warm up
            _join(client, 1_000_000 + i)
            _members(client)
        result = {}
        for name, op in (("join", _join), ("members", lambda c, _i: _members(c))):
            server_cpu = _cpu_s(pid) if pid else 0.0
            cpu, wall = time.process_time(), time.perf_counter()
            for i in range(ops):
                op(client, i)
            wall = time.perf_counter() - wall
            cpu = time.process_time() - cpu + ((_cpu_s(pid) - server_cpu) if pid else 0.0)
            result[f"{name}_ms"] = 1000 * wall / ops
            result[f"{name}_cpu_ms"] = 1000 * cpu / ops
        return result


def run(quick: bool) -> dict[str, Any]:
    sizes = (300,) if quick else (1000, 5000)
    ops = 10 if quick else 100
    results: dict[str, Any] = {"ops": ops, "sizes": {}}
    for items in sizes:
        results["sizes"][str(items)] = {
            "moto_in_process": _measure(_baseline, items, ops),
            "local_server": _measure(_local, items, ops),
        }
    return results


def main() -> int:
    out = Path(sys.argv[1])
    out.write_text(json.dumps(run("--quick" in sys.argv[2:]), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
