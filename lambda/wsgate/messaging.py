"""Sending to connected clients through API Gateway's @connections management API.

``send`` posts to one connection, ``broadcast`` to many at once (one encoding, one size check, a
bounded pool of threads sharing the endpoint's sender, see ``wsgate.senders``), ``close``
disconnects a client and ``info`` describes it. A connection that is gone (410) is removed from the
connection store and all of its rooms when a table is configured (unless it connected in the last 30
seconds and may still be in ``$connect``, see ``_forget``); it is never retried. Throttling (429)
and server errors (5xx) are retried with capped exponential backoff and full jitter for as long as
the invocation's remaining time allows (``wsgate._retry.deadline``), and every retry is counted in
the ``Retries`` metric. What still fails is reported, never dropped quietly: ``send`` raises
``SendFailed`` and ``broadcast`` lists it in ``BroadcastReport.failed``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import _json, metrics, tracing
from ._clients import MAX_POOL_CONNECTIONS, management_client, sender
from ._retry import call_with_retries, deadline, error_code, http_status
from .apigw.limits import MAX_POST_BYTES
from .context import current_lambda_context
from .endpoint import resolve_endpoint
from .errors import ConfigurationError, Gone, SendFailed, SendTooLarge

#: API Gateway's largest @connections payload (PostToConnection ``Data``), in bytes.
MAX_PAYLOAD_BYTES = MAX_POST_BYTES
#: A 410 removes a stored connection only if it was recorded at least this long ago (see _forget).
CONNECT_GRACE_MS = 30_000
#: Threads a broadcast uses unless told otherwise (never more than the client's pool).
DEFAULT_MAX_WORKERS = 32
#: Recipients above which a broadcast or publish fans out (``wsgate.fanout``), unless told.
ENV_FANOUT_THRESHOLD = "WSGATE_FANOUT_THRESHOLD"
DEFAULT_FANOUT_THRESHOLD = 1000

logger = logging.getLogger("wsgate.messaging")

_FORBIDDEN_HINT = (
    "API Gateway answered 403 Forbidden: the connection id never existed on this API, the "
    "endpoint is wrong (it must end with the stage, or the base path for a custom domain), "
    "or the role lacks execute-api:ManageConnections"
)


@dataclass
class BroadcastReport:
    """What a broadcast did, connection by connection (ids in the order they were given)."""

    #: Connections the message reached.
    delivered: list[str] = field(default_factory=list)
    #: Connections that had disconnected (410); they are removed from the store.
    gone: list[str] = field(default_factory=list)
    #: Connections still connected that did not get the message, each with the reason (for
    #: example ``LimitExceededException after 9 attempts``): retry these, or tell the sender.
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def attempted(self) -> int:
        """How many distinct connections the message was sent to."""
        return len(self.delivered) + len(self.gone) + len(self.failed)

    @property
    def complete(self) -> bool:
        """True when every connection still connected got the message (nothing ``failed``)."""
        return not self.failed


def encode(data: Any) -> bytes:
    """The bytes sent for ``data``: dict or list → compact JSON, str → UTF-8, bytes as they are.

    Raises ``SendTooLarge`` over 131,072 bytes, before anything is sent.
    """
    if isinstance(data, bytes | bytearray | memoryview):
        payload = bytes(data)
    elif isinstance(data, str):
        payload = data.encode("utf-8")
    elif isinstance(data, dict | list):
        payload = _json.dumps(data).encode("utf-8")
    else:
        raise TypeError(
            f"cannot send a {type(data).__name__}: pass a dict or list (sent as JSON), "
            "a str (UTF-8) or bytes"
        )
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise SendTooLarge(
            f"payload is {len(payload)} bytes; API Gateway accepts at most {MAX_PAYLOAD_BYTES}"
        )
    return payload


def send(connection_id: str, data: Any, *, endpoint: str | None = None) -> None:
    """Send ``data`` to one connection.

    Raises ``SendTooLarge`` (before any call), ``Gone`` when the client has disconnected
    (after removing it from the store), ``SendFailed`` when the call fails after its retries,
    and ``ConfigurationError`` when no endpoint can be found (see ``wsgate.endpoint``).
    """
    payload = encode(data)
    until = _deadline()
    posting = sender(resolve_endpoint(endpoint))
    _raise_for(connection_id, _deliver(posting, connection_id, payload, until))


def broadcast(
    ids: Iterable[str],
    data: Any,
    *,
    exclude: Iterable[str] = (),
    endpoint: str | None = None,
    max_workers: int | None = None,
    fanout_threshold: int | None = None,
) -> BroadcastReport:
    """Send ``data`` to every connection in ``ids`` except ``exclude``, concurrently.

    Each id is sent to once even if listed twice. Never raises for one connection's failure:
    the report says which were delivered, which were gone (and removed from the store) and
    which failed, with the reason.

    More than ``fanout_threshold`` ids (default: ``WSGATE_FANOUT_THRESHOLD``, else 1,000) are
    handed to parallel invocations of the dispatcher instead (``wsgate.fanout``), and the
    report returned is a ``FanoutReport`` whose final counts come later.
    """
    if isinstance(ids, str):
        raise TypeError("broadcast() takes a list of connection ids; use send() for one")
    skip = {exclude} if isinstance(exclude, str) else set(exclude)
    targets = [cid for cid in dict.fromkeys(ids) if cid not in skip]
    payload = encode(data)
    report = BroadcastReport()
    if not targets:
        return report
    if len(targets) > fanout_limit(fanout_threshold):
        from . import fanout  # only a broadcast that large needs it

        if fanout.available():
            return fanout.fan_out([targets], payload, endpoint=endpoint, target="ids")
    posting = sender(resolve_endpoint(endpoint))
    until = _deadline()  # read here: the worker threads do not see the invocation's context
    send_all(posting, targets, payload, until, report, max_workers=max_workers)
    return report


def send_all(
    posting: Any,
    targets: list[str],
    payload: bytes,
    until: float,
    report: BroadcastReport,
    *,
    max_workers: int | None = None,
) -> None:
    """Post ``payload`` to each of ``targets`` (distinct ids) concurrently, adding each outcome to
    ``report``: the sender of ``broadcast`` and of each fan-out shard (``wsgate.fanout``)."""
    workers = max(1, min(max_workers or DEFAULT_MAX_WORKERS, MAX_POOL_CONNECTIONS, len(targets)))
    with tracing.subsegment("wsgate broadcast", recipients=len(targets)):
        if workers == 1:
            outcomes = [_deliver(posting, cid, payload, until) for cid in targets]
        else:
            # Imported here: most invocations never broadcast, and a cold start need not pay.
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wsgate-send") as pool:
                outcomes = list(
                    pool.map(lambda cid: _deliver(posting, cid, payload, until), targets)
                )
    for cid, (status, reason) in zip(targets, outcomes, strict=True):
        if status == "delivered":
            report.delivered.append(cid)
        elif status == "gone":
            report.gone.append(cid)
        else:
            report.failed[cid] = reason


def fanout_limit(value: int | None = None) -> int:
    """The largest broadcast sent inline: ``value``, else ``WSGATE_FANOUT_THRESHOLD``, else 1,000.

    Raises ``ConfigurationError`` for a value that is not a whole number of at least 0.
    """
    if value is None:
        raw = os.environ.get(ENV_FANOUT_THRESHOLD, "").strip()
        if not raw:
            return DEFAULT_FANOUT_THRESHOLD
        try:
            value = int(raw)
        except ValueError:
            value = -1
        source = f"{ENV_FANOUT_THRESHOLD}={raw!r}"
    else:
        source = f"fanout_threshold={value!r}"
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(
            f"{source} is not a member count: use a whole number of at least 0 "
            "(the module's fanout_threshold variable sets it)"
        )
    return value


def close(connection_id: str, *, endpoint: str | None = None) -> bool:
    """Disconnect a client (DeleteConnection). True if it was open, False if already gone.

    Closing is idempotent: a connection that is already gone is removed from the store and
    reported as False instead of raising.
    """
    client = management_client(resolve_endpoint(endpoint))
    try:
        _call(
            connection_id,
            lambda: client.delete_connection(ConnectionId=connection_id),
            _deadline(),
        )
    except Gone:
        return False
    return True


def info(connection_id: str, *, endpoint: str | None = None) -> dict[str, Any]:
    """Describe a connection (GetConnection) in the wire format, ready to send as JSON.

    Returns ``{"connectedAt": ISO-8601, "lastActiveAt": ISO-8601, "identity": {"sourceIp",
    "userAgent"}}``. Raises ``Gone`` when the client has disconnected.
    """
    client = management_client(resolve_endpoint(endpoint))
    answer = _call(
        connection_id, lambda: client.get_connection(ConnectionId=connection_id), _deadline()
    )
    identity = answer.get("Identity") or {}
    result: dict[str, Any] = {
        "connectedAt": _iso(answer.get("ConnectedAt")),
        "lastActiveAt": _iso(answer.get("LastActiveAt")),
        "identity": {"sourceIp": identity.get("SourceIp"), "userAgent": identity.get("UserAgent")},
    }
    return result


def _deadline() -> float:
    """When retries must stop, from the current invocation's Lambda context (if any)."""
    return deadline(current_lambda_context.get())


def _deliver(posting: Any, connection_id: str, payload: bytes, until: float) -> tuple[str, str]:
    """Post one payload; returns ("delivered" | "gone" | "failed", reason) and counts it."""
    try:
        _call(connection_id, lambda: posting.post(connection_id, payload), until)
    except Gone:
        metrics.incr(metrics.MESSAGES_GONE)
        return "gone", "gone"
    except SendFailed as exc:
        metrics.incr(metrics.MESSAGES_FAILED)
        return "failed", exc.reason
    metrics.incr(metrics.MESSAGES_SENT)
    return "delivered", ""


def _raise_for(connection_id: str, outcome: tuple[str, str]) -> None:
    status, reason = outcome
    if status == "gone":
        raise Gone(connection_id)
    if status == "failed":
        raise SendFailed(connection_id, reason)


def _call(connection_id: str, fn: Any, until: float) -> Any:
    """Run one @connections call with retries until ``until``; AWS errors become wsgate's."""
    attempts = 0

    def attempt() -> Any:
        nonlocal attempts
        attempts += 1
        return fn()

    try:
        return call_with_retries(attempt, until=until, on_retry=_count_retry)
    except Exception as exc:
        code, status = error_code(exc), http_status(exc)
        if code == "GoneException" or status == 410:
            _forget(connection_id)
            raise Gone(connection_id) from exc
        if code == "ForbiddenException" or status == 403:
            raise SendFailed(connection_id, _FORBIDDEN_HINT) from exc
        what = code or type(exc).__name__
        plural = "s" if attempts != 1 else ""
        raise SendFailed(connection_id, f"{what} after {attempts} attempt{plural}") from exc


def _count_retry(exc: BaseException) -> None:
    metrics.incr(metrics.RETRIES)
    logger.debug("retrying @connections call after %s", error_code(exc) or type(exc).__name__)


def _forget(connection_id: str) -> None:
    """Remove a gone connection and its memberships from the store, when there is one.

    API Gateway also answers 410 for a connection whose ``$connect`` has not finished (the
    handshake waits for the integration, up to its 29-second timeout). A connection recorded
    less than ``CONNECT_GRACE_MS`` ago may be one of those, about to open, so it is kept; if it
    really is gone, ``$disconnect`` or a later 410 removes it, and its TTL at the latest.
    """
    from . import store

    if not store.table_configured():
        return
    try:
        cutoff = int(time.time() * 1000) - CONNECT_GRACE_MS
        store.connections.delete(connection_id, connected_before=cutoff)
    except Exception:
        # The caller still learns the connection is gone; the item's TTL cleans up later.
        logger.exception("could not remove gone connection %s from the store", connection_id)


def _iso(value: Any) -> str | None:
    from datetime import datetime  # only info() needs it; a cold start need not pay

    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return None if value is None else str(value)
