"""The token buckets of the stage's throttling, on a clock the test moves."""

from __future__ import annotations

from wsgate.apigw import limits
from wsgate_local.throttle import StageThrottle, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_its_rate():
    clock = Clock()
    bucket = TokenBucket(3, 2, clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.now += 0.5  # one token back at 2 per second
    assert [bucket.take() for _ in range(2)] == [True, False]
    clock.now += 60  # refills up to the burst, not beyond
    assert sum(bucket.take() for _ in range(10)) == 3


def test_each_route_has_its_own_bucket_with_the_stage_limits():
    clock = Clock()
    throttle = StageThrottle(2, 1, clock)
    assert [throttle.allow("$connect") for _ in range(3)] == [True, True, False]
    assert [throttle.allow("say") for _ in range(3)] == [True, True, False]
    clock.now += 1
    assert throttle.allow("$connect") and not throttle.allow("$connect")


def test_stage_limits_cannot_go_above_the_account_limits():
    throttle = StageThrottle(10**6, 10**6, Clock())
    assert throttle.burst == limits.ACCOUNT_BURST_LIMIT
    assert throttle.rate == limits.ACCOUNT_RATE_LIMIT
