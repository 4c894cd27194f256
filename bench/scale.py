"""Scale: one publish to a room of N local connections, with emulated network latency on every
@connections call, sent inline by one sender vs fanned out over shards.

:func:`run` (in the ``python -m bench`` process) raises the open-file limit, starts ``wsgate local
bench/apps/scale --latency 20ms`` and this module's driver (``python -m bench.scale ...``), which
is the publishing function: it starts the receivers (:mod:`bench.fanout`, in processes of their
own), joins every connection to one room, and publishes to it in alternating rounds:

* inline: ``rooms.publish(room, data, fanout_threshold=N + 1)``, so this one process reads the
  members and posts every message with the concurrent sender;
* fanned out: ``rooms.publish(room, data, fanout_threshold=shard_size)``: the driver reads the
  members and starts one asynchronous invocation per shard through the gateway's Lambda Invoke
  API; the shards run on the gateway's worker pool (grown to one worker per shard), each posting
  its ids;
* last, once, fanned out with failures: the bench app kills the worker of every even-numbered
  shard midway through its first attempt, and the retry must deliver the rest, once.

Members join by writing the membership items ``wsgate.rooms.join`` writes (its key and attributes,
from the runtime's store module) straight to the local DynamoDB with ``BatchWriteItem``, not
through N WebSocket messages or N ``join`` transactions: the local DynamoDB (moto) takes about a
second per transaction once the table is large, and the join is not what is measured. The
receivers count every copy of every message per client, so duplicates and losses are counted,
not assumed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO, Any

from . import gateway, procs, scale_model
from .broadcast import PAYLOAD_TEXT, _read_json_line

SCALE_DIR = Path(__file__).resolve().parent / "apps" / "scale"
ROOM = "scale"
CLIENTS_PER_RECEIVER = 5000
#: File descriptors kept free for everything that is not a WebSocket (pipes, boto3 pools, moto).
SPARE_FDS = 500


def raise_fd_limit() -> int:
    """Raise this process's open-file limit (inherited by its children) to the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 1 << 20)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def run(
    clients: int, shard_size: int, latency_ms: float, rounds: int, cpu_share: str | None = None
) -> dict[str, Any]:
    """One pass of the section. With ``cpu_share`` (``"auto"``), the gateway holds every worker
    to Lambda's share of a CPU (``wsgate local --cpu-share``) and the driver makes each publish
    inside the function, through the Lambda Invoke API, so the caller is held too; that pass has
    no crash round and no untimed inline warm-up (the inline publish is the slow one there)."""
    limit = raise_fd_limit()
    fitted = min(clients, limit - SPARE_FDS)
    shards = math.ceil(fitted / shard_size)
    log = gateway.LOG_DIR / "scale-shards.jsonl"
    gateway.LOG_DIR.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    args = (
        "--latency",
        f"{latency_ms:g}ms",
        "--workers",
        "2",
        "--max-workers",
        str(shards + 1),
        "--idle-timeout",
        "3600",
        "--var",
        f"shard_size={shard_size}",
        *(("--cpu-share", cpu_share) if cpu_share else ()),
    )
    env = {"SCALE_SHARD_LOG": str(log), "WSGATE_FANOUT_SHARD_SIZE": str(shard_size)}
    with gateway.running(SCALE_DIR, args=args, env=env, timeout=120) as gw:
        driver_env = procs.child_env(
            WSGATE_ENDPOINT=gw.management_endpoint,
            WSGATE_TABLE="scale-connections",
            AWS_ENDPOINT_URL_DYNAMODB=gw.dynamodb_url(),
            AWS_ENDPOINT_URL_LAMBDA=gw.lambda_endpoint,
            AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI=gw.management_endpoint,
            WSGATE_FANOUT_FUNCTION="scale",
            WSGATE_FANOUT_SHARD_SIZE=str(shard_size),
            WSGATE_LOG_LEVEL="WARNING",
        )
        argv = [
            procs.PYTHON,
            "-m",
            "bench.scale",
            gw.ws_url,
            str(log),
            str(gw.pid),
            "--clients",
            str(fitted),
            "--shard-size",
            str(shard_size),
            "--rounds",
            str(rounds),
            *(("--in-function",) if cpu_share else ()),
        ]
        result: dict[str, Any] = procs.run_json(argv, timeout=600 + fitted * 0.1, env=driver_env)
    result.update(
        cpu_share=cpu_share,
        cpus=os.cpu_count(),
        requested_clients=clients,
        fd_limit=limit,
        latency_ms=latency_ms,
        memory_mb=_memory_mb(),
    )
    return result


def _memory_mb() -> int:
    from wsgate_local.config import load_config

    return load_config(SCALE_DIR).memory_size


# -- the driver (a process of its own) ---------------------------------------------------------


class Receivers:
    """The receiving clients, ``CLIENTS_PER_RECEIVER`` per process."""

    def __init__(self, url: str, clients: int) -> None:
        self.procs: list[subprocess.Popen[str]] = []
        left = clients
        while left > 0:
            count = min(CLIENTS_PER_RECEIVER, left)
            left -= count
            argv = [procs.PYTHON, "-m", "bench.fanout", url, "--clients", str(count)]
            self.procs.append(
                subprocess.Popen(
                    [*argv, "--no-whoami"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    env=procs.child_env(),
                    start_new_session=True,
                )
            )

    def _pipes(self, proc: subprocess.Popen[str]) -> tuple[IO[str], IO[str]]:
        assert proc.stdin is not None and proc.stdout is not None
        return proc.stdin, proc.stdout

    def wait_connected(self, timeout: float) -> None:
        for proc in self.procs:
            _read_json_line(self._pipes(proc)[1], timeout)

    def report(self, tag: str, seconds: float) -> dict[str, Any]:
        """Every client's count of ``tag``, summed over the receiver processes."""
        for proc in self.procs:
            stdin, _ = self._pipes(proc)
            stdin.write(f"report {tag} {seconds:g}\n")
            stdin.flush()
        parts = [_read_json_line(self._pipes(p)[1], seconds + 60) for p in self.procs]
        lasts = [p["last_receipt"] for p in parts if p["last_receipt"] is not None]
        return {
            "tag": tag,
            "clients": sum(p["clients"] for p in parts),
            "exactly_one": sum(p["exactly_one"] for p in parts),
            "missing": sum(p["missing"] for p in parts),
            "duplicated": sum(p["duplicated"] for p in parts),
            "last_receipt": max(lasts) if lasts else None,
        }

    def stop(self) -> None:
        for proc in self.procs:
            try:
                stdin, _ = self._pipes(proc)
                stdin.write("quit\n")
                stdin.flush()
            except (BrokenPipeError, OSError):
                pass
        for proc in self.procs:
            procs.stop(proc, grace=5.0)


def open_ids(endpoint: str) -> list[str]:
    """The open connections, from the local gateway's (local-only) listing."""
    with urllib.request.urlopen(f"{endpoint}/@connections", timeout=60) as answer:
        listed = json.loads(answer.read())
    return [c["connectionId"] for c in listed["connections"] if c["state"] == "open"]


def bulk_join(ids: list[str]) -> None:
    """Write the membership items of ``ids`` in ROOM as ``rooms.join`` writes them."""
    from wsgate._clients import dynamodb_client
    from wsgate.store import connection_ttl, membership_key, table_name, to_dynamodb

    client, table, ttl = dynamodb_client(), table_name(), connection_ttl()
    now = int(time.time() * 1000)
    items = [
        {
            **membership_key(ROOM, cid),
            **to_dynamodb({"connectionId": cid, "room": ROOM, "joinedAt": now, "ttl": ttl}),
        }
        for cid in ids
    ]
    for start in range(0, len(items), 25):  # BatchWriteItem takes at most 25 items
        pending = {table: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def member_item_sizes() -> list[int]:
    """The size of every membership item of the room, as DynamoDB counts it."""
    from wsgate._clients import dynamodb_client
    from wsgate.rooms import ROOM_PREFIX
    from wsgate.store import CONNECTION_PREFIX, table_name

    client = dynamodb_client()
    request: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {
            ":pk": {"S": ROOM_PREFIX + ROOM},
            ":prefix": {"S": CONNECTION_PREFIX},
        },
    }
    sizes: list[int] = []
    while True:
        answer = client.query(**request)
        sizes.extend(scale_model.item_size(item) for item in answer.get("Items", []))
        if "LastEvaluatedKey" not in answer:
            return sizes
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def moto_consumed_capacity(limit: int) -> Any:
    """What the local DynamoDB (moto) answers for ``ReturnConsumedCapacity`` on one page."""
    from wsgate._clients import dynamodb_client
    from wsgate.rooms import ROOM_PREFIX
    from wsgate.store import table_name

    answer = dynamodb_client().query(
        TableName=table_name(),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": ROOM_PREFIX + ROOM}},
        ProjectionExpression="connectionId",
        ConsistentRead=True,
        Limit=limit,
        ReturnConsumedCapacity="TOTAL",
    )
    return answer.get("ConsumedCapacity")


def shard_lines(path: Path, publish_id: str, count: int, timeout: float) -> list[dict[str, Any]]:
    """Each of a publish's ``count`` shards once it is done: its ids, the CPU of all its
    invocations (a shard short of time hands the rest to a new one), its first start and its
    last end. Shards not done within ``timeout`` are left out."""
    deadline = time.monotonic() + timeout
    while True:
        shards: dict[int, dict[str, Any]] = {}
        for line in path.read_text().splitlines():
            entry = json.loads(line) if line.strip() else None
            if not entry or entry["publish"] != publish_id:
                continue
            shard = shards.setdefault(
                entry["n"],
                {
                    "n": entry["n"],
                    "ids": entry["ids"],
                    "cpu_s": 0.0,
                    "invocations": 0,
                    "started": entry["started"],
                    "ended": entry["ended"],
                    "done": False,
                },
            )
            shard["cpu_s"] += entry["cpu_s"]
            shard["invocations"] += 1
            shard["ids"] = max(shard["ids"], entry["ids"])
            shard["started"] = min(shard["started"], entry["started"])
            shard["ended"] = max(shard["ended"], entry["ended"])
            state = (entry.get("result") or {}).get("state")
            shard["done"] = shard["done"] or state in ("done", "already_done")
        done = [shards[n] for n in sorted(shards) if shards[n]["done"]]
        if len(done) >= count or time.monotonic() > deadline:
            return done
        time.sleep(0.1)


def _settled_status(publish_id: str, timeout: float) -> dict[str, Any]:
    from wsgate import fanout

    deadline = time.monotonic() + timeout
    while True:
        status = fanout.report(publish_id)
        if (status is not None and status.finished) or time.monotonic() > deadline:
            if status is None:
                return {}
            return {
                "shards": status.shards,
                "shards_done": status.shards_done,
                "delivered": status.delivered,
                "gone": status.gone,
                "failed": status.failed,
                "finished": status.finished,
            }
        time.sleep(0.1)


def drive(args: argparse.Namespace) -> dict[str, Any]:

    from wsgate import rooms

    endpoint = os.environ["WSGATE_ENDPOINT"]
    log = Path(args.shard_log)
    receivers = Receivers(args.ws_url, args.clients)
    try:
        started = time.monotonic()
        receivers.wait_connected(300 + args.clients * 0.05)
        connect_s = time.monotonic() - started
        ids = open_ids(endpoint)
        if len(ids) < args.clients:
            raise RuntimeError(f"only {len(ids)} of {args.clients} clients are connected")
        started = time.monotonic()
        bulk_join(ids)
        join_s = time.monotonic() - started
        sizes = member_item_sizes()
        inline_threshold = len(ids) + 1
        fan_threshold = args.shard_size
        if len(ids) <= fan_threshold:
            raise RuntimeError(f"{len(ids)} members do not fan out with shards of {fan_threshold}")
        read = {
            "item_bytes_mean": sum(sizes) / len(sizes),
            "inline_pages": scale_model.query_pages(sizes, inline_threshold + 1, args.shard_size),
            "fanout_pages": scale_model.query_pages(sizes, fan_threshold + 1, args.shard_size),
        }
        read_units = {
            "inline": scale_model.read_units(read["inline_pages"]),
            "fanout": scale_model.read_units(read["fanout_pages"]),
            "inline_pages": len(read["inline_pages"]),
            "fanout_pages": len(read["fanout_pages"]),
            "item_bytes_mean": read["item_bytes_mean"],
            "moto_consumed_capacity_one_page": moto_consumed_capacity(args.shard_size),
        }
        gateway_pid = args.gateway_pid
        # the caller's CPU for reading the member pages alone (the rest of its fan-out CPU is
        # per shard: Invoke calls and records)
        cpu0 = time.process_time()
        paged = sum(len(page) for page in rooms.member_pages(ROOM, first_page=fan_threshold + 1))
        pages_cpu_s = time.process_time() - cpu0
        if paged != len(ids):
            raise RuntimeError(f"the member pages hold {paged} ids, not {len(ids)}")

        def publish(tag: str, threshold: int) -> dict[str, Any]:
            gw_cpu = procs.cpu_split(gateway_pid)[0]
            data = {"tag": tag, "text": PAYLOAD_TEXT}
            t0, cpu0 = time.monotonic(), time.process_time()
            if args.in_function:
                answer = _publish_in_function(data, threshold)
                call_s, caller_cpu = answer["call_s"], answer["cpu_s"]
                publish_id, count = answer.get("publish_id", ""), answer.get("shards", 0)
                counts = answer.get("report")
            else:
                report = rooms.publish(ROOM, data, fanout_threshold=threshold)
                call_s, caller_cpu = time.monotonic() - t0, time.process_time() - cpu0
                publish_id, count = getattr(report, "id", ""), getattr(report, "shards", 0)
                counts = {
                    "delivered": len(getattr(report, "delivered", ())),
                    "gone": len(getattr(report, "gone", ())),
                    "failed": len(getattr(report, "failed", ())),
                }
            check = receivers.report(tag, 300)
            out: dict[str, Any] = {
                "call_s": call_s,
                "caller_cpu_s": caller_cpu,
                "check": check,
                "last_delivery_s": (check["last_receipt"] or t0) - t0,
            }
            if publish_id:
                lines = shard_lines(log, publish_id, count, 300)
                out.update(
                    publish_id=publish_id,
                    shards=count,
                    shard_lines=len(lines),
                    shard_cpu_s=[entry["cpu_s"] for entry in lines],
                    shard_ids=[entry["ids"] for entry in lines],
                    shard_wall_s=[entry["ended"] - entry["started"] for entry in lines],
                    shard_invocations=[entry["invocations"] for entry in lines],
                    first_shard_start_s=min((e["started"] for e in lines), default=t0) - t0,
                    status=_settled_status(publish_id, 60),
                )
            else:
                out["report"] = counts
            out["gateway_cpu_s"] = procs.cpu_split(gateway_pid)[0] - gw_cpu
            return out

        # untimed: the pool grows to a worker per shard, every client is warm
        warm = [publish("warm-fanout", fan_threshold)]
        if not args.in_function:
            warm.append(publish("warm-inline", inline_threshold))
        runs: list[dict[str, Any]] = []
        for r in range(args.rounds):
            runs.append(
                {
                    "inline": publish(f"inline-{r}", inline_threshold),
                    "fanout": publish(f"fanout-{r}", fan_threshold),
                }
            )
        # the bench app crashes every even shard's worker midway through its first attempt
        crashed = None if args.in_function else publish("crash-me-0", fan_threshold)
    finally:
        receivers.stop()
    return {
        "clients": args.clients,
        "shard_size": args.shard_size,
        "connect_s": connect_s,
        "join_s": join_s,
        "pages_cpu_s": pages_cpu_s,
        "read_units": read_units,
        "warmup": warm,
        "rounds": runs,
        "crashed": crashed,
    }


def _publish_in_function(data: dict[str, Any], threshold: int) -> dict[str, Any]:
    """Publish from inside the function (the bench app's ``benchPublish``): its answer."""
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "lambda", config=Config(read_timeout=900, retries={"total_max_attempts": 1})
    )
    request = {"benchPublish": {"room": ROOM, "data": data, "threshold": threshold}}
    answer = client.invoke(FunctionName="scale", Payload=json.dumps(request).encode())
    body = json.loads(answer["Payload"].read())
    if "FunctionError" in answer:
        raise RuntimeError(f"the publishing invocation failed: {body}")
    return body  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("ws_url")
    parser.add_argument("shard_log")
    parser.add_argument("gateway_pid", type=int)
    parser.add_argument("--clients", type=int, default=10000)
    parser.add_argument("--shard-size", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--in-function", action="store_true", help="publish inside the function (Invoke API)"
    )
    args = parser.parse_args()
    print(json.dumps(drive(args)))


if __name__ == "__main__":
    sys.exit(main())
