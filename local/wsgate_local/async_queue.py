"""Lambda's asynchronous invocation queue, locally: ``InvocationType=Event`` runs here.

As on Lambda ("How Lambda handles errors and retries with asynchronous invocation", AWS Lambda
Developer Guide):

* the caller gets 202 at once; the event waits for a free worker and then runs to its end or to
  the function's ``timeout``; no integration timeout applies, nobody waits for the answer;
* an attempt that fails (the handler raises, the worker crashes, the function times out) is
  retried up to ``retries`` more times (``MaximumRetryAttempts``, 0 to 2, default 2); Lambda
  waits one minute before the second attempt and two before the third. Locally the waits are
  :attr:`AsyncSettings.retry_delays`, 10 s and 20 s by default (scaled down 6 times so demos do
  not wait minutes), settable with ``--async-retry-delays`` and in the Python API. A fanned-out
  shard that crashed holds a lease shorter than Lambda's one-minute wait, so its retry can take
  over; the gateway sets the lease (``WSGATE_FANOUT_LEASE_SECONDS``) to 0.8 times the first
  local wait (:func:`fanout_lease`) unless the module's ``environment`` sets it;
* an event still queued past ``max_age_s`` (``MaximumEventAgeInSeconds``, 60 s to 6 h; Lambda's
  default is 6 h, the module sets 1 h in its ``aws_lambda_function_event_invoke_config``, and so
  does the local gateway) is dropped with a console line. The wait for a worker and the waits
  between retries count against that age;
* every attempt of one event runs with the same request id (``context.aws_request_id``).

Concurrency: async events share the worker pool with WebSocket events, in arrival order. When
none is free the pool grows, as Lambda's concurrency does, up to its ``max_size`` (``wsgate
local --max-workers``); grown workers stay warm and then serve any event.

For tests, :meth:`AsyncQueue.fail_next` makes the first attempt of the next N async invocations
(or of the next N that match a predicate) fail: before the handler runs, by killing the worker
midway, or after the handler has run to its end. Retries can then be exercised.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from .invoker import Invoker
from .pool import Outcome, WorkerPool

Log = Callable[[str], None]

#: The module's event invoke config: two retries (Lambda's default, one and two minutes apart)
#: and events kept for an hour (Lambda's default is six).
DEFAULT_RETRIES = 2
DEFAULT_MAX_AGE_S = 3600.0
LOCAL_RETRY_DELAYS = (10.0, 20.0)
#: Lambda's own wait before the second attempt, and the runtime's default fan-out lease.
LAMBDA_FIRST_RETRY_S = 60.0
RUNTIME_LEASE_S = 45.0


@dataclass(frozen=True)
class AsyncSettings:
    """How the local async queue retries and ages events (see the module docstring)."""

    retries: int = DEFAULT_RETRIES
    retry_delays: tuple[float, ...] = LOCAL_RETRY_DELAYS
    max_age_s: float = DEFAULT_MAX_AGE_S

    def __post_init__(self) -> None:
        if not 0 <= self.retries <= 2:
            raise ValueError("retries must be 0, 1 or 2 (Lambda's MaximumRetryAttempts)")
        if self.max_age_s <= 0:
            raise ValueError("max_age_s must be greater than 0")
        if any(d < 0 for d in self.retry_delays):
            raise ValueError("retry_delays must not be negative")

    def delay(self, attempt: int) -> float:
        """The wait after failed attempt number ``attempt`` (1-based)."""
        if not self.retry_delays:
            return 0.0
        return self.retry_delays[min(attempt, len(self.retry_delays)) - 1]


def fanout_lease(settings: AsyncSettings) -> str | None:
    """``WSGATE_FANOUT_LEASE_SECONDS`` for the workers: below the first retry wait (the
    runtime keeps 45 s, below Lambda's 60 s); None when the local wait is Lambda's own."""
    first = settings.delay(1)
    if first >= LAMBDA_FIRST_RETRY_S:
        return None
    return f"{min(RUNTIME_LEASE_S, 0.8 * first):g}"


@dataclass
class AsyncRecord:
    """What became of one asynchronous invocation: its attempts and how it ended."""

    request_id: str
    event: Any
    queued_at: float
    attempts: list[str] = field(default_factory=list)
    #: ``queued``, ``succeeded``, ``failed`` (retries exhausted) or ``expired``.
    state: str = "queued"
    #: The injected fault of the first attempt (``before``, ``crash``, ``after``), if any.
    fault: str | None = None
    fault_after_s: float = 0.0


FAULT_KINDS = ("before", "crash", "after")


class InjectedFailure(Exception):
    """An attempt failed on purpose (``fail_next``)."""


class AsyncQueue:
    """Runs ``Event`` invocations on the invoker's pool with Lambda's retries and event age."""

    def __init__(
        self,
        invoker: Invoker,
        log: Log,
        spawn: Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]],
        settings: AsyncSettings | None = None,
    ) -> None:
        self.invoker = invoker
        self.log = log
        self.spawn = spawn
        self.settings = settings or AsyncSettings()
        #: Every async invocation, oldest first (for tests and the bench).
        self.records: list[AsyncRecord] = []
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._faults: list[tuple[str, float, Callable[[Any], bool] | None]] = []

    # -- fault injection ----------------------------------------------------------------------

    def fail_next(
        self,
        count: int = 1,
        *,
        when: str = "before",
        after_s: float = 0.05,
        match: Callable[[Any], bool] | None = None,
    ) -> None:
        """Make the first attempt of the next ``count`` async invocations fail, so Lambda's
        retry runs. ``when="before"``: the attempt fails before the handler runs (as when the
        sandbox dies starting up). ``when="crash"``: the worker is killed ``after_s`` seconds
        into the handler (a crash midway: part of the work is done). ``when="after"``: the
        handler runs to its end, then the attempt is reported failed (as when the function
        times out just after its last write), so the retry repeats work already done.
        ``match``: only events for which it returns true take one of these faults."""
        if when not in FAULT_KINDS:
            raise ValueError(f"when must be one of {', '.join(FAULT_KINDS)}")
        if count < 0:
            raise ValueError("count must not be negative")
        self._faults.extend([(when, after_s, match)] * count)

    # -- running ------------------------------------------------------------------------------

    def put(self, event: Any, request_id: str) -> AsyncRecord:
        """Queue ``event``; it runs as soon as a worker is free."""
        record = AsyncRecord(request_id, event, time.monotonic())
        for index, (when, after_s, match) in enumerate(self._faults):
            if match is None or match(event):
                record.fault, record.fault_after_s = when, after_s
                del self._faults[index]
                break
        self.records.append(record)
        self._pending += 1
        self._idle.clear()
        self.spawn(self._process(record))
        return record

    async def wait_idle(self, timeout: float | None = None) -> None:
        """Wait until every queued event has finished (succeeded, failed or expired)."""
        async with asyncio.timeout(timeout):
            await self._idle.wait()

    @property
    def pending(self) -> int:
        return self._pending

    async def run_now(self, event: Any, request_id: str) -> Outcome | None:
        """Run a synchronous invocation (waiting for a worker up to the function's timeout);
        None when none became free."""
        pool = await self._pool()
        timeout_s = self.invoker.function_timeout_s
        return await pool.invoke_queued(
            event, request_id, max_wait_s=timeout_s, timeout_s=timeout_s
        )

    async def _pool(self) -> WorkerPool:
        await self.invoker.wait_ready()
        assert self.invoker.pool is not None
        return self.invoker.pool

    async def _process(self, record: AsyncRecord) -> None:
        try:
            await self._attempts(record)
        finally:
            self._pending -= 1
            if not self._pending:
                self._idle.set()

    async def _attempts(self, record: AsyncRecord) -> None:
        settings = self.settings
        pool = await self._pool()
        timeout_s = self.invoker.function_timeout_s
        for attempt in range(1, settings.retries + 2):
            age = time.monotonic() - record.queued_at
            remaining = settings.max_age_s - age
            if remaining <= 0:
                self._expire(record, age)
                return
            fault = record.fault if attempt == 1 else None
            if fault == "before":
                outcome = Outcome(
                    "error",
                    error_message="injected failure before the handler ran",
                    error_type=InjectedFailure.__name__,
                )
            else:
                ran = await pool.invoke_queued(
                    record.event,
                    record.request_id,
                    max_wait_s=remaining,
                    timeout_s=timeout_s,
                    kill_after_s=record.fault_after_s if fault == "crash" else None,
                )
                if ran is None:
                    self._expire(record, time.monotonic() - record.queued_at)
                    return
                outcome = ran
                if fault == "after" and outcome.kind == "ok":
                    outcome = Outcome(
                        "error",
                        error_message="injected failure after the handler ran",
                        error_type=InjectedFailure.__name__,
                    )
            record.attempts.append(outcome.kind)
            if outcome.kind == "ok":
                record.state = "succeeded"
                return
            self._report(record, attempt, outcome)
            if attempt <= settings.retries:
                await asyncio.sleep(settings.delay(attempt))
        record.state = "failed"
        self.log(
            f"async invocation {record.request_id}: failed {len(record.attempts)} times; "
            "dropped (Lambda sends it to an on-failure destination or dead-letter queue, "
            "if the function has one)"
        )

    def _report(self, record: AsyncRecord, attempt: int, outcome: Outcome) -> None:
        what = outcome.error_type or outcome.kind
        retry = (
            f"; retry in {self.settings.delay(attempt):g} s"
            if attempt <= self.settings.retries
            else ""
        )
        self.log(
            f"async invocation {record.request_id}: attempt {attempt} failed "
            f"({what}: {outcome.error_message}){retry}"
        )
        if outcome.trace:
            self.log(outcome.trace.rstrip())

    def _expire(self, record: AsyncRecord, age: float) -> None:
        record.state = "expired"
        self.log(
            f"async invocation {record.request_id}: dropped, older than the maximum event age "
            f"({age:.1f} s > {self.settings.max_age_s:g} s)"
        )
