"""Scale-out publish: a broadcast too large for one function is split over parallel invocations.

``rooms.publish``, ``broadcast`` and ``broadcast_all`` send inline (``wsgate.messaging``) up to a
threshold of recipients (``fanout_threshold=``, else ``WSGATE_FANOUT_THRESHOLD``, else 1,000).
Above it the caller reads the recipients page by page (a paginated, projected Query) and, for
every ``WSGATE_FANOUT_SHARD_SIZE`` ids (default 1,000), starts one asynchronous invocation
(``InvocationType="Event"``) of the dispatcher (``WSGATE_FANOUT_FUNCTION``, else the running
function's own ``AWS_LAMBDA_FUNCTION_NAME``). Each of those shards posts to its ids with the
concurrent sender of ``broadcast`` and removes gone connections; Lambda runs them side by side,
each on its own share of CPU, so a room of 100,000 takes about as long as one shard. Each shard
is one concurrent execution, drawn from the account's concurrency in the Region (1,000 by
default, shared by every function: "Lambda quotas") and from the function's reserved
concurrency when it has one; Lambda keeps and retries an event it has no concurrency for.

The shard event (what the dispatcher receives; ``App``, ``WebSocketHandler`` and
``wsgate.compat.zappa.handler`` recognise it by its top-level ``wsgate`` key)::

    {"wsgate": {"shard": {
        "v": 1,                       # version of this shape
        "publish": "<32 hex digits>", # the publish id, also the report's id
        "n": 0,                       # shard number within the publish
        "ids": ["<connection id>", ...],
        "endpoint": "https://<api>.execute-api.<region>.amazonaws.com/<stage>",
        "message": {"text": "..."} | {"b64": "..."} | {"stored": true},
        "hop": 0                      # times this shard was handed to a fresh invocation
    }}}

An event stays under 256 KB: the Invoke API reference allows asynchronous payloads of 1 MB
(256 KB until late 2025, and still the limit of ``InvokeAsync``), and keeping to the older limit
costs nothing. A message that would not fit next to its ids is written once to the table
(``fanout#<id>``/``message``, with a TTL) and the events carry ``{"stored": true}``.

Delivery, results and their records in the connection table (all expire after a day):

=======================  ==================  ==================================================
item                     sk                  holds
=======================  ==================  ==================================================
``fanout#<publish id>``  ``report``          target, recipients, shards, and the counts added
                                             (atomic ``ADD``) by each finished shard
``fanout#<publish id>``  ``shard#<n>``       progress of one shard: cursor, counts, lease, done
``fanout#<publish id>``  ``message``         the message, when too large for the events
=======================  ==================  ==================================================

Lambda may run an event more than once (it retries a failed one twice, and its queue can deliver
one twice with no error: "How Lambda handles errors and retries with asynchronous invocation"), so
each shard claims a lease on its item, sends in steps of ``CHECKPOINT_EVERY`` ids and records its
cursor after each step (``wsgate._shard``). A repeat of a finished shard sends nothing; a retry
after a failure resumes at the cursor. What stays possible is bounded: a shard whose process dies
mid-step (no code runs to record it) resends that one step, at most ``CHECKPOINT_EVERY``
messages, on its retry; it never skips anyone.

``fanout.report(id)`` reads the counts while shards run and after; the shard that finishes a
publish last writes one embedded-metric line with the publish's totals (``Fanout*`` metrics).
"""

from __future__ import annotations

import base64
import itertools
import logging
import os
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from . import _json
from ._clients import dynamodb_client, lambda_client
from .endpoint import resolve_endpoint
from .errors import ConfigurationError
from .messaging import BroadcastReport, broadcast, encode, fanout_limit
from .store import from_dynamodb, table_name, to_dynamodb

ENV_SHARD_SIZE = "WSGATE_FANOUT_SHARD_SIZE"
ENV_FUNCTION = "WSGATE_FANOUT_FUNCTION"
DEFAULT_SHARD_SIZE = 1000
#: Largest shard accepted: 5,000 API Gateway connection ids (16 characters) fill about 100 KB.
MAX_SHARD_SIZE = 5000
#: The top-level key that marks a shard event.
EVENT_KEY = "wsgate"
VERSION = 1
#: Largest event sent (see the module docstring).
MAX_EVENT_BYTES = 256 * 1024
#: How long the report, shard and message items live. Lambda keeps an event it cannot run yet
#: for up to 6 hours (MaximumEventAgeInSeconds, at most 21,600), so a stored message outlives it.
RECORD_SECONDS = 24 * 60 * 60
PREFIX = "fanout#"
REPORT_SK = "report"
MESSAGE_SK = "message"
#: Invoke calls in flight at once while handing out shards.
INVOKE_WORKERS = 16

logger = logging.getLogger("wsgate.fanout")
_warned_off = False


@dataclass
class FanoutReport(BroadcastReport):
    """What a fanned-out publish returns at once: its id and the shards it started.

    The shards report later (``wsgate.fanout.report(report.id)``), so ``delivered`` and ``gone``
    are empty here; ``failed`` lists the ids of any shard that could not even be started (its
    Invoke call failed), with the reason.
    """

    #: The publish id, for ``wsgate.fanout.report``.
    id: str = ""
    #: Shards started.
    shards: int = 0
    #: Distinct recipients handed to shards, or listed in ``failed``.
    recipients: int = 0

    @property
    def pending(self) -> bool:
        """True while the counts are the shards' to give (some shard was started)."""
        return self.shards > 0

    @property
    def complete(self) -> bool:
        """Not known when returned: False while shards are pending or a shard did not start."""
        return not self.pending and not self.failed

    @property
    def attempted(self) -> int:
        """How many distinct connections the message was handed out for."""
        return self.recipients


@dataclass(frozen=True)
class PublishStatus:
    """A fanned-out publish as recorded in the table (``wsgate.fanout.report``)."""

    id: str
    #: ``room:<name>``, ``all`` or ``ids``.
    target: str
    recipients: int
    #: Shards the publish has; None while the publisher is still starting them.
    shards: int | None
    shards_done: int
    delivered: int
    gone: int
    failed: int
    #: Epoch milliseconds.
    created_at: int | None
    finished_at: int | None

    @property
    def finished(self) -> bool:
        """True once every shard has reported."""
        return self.finished_at is not None

    @property
    def pending(self) -> int | None:
        """Shards still to report (None while the count of shards is not known yet)."""
        return None if self.shards is None else max(0, self.shards - self.shards_done)


def is_shard(event: Any) -> bool:
    """Whether ``event`` is a fan-out shard (its top-level ``wsgate`` key holds a ``shard``)."""
    marker = event.get(EVENT_KEY) if isinstance(event, Mapping) else None
    return isinstance(marker, Mapping) and "shard" in marker


def handle_shard(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """Run one shard event (``App`` and the other handlers call this for shard events)."""
    from ._shard import handle_shard as run

    return run(event, context)


def shard_size() -> int:
    """Ids per shard: ``WSGATE_FANOUT_SHARD_SIZE``, else 1,000; 1 to ``MAX_SHARD_SIZE``."""
    raw = os.environ.get(ENV_SHARD_SIZE, "").strip()
    if not raw:
        return DEFAULT_SHARD_SIZE
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_SHARD_SIZE:
        raise ConfigurationError(
            f"{ENV_SHARD_SIZE}={raw!r} is not a shard size: use a whole number from 1 to "
            f"{MAX_SHARD_SIZE} (the module's fanout_shard_size variable sets it)"
        )
    return value


def function_name() -> str | None:
    """The function shards run on: ``WSGATE_FANOUT_FUNCTION``, else this function's own name."""
    for key in (ENV_FUNCTION, "AWS_LAMBDA_FUNCTION_NAME"):
        value = os.environ.get(key, "").strip()
        if value:
            return value
    return None


def available() -> bool:
    """Whether fan-out can start shards here; if not, large broadcasts are sent inline (with a
    warning, once per process) instead of failing."""
    global _warned_off
    if function_name() is not None:
        return True
    if not _warned_off:
        _warned_off = True
        logger.warning(
            "a broadcast above the fan-out threshold is sent inline: set %s to the dispatcher's "
            "name (the module's env output has it) to fan out",
            ENV_FUNCTION,
        )
    return False


def deliver(
    pages: Iterable[list[str]],
    payload: bytes,
    *,
    endpoint: str | None,
    threshold: int | None,
    target: str,
) -> BroadcastReport:
    """Send ``payload`` to the ids of ``pages`` (distinct, exclusions applied): inline if there
    are at most ``threshold`` of them, else fanned out, reading no page more than needed to tell."""
    limit = fanout_limit(threshold)
    pending = iter(pages)
    first: list[str] = []
    for page in pending:
        first.extend(page)
        if len(first) > limit and available():
            rest = itertools.chain([first], pending)
            return fan_out(rest, payload, endpoint=endpoint, target=target)
    return broadcast(first, payload, endpoint=endpoint, fanout_threshold=len(first))


def broadcast_all(
    data: Any,
    *,
    exclude: Iterable[str] = (),
    endpoint: str | None = None,
    fanout_threshold: int | None = None,
) -> BroadcastReport:
    """Send ``data`` to every stored connection except ``exclude`` (``wsgate.broadcast_all``).

    Reads the connection directory page by page (``connections.pages``); inline or fanned out as
    ``broadcast``. Gone connections are removed from the store.
    """
    from .store import connections

    payload = encode(data)
    skip = {exclude} if isinstance(exclude, str) else set(exclude)
    listed = connections.pages(page_size=shard_size())
    pages = ([cid for cid in page if cid not in skip] for page in listed)
    return deliver(pages, payload, endpoint=endpoint, threshold=fanout_threshold, target="all")


def fan_out(
    pages: Iterable[list[str]], payload: bytes, *, endpoint: str | None, target: str
) -> FanoutReport:
    """Start one shard per ``shard_size()`` ids of ``pages`` (distinct ids) and record the
    publish; returns at once with the publish id (see ``FanoutReport``)."""
    from concurrent.futures import Future, ThreadPoolExecutor

    name = function_name()
    if name is None:
        raise ConfigurationError(f"fan-out needs {ENV_FUNCTION}: set it to the dispatcher's name")
    size = shard_size()
    url = resolve_endpoint(endpoint)
    started = int(time.time() * 1000)
    report = FanoutReport(id=uuid.uuid4().hex)
    message = _message_field(payload)
    client = lambda_client()
    started_shards: list[tuple[list[str], Future[None]]] = []
    with ThreadPoolExecutor(max_workers=INVOKE_WORKERS, thread_name_prefix="wsgate-fanout") as pool:
        number = 0
        for ids in _chunks(pages, size):
            report.recipients += len(ids)
            parts = [ids]
            while parts:
                part = parts.pop()
                body = _event(report.id, number, part, url, message)
                if len(body) > MAX_EVENT_BYTES and "stored" not in message:
                    _store_message(report.id, payload)  # once: every later event refers to it
                    message = {"stored": True}
                    body = _event(report.id, number, part, url, message)
                if len(body) > MAX_EVENT_BYTES and len(part) > 1:  # unusually long ids
                    half = len(part) // 2
                    parts.extend([part[half:], part[:half]])
                    continue
                started_shards.append((part, pool.submit(_invoke, client, name, body)))
                number += 1
    not_started = 0
    for part, future in started_shards:
        exc = future.exception()
        if exc is None:
            report.shards += 1
            continue
        not_started += 1
        reason = f"shard not started: {type(exc).__name__}: {exc}"[:300]
        logger.error("fan-out %s: %s (%d ids)", report.id, reason, len(part))
        report.failed.update(dict.fromkeys(part, reason))
    try:
        _record(report, target, started, not_started)
        from ._shard import settle

        settle(report.id)
    except Exception:  # the shards are on their way: a caller must not resend for this
        logger.exception("fan-out %s started but its report could not be written", report.id)
    return report


def report(publish_id: str) -> PublishStatus | None:
    """The counts of a fanned-out publish so far (None if unknown or expired)."""
    if not isinstance(publish_id, str) or not publish_id:
        raise ValueError("publish_id must be the id of a FanoutReport")
    answer = dynamodb_client().get_item(
        TableName=table_name(), Key=record_key(publish_id, REPORT_SK), ConsistentRead=True
    )
    if "Item" not in answer:
        return None
    item = from_dynamodb(answer["Item"])
    return PublishStatus(
        id=publish_id,
        target=str(item.get("target", "")),
        recipients=int(item.get("recipients", 0)),
        shards=int(item["shards"]) if "shards" in item else None,
        shards_done=int(item.get("shardsDone", 0)),
        delivered=int(item.get("delivered", 0)),
        gone=int(item.get("gone", 0)),
        failed=int(item.get("failed", 0)),
        created_at=item.get("createdAt"),
        finished_at=item.get("finishedAt"),
    )


def record_key(publish_id: str, sk: str) -> dict[str, Any]:
    """The key of one of a publish's items (``report``, ``message``, ``shard#<n>``)."""
    return {"pk": {"S": PREFIX + publish_id}, "sk": {"S": sk}}


def record_ttl() -> int:
    return int(time.time()) + RECORD_SECONDS


def invoke(body: bytes) -> None:
    """Start one asynchronous invocation of the fan-out function with ``body``."""
    name = function_name()
    if name is None:
        raise ConfigurationError(f"fan-out needs {ENV_FUNCTION}: set it to the dispatcher's name")
    _invoke(lambda_client(), name, body)


def _invoke(client: Any, name: str, body: bytes) -> None:
    answer = client.invoke(FunctionName=name, InvocationType="Event", Payload=body)
    status = answer.get("StatusCode")
    if status != 202:  # Invoke API reference: 202 for the Event invocation type
        raise RuntimeError(f"Invoke answered {status} for an Event invocation, not 202")


def _event(
    publish_id: str, number: int, ids: list[str], url: str, message: dict[str, Any]
) -> bytes:
    shard = {
        "v": VERSION,
        "publish": publish_id,
        "n": number,
        "ids": ids,
        "endpoint": url,
        "message": message,
        "hop": 0,
    }
    return _json.dumps({EVENT_KEY: {"shard": shard}}).encode("utf-8")


def _message_field(payload: bytes) -> dict[str, Any]:
    try:
        return {"text": payload.decode("utf-8")}
    except UnicodeDecodeError:
        return {"b64": base64.b64encode(payload).decode("ascii")}


def _store_message(publish_id: str, payload: bytes) -> None:
    dynamodb_client().put_item(
        TableName=table_name(),
        Item={
            **record_key(publish_id, MESSAGE_SK),
            "data": {"B": payload},
            **to_dynamodb({"ttl": record_ttl()}),
        },
    )


def _chunks(pages: Iterable[list[str]], size: int) -> Iterator[list[str]]:
    buffer: list[str] = []
    for page in pages:
        buffer.extend(page)
        while len(buffer) >= size:
            yield buffer[:size]
            del buffer[:size]
    if buffer:
        yield buffer


def _record(report: FanoutReport, target: str, started: int, not_started: int) -> None:
    """Write the publish's shape to its report item; shards ADD their counts to the same item."""
    dynamodb_client().update_item(
        TableName=table_name(),
        Key=record_key(report.id, REPORT_SK),
        UpdateExpression=(
            "SET #target = :target, #recipients = :recipients, #shards = :shards, "
            "#created = :created, #ttl = if_not_exists(#ttl, :ttl) "
            "ADD #failed :failed, #done :done"
        ),
        ExpressionAttributeNames={
            "#target": "target",
            "#recipients": "recipients",
            "#shards": "shards",
            "#created": "createdAt",
            "#ttl": "ttl",
            "#failed": "failed",
            "#done": "shardsDone",
        },
        ExpressionAttributeValues=to_dynamodb(
            {
                ":target": target,
                ":recipients": report.recipients,
                ":shards": report.shards + not_started,
                ":created": started,
                ":ttl": record_ttl(),
                ":failed": len(report.failed),
                ":done": not_started,
            }
        ),
    )
