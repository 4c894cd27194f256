"""Capped exponential backoff with full jitter for @connections calls.

API Gateway answers 429 when the account's request bucket (shared by every API in the region)
or a client's send buffer is full, and 5xx on transient faults; both are worth a few more tries.
410 Gone and 403 Forbidden are final and are never retried. Full jitter (a delay drawn
uniformly from zero to the capped exponential) spreads a broadcast's retries out instead of
sending them back in lockstep.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """How often and how long to retry: ``attempts`` calls in all, delays capped at ``cap``."""

    attempts: int = 4
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


def call_with_retries(
    fn: Callable[[], T],
    *,
    policy: Backoff = DEFAULT,
    on_retry: Callable[[BaseException], Any] | None = None,
    sleep: Callable[[float], Any] = time.sleep,
) -> T:
    """Call ``fn`` until it succeeds, raises a final error, or ``policy.attempts`` are used up.

    ``on_retry`` is told about each error that is about to be retried (to count it).
    """
    retry = 0
    while True:
        try:
            return fn()
        except Exception as exc:
            if retry + 1 >= policy.attempts or not is_retryable(exc):
                raise
            if on_retry is not None:
                on_retry(exc)
            sleep(policy.delay(retry))
            retry += 1
