"""Running one fan-out shard (the event shape and the items are described in ``wsgate.fanout``).

A shard may run more than once: Lambda retries an asynchronous event that failed twice (one
minute, then two minutes later) and may deliver one event twice even when nothing failed ("How
Lambda handles errors and retries with asynchronous invocation"). So an execution first claims
the shard's item with a conditional write: it takes a lease (``lease_seconds()``, 45 by
default) unless the shard is done or another execution holds an unexpired lease. It then sends
in steps of ``CHECKPOINT_EVERY`` ids and, after each step, records its cursor and counts and
renews the lease (a write conditioned on still owning it). When the last step is sent, one
transaction marks the shard done and adds its counts to the publish's report, so counts are
added exactly once.

What each repeat does:

* the shard is done: nothing is sent (``already_done``);
* another execution holds the lease: ``ShardBusy`` is raised, a function error, so Lambda
  tries this event again later, by when the holder has finished or its lease has run out;
* an earlier execution failed with an exception: it recorded its cursor and released the lease
  on its way out, so the retry resumes exactly where it stopped (no duplicate, no loss);
* an earlier execution died with no chance to record (its process killed, out of memory): its
  lease runs out after ``lease_seconds()``, which is shorter than Lambda's one-minute wait
  before the first retry, and the retry resends the step in flight: at most
  ``CHECKPOINT_EVERY`` duplicates, no loss.

A shard about to run out of time stops between steps, records its cursor, releases the lease
and starts a fresh invocation of the same event (``handed_off``) instead of being cut off.
"""

from __future__ import annotations

import base64
import logging
import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import _json, metrics
from ._clients import dynamodb_client, sender
from ._retry import deadline, error_code
from .context import current_lambda_context
from .fanout import EVENT_KEY, MESSAGE_SK, REPORT_SK, VERSION, invoke, record_key, record_ttl
from .messaging import BroadcastReport, send_all
from .store import table_name, to_dynamodb, transact

#: Ids sent between two checkpoints: the most a shard can resend after its process died.
CHECKPOINT_EVERY = 100
ENV_LEASE = "WSGATE_FANOUT_LEASE_SECONDS"
#: Below Lambda's one-minute wait before retrying a failed asynchronous event.
DEFAULT_LEASE_SECONDS = 45
MAX_LEASE_SECONDS = 55
#: A step stops retrying sends this long (at most a fifth of the lease) before its lease ends.
LEASE_MARGIN_SECONDS = 5
#: Time kept for recording and handing off when an invocation's end nears.
HANDOFF_MARGIN_SECONDS = 5

logger = logging.getLogger("wsgate.fanout")


class ShardBusy(RuntimeError):
    """Another execution of this shard holds its lease; Lambda retries this event later."""


@dataclass
class Shard:
    publish: str
    number: int
    ids: list[str]
    endpoint: str
    message: dict[str, Any]
    hop: int
    event: Mapping[str, Any]
    owner: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def key(self) -> dict[str, Any]:
        return record_key(self.publish, f"shard#{self.number:06d}")


def lease_seconds() -> float:
    """``WSGATE_FANOUT_LEASE_SECONDS`` (an emulator that retries sooner than Lambda sets it
    lower), else 45; at most 55, below Lambda's one-minute wait before a retry."""
    raw = os.environ.get(ENV_LEASE, "").strip()
    try:
        value = float(raw) if raw else DEFAULT_LEASE_SECONDS
    except ValueError:
        value = DEFAULT_LEASE_SECONDS
    return min(max(value, 0.1), MAX_LEASE_SECONDS)


def handle_shard(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """Run one shard event; returns its counts and state (``done``, ``handed_off``,
    ``already_done``, ``lease_lost``, ``expired``, ``invalid``)."""
    try:
        shard = _parse(event)
    except (TypeError, ValueError, KeyError) as exc:
        # A retry cannot mend a malformed event: log it and end without an error.
        logger.error("ignored a malformed fan-out event: %s", exc)
        return {"state": "invalid", "error": str(exc)}
    token = current_lambda_context.set(context)
    try:
        return _run(shard, context)
    finally:
        try:
            metrics.flush(route="fanout")
        except Exception:
            logger.exception("metrics could not be written")
        current_lambda_context.reset(token)


def _run(shard: Shard, context: Any) -> dict[str, Any]:
    claimed = _claim(shard)
    if claimed is None:
        logger.info("fan-out %s shard %d was already done", shard.publish, shard.number)
        return _answer(shard, BroadcastReport(), "already_done")
    cursor = int(claimed.get("cursor", {}).get("N", "0"))
    counts = {name: int(claimed.get(name, {}).get("N", "0")) for name in ("sent", "gone", "lost")}
    payload = _payload(shard)
    if payload is None:
        logger.error("fan-out %s: the stored message has expired", shard.publish)
        return _answer(shard, BroadcastReport(), "expired")
    posting = sender(shard.endpoint)
    report = BroadcastReport()
    last_step = 0.0
    sent_here = 0
    try:
        while cursor < len(shard.ids):
            if sent_here and _time_short(context, last_step):
                _save(shard, cursor, counts, release=True)
                invoke(_json.dumps(_next_hop(shard)).encode("utf-8"))
                logger.info("fan-out %s shard %d handed off", shard.publish, shard.number)
                return _answer(shard, report, "handed_off")
            step = shard.ids[cursor : cursor + CHECKPOINT_EVERY]
            began = time.monotonic()
            lease = lease_seconds()
            until = min(deadline(context), began + lease - min(LEASE_MARGIN_SECONDS, lease / 5))
            done = BroadcastReport()
            send_all(posting, step, payload, until, done)
            last_step = time.monotonic() - began
            sent_here += len(step)
            cursor += len(step)
            _tally(report, done, counts)
            if cursor < len(shard.ids) and not _save(shard, cursor, counts, release=False):
                return _lost(shard, report)
    except Exception:
        # Record what was sent and free the shard, so Lambda's retry resumes right here.
        try:
            _save(shard, cursor, counts, release=True)
        except Exception:
            logger.exception("fan-out %s shard %d: not recorded", shard.publish, shard.number)
        raise
    if not _finish(shard, cursor, counts):
        return _lost(shard, report)
    logger.info(
        "fan-out %s shard %d done: %d delivered, %d gone, %d failed",
        shard.publish,
        shard.number,
        counts["sent"],
        counts["gone"],
        counts["lost"],
    )
    if report.failed:
        logger.warning(
            "fan-out %s shard %d: %d not delivered, e.g. %s",
            shard.publish,
            shard.number,
            len(report.failed),
            dict(list(report.failed.items())[:3]),
        )
    settle(shard.publish)
    return _answer(shard, report, "done")


def settle(publish_id: str) -> bool:
    """Mark the publish finished once every shard has reported; the one call that does so
    writes the publish's embedded-metric line. True if this call finished it."""
    try:
        answer = dynamodb_client().update_item(
            TableName=table_name(),
            Key=record_key(publish_id, REPORT_SK),
            UpdateExpression="SET #finished = :now",
            ConditionExpression=(
                "attribute_exists(#shards) AND #done >= #shards AND attribute_not_exists(#finished)"
            ),
            ExpressionAttributeNames={
                "#finished": "finishedAt",
                "#shards": "shards",
                "#done": "shardsDone",
            },
            ExpressionAttributeValues={":now": {"N": str(int(time.time() * 1000))}},
            ReturnValues="ALL_NEW",
        )
    except Exception as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    item = answer.get("Attributes", {})

    def number(name: str) -> int:
        return int(item.get(name, {}).get("N", "0"))

    line = metrics.render(
        {
            "FanoutRecipients": number("recipients"),
            "FanoutDelivered": number("delivered"),
            "FanoutGone": number("gone"),
            "FanoutFailed": number("failed"),
            "FanoutShards": number("shards"),
        }
    )
    metrics.writer(line)
    logger.info("fan-out %s finished", publish_id, extra={"publish": publish_id})
    return True


def _parse(event: Mapping[str, Any]) -> Shard:
    spec = event[EVENT_KEY]["shard"]
    if spec.get("v") != VERSION:
        raise ValueError(f"shard event version {spec.get('v')!r}; this runtime reads {VERSION}")
    ids = spec["ids"]
    if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
        raise ValueError("ids must be a list of connection ids")
    message = spec["message"]
    if not isinstance(message, Mapping) or not ({"text", "b64", "stored"} & set(message)):
        raise ValueError("message must hold text, b64 or stored")
    publish, number, endpoint = spec["publish"], spec["n"], spec["endpoint"]
    if not isinstance(publish, str) or not publish or not isinstance(endpoint, str):
        raise ValueError("publish and endpoint must be strings")
    if not isinstance(number, int) or number < 0:
        raise ValueError("n must be a shard number")
    return Shard(publish, number, ids, endpoint, dict(message), int(spec.get("hop", 0)), event)


def _payload(shard: Shard) -> bytes | None:
    if "text" in shard.message:
        return str(shard.message["text"]).encode("utf-8")
    if "b64" in shard.message:
        return base64.b64decode(shard.message["b64"])
    answer = dynamodb_client().get_item(
        TableName=table_name(), Key=record_key(shard.publish, MESSAGE_SK), ConsistentRead=True
    )
    data = answer.get("Item", {}).get("data", {}).get("B")
    return None if data is None else bytes(data)


_NAMES = {
    "#owner": "owner",
    "#lease": "leaseUntil",
    "#cursor": "cursor",
    "#done": "done",
    "#ttl": "ttl",
    "#sent": "sent",
    "#gone": "gone",
    "#lost": "lost",
}


def _claim(shard: Shard) -> dict[str, Any] | None:
    """Take the shard's lease; its item (cursor, counts) or None when the shard is done.
    Raises ``ShardBusy`` when another execution holds an unexpired lease."""
    now = _now_ms()
    names = {k: _NAMES[k] for k in ("#owner", "#lease", "#cursor", "#done", "#ttl")}
    try:
        answer = dynamodb_client().update_item(
            TableName=table_name(),
            Key=shard.key,
            UpdateExpression=(
                "SET #owner = :me, #lease = :until, #ttl = :ttl, "
                "#cursor = if_not_exists(#cursor, :zero)"
            ),
            ConditionExpression="attribute_not_exists(#done) AND "
            "(attribute_not_exists(#lease) OR #lease < :now)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_dynamodb(
                {
                    ":me": shard.owner,
                    ":until": now + int(lease_seconds() * 1000),
                    ":ttl": record_ttl(),
                    ":zero": 0,
                    ":now": now,
                }
            ),
            ReturnValues="ALL_NEW",
        )
    except Exception as exc:
        if error_code(exc) != "ConditionalCheckFailedException":
            raise
        item = (
            dynamodb_client()
            .get_item(TableName=table_name(), Key=shard.key, ConsistentRead=True)
            .get("Item", {})
        )
        if "done" in item:
            return None
        raise ShardBusy(
            f"fan-out {shard.publish} shard {shard.number} is being sent by another execution; "
            "Lambda retries this event later"
        ) from None
    attributes: dict[str, Any] = answer.get("Attributes", {})
    return attributes


def _save(shard: Shard, cursor: int, counts: dict[str, int], *, release: bool) -> bool:
    """Record progress and renew (or release) the lease; False when the lease was lost."""
    until = 0 if release else _now_ms() + int(lease_seconds() * 1000)
    try:
        dynamodb_client().update_item(
            TableName=table_name(),
            Key=shard.key,
            UpdateExpression="SET #cursor = :cursor, #sent = :sent, #gone = :gone, "
            "#lost = :lost, #lease = :until",
            ConditionExpression="#owner = :me",
            ExpressionAttributeNames={
                k: _NAMES[k] for k in ("#cursor", "#sent", "#gone", "#lost", "#lease", "#owner")
            },
            ExpressionAttributeValues=to_dynamodb(
                {
                    ":cursor": cursor,
                    ":sent": counts["sent"],
                    ":gone": counts["gone"],
                    ":lost": counts["lost"],
                    ":until": until,
                    ":me": shard.owner,
                }
            ),
        )
    except Exception as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _finish(shard: Shard, cursor: int, counts: dict[str, int]) -> bool:
    """Mark the shard done and add its counts to the report, in one transaction."""
    table = table_name()
    return transact(
        [
            {
                "Update": {
                    "TableName": table,
                    "Key": shard.key,
                    "UpdateExpression": "SET #done = :true, #cursor = :cursor, #sent = :sent, "
                    "#gone = :gone, #lost = :lost REMOVE #owner, #lease",
                    "ConditionExpression": "#owner = :me",
                    "ExpressionAttributeNames": {
                        k: _NAMES[k]
                        for k in ("#done", "#cursor", "#sent", "#gone", "#lost", "#owner", "#lease")
                    },
                    "ExpressionAttributeValues": to_dynamodb(
                        {
                            ":true": True,
                            ":cursor": cursor,
                            ":sent": counts["sent"],
                            ":gone": counts["gone"],
                            ":lost": counts["lost"],
                            ":me": shard.owner,
                        }
                    ),
                }
            },
            {
                "Update": {
                    "TableName": table,
                    "Key": record_key(shard.publish, REPORT_SK),
                    "UpdateExpression": "ADD #delivered :sent, #gone :gone, #failed :lost, "
                    "#shardsDone :one SET #ttl = if_not_exists(#ttl, :ttl)",
                    "ExpressionAttributeNames": {
                        "#delivered": "delivered",
                        "#gone": "gone",
                        "#failed": "failed",
                        "#shardsDone": "shardsDone",
                        "#ttl": "ttl",
                    },
                    "ExpressionAttributeValues": to_dynamodb(
                        {
                            ":sent": counts["sent"],
                            ":gone": counts["gone"],
                            ":lost": counts["lost"],
                            ":one": 1,
                            ":ttl": record_ttl(),
                        }
                    ),
                }
            },
        ]
    )


def _tally(report: BroadcastReport, step: BroadcastReport, counts: dict[str, int]) -> None:
    report.delivered.extend(step.delivered)
    report.gone.extend(step.gone)
    report.failed.update(step.failed)
    counts["sent"] += len(step.delivered)
    counts["gone"] += len(step.gone)
    counts["lost"] += len(step.failed)


def _time_short(context: Any, last_step: float) -> bool:
    getter = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(getter):
        return False
    try:
        remaining = int(getter()) / 1000
    except (TypeError, ValueError):
        return False
    return remaining < HANDOFF_MARGIN_SECONDS + 2 * last_step


def _next_hop(shard: Shard) -> dict[str, Any]:
    spec = dict(shard.event[EVENT_KEY]["shard"])
    spec["hop"] = shard.hop + 1
    return {EVENT_KEY: {"shard": spec}}


def _lost(shard: Shard, report: BroadcastReport) -> dict[str, Any]:
    logger.warning(
        "fan-out %s shard %d: another execution took over; stopping", shard.publish, shard.number
    )
    return _answer(shard, report, "lease_lost")


def _answer(shard: Shard, report: BroadcastReport, state: str) -> dict[str, Any]:
    return {
        "shard": shard.number,
        "publish": shard.publish,
        "delivered": len(report.delivered),
        "gone": len(report.gone),
        "failed": len(report.failed),
        "state": state,
    }


def _now_ms() -> int:
    return int(time.time() * 1000)
