"""Capped exponential backoff with full jitter for @connections calls, within a time budget.

API Gateway answers 429 when the account's request bucket (shared by every API in the region)
or a client's send buffer is full, and 5xx on transient faults; both are worth more tries.
410 Gone and 403 Forbidden are final and are never retried. Full jitter (a delay drawn
uniformly from zero to the capped exponential) spreads a broadcast's retries out instead of
sending them back in lockstep.

How long to keep trying is set by time, not by a count: a message given up on while the
invocation still has seconds left is a message lost for nothing. Inside Lambda the budget is
the invocation's remaining time (``context.get_remaining_time_in_millis()``) less a safety
margin, so the handler still has time to answer and is never killed mid-retry; outside Lambda
(a script, a test) it is ``DEFAULT_BUDGET_S``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


#: Time kept back from the invocation's remaining time: the handler's own answer after its sends.
SAFETY_MARGIN_S = 1.0
#: Also kept back: this share of the remaining time (a slow answer needs more of a long budget).
SAFETY_SHARE = 0.1
#: The budget when there is no Lambda context to ask.
DEFAULT_BUDGET_S = 10.0


@dataclass(frozen=True)
class Backoff:
    """How to retry: delays from ``base`` doubling up to ``cap``, and at most ``attempts``
    calls (None: as many as the time budget allows)."""

    attempts: int | None = None
    base: float = 0.1
    cap: float = 2.0

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (0 for the first retry)."""
        import random  # only when retrying; a cold start need not pay

        return random.uniform(0.0, min(self.cap, self.base * (2**retry)))


DEFAULT = Backoff()


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ``ClientError`` (``GoneException``...), else None."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return None
    code = response.get("Error", {}).get("Code")
    return str(code) if code is not None else None


def http_status(exc: BaseException) -> int | None:
    """The HTTP status of a botocore ``ClientError``, else None."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return None
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return int(status) if status is not None else None


def is_retryable(exc: BaseException) -> bool:
    """True for throttling (429), server errors (5xx) and failures to connect at all."""
    status = http_status(exc)
    if status is not None:
        return status == 429 or status >= 500
    # A connection that could not be opened sent nothing, so trying again cannot duplicate.
    return type(exc).__name__ in {"EndpointConnectionError", "ConnectTimeoutError"}


def deadline(lambda_context: Any = None, *, now: float | None = None) -> float:
    """The ``time.monotonic()`` after which no retry starts: the invocation's remaining time
    less ``SAFETY_MARGIN_S`` and ``SAFETY_SHARE`` of it, or ``DEFAULT_BUDGET_S`` outside Lambda.

    Read it in the invocation's own thread (the context lives in a context variable) and pass it
    to the threads of a broadcast.
    """
    start = time.monotonic() if now is None else now
    remaining_ms = None
    if lambda_context is not None:
        getter = getattr(lambda_context, "get_remaining_time_in_millis", None)
        if callable(getter):
            try:
                remaining_ms = int(getter())
            except (TypeError, ValueError):
                remaining_ms = None
    if remaining_ms is None:
        return start + DEFAULT_BUDGET_S
    remaining = remaining_ms / 1000
    return start + max(0.0, remaining - SAFETY_MARGIN_S - SAFETY_SHARE * remaining)


def call_with_retries(
    fn: Callable[[], T],
    *,
    policy: Backoff = DEFAULT,
    until: float | None = None,
    on_retry: Callable[[BaseException], Any] | None = None,
    sleep: Callable[[float], Any] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Call ``fn`` until it succeeds, raises a final error, or its time is up.

    A retry starts only if it can finish before ``until`` (a ``clock()`` time; default: now plus
    ``DEFAULT_BUDGET_S``), judging by how long the last call took; ``policy.attempts``, when
    set, also caps the calls. ``on_retry`` is told about each error about to be retried.
    """
    if until is None:
        until = clock() + DEFAULT_BUDGET_S
    retry = 0
    while True:
        started = clock()
        try:
            return fn()
        except Exception as exc:
            took = clock() - started
            if not is_retryable(exc):
                raise
            if policy.attempts is not None and retry + 1 >= policy.attempts:
                raise
            pause = policy.delay(retry)
            if clock() + pause + took > until:
                raise
            if on_retry is not None:
                on_retry(exc)
            sleep(pause)
            retry += 1
