"""The stage's throttling, as API Gateway applies it: token buckets.

"API Gateway throttles requests to your API using the token bucket algorithm, where a token
counts for a request" (AWS developer guide, "Protect your WebSocket APIs in API Gateway"). The
module sets the stage's *default route settings* (``throttling_burst_limit``,
``throttling_rate_limit``), which apply to each route of the stage, ``$connect`` included; the
account's limits (:data:`wsgate.apigw.limits.ACCOUNT_RATE_LIMIT`, 10,000/s with a burst of
5,000) apply to all of them together. A handshake over a limit is refused with 429. A message
over a limit is not passed to the integration; what the client then gets from API Gateway is
undocumented, so the local gateway sends nothing and says so on its console.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from wsgate.apigw import limits


class TokenBucket:
    """``burst`` tokens, refilled at ``rate`` per second; :meth:`take` spends one if it can."""

    def __init__(
        self, burst: float, rate: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.burst = float(burst)
        self.rate = float(rate)
        self._clock = clock
        self._tokens = self.burst
        self._at = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now

    def available(self) -> bool:
        self._refill()
        return self._tokens >= 1

    def take(self) -> bool:
        self._refill()
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class StageThrottle:
    """A bucket per route key with the stage's limits, under the account's bucket."""

    def __init__(
        self, burst: int, rate: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.burst = min(burst, limits.ACCOUNT_BURST_LIMIT)
        self.rate = min(rate, limits.ACCOUNT_RATE_LIMIT)
        self._clock = clock
        self._routes: dict[str, TokenBucket] = {}
        self._account = TokenBucket(limits.ACCOUNT_BURST_LIMIT, limits.ACCOUNT_RATE_LIMIT, clock)

    def allow(self, route: str) -> bool:
        """Spend a token of ``route`` (and of the account); False: throttled (429)."""
        bucket = self._routes.get(route)
        if bucket is None:
            bucket = self._routes[route] = TokenBucket(self.burst, self.rate, self._clock)
        if not (bucket.available() and self._account.available()):
            return False
        return bucket.take() and self._account.take()
