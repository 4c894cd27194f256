"""Running an event through the handler: the Lambda side of the integration.

:class:`Invoker` hands events to the worker pool once the gateway is ready (an event that arrives
while DynamoDB and the workers are still starting waits for them) and writes what went wrong to
the console.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .eventlog import EventLog
from .pool import Outcome, WorkerPool


class Invoker:
    """``await invoke(event)`` runs one event in a worker with the integration timeout."""

    def __init__(self, timeout_ms: int, log: EventLog) -> None:
        self.timeout_ms = timeout_ms
        self.log = log
        self.pool: WorkerPool | None = None
        self._ready = asyncio.Event()

    def ready(self, pool: WorkerPool) -> None:
        """The workers are up: events run from now on (those waiting go first)."""
        self.pool = pool
        self._ready.set()

    async def invoke(self, event: dict[str, Any], kind: str = "invoke") -> Outcome:
        """Run ``event``; ``kind`` is ``invoke`` (the handler) or ``authorize`` (the authorizer)."""
        if not self._ready.is_set():
            await self._ready.wait()
        assert self.pool is not None
        request_id = event["requestContext"]["requestId"]
        return await self.pool.invoke(event, self.timeout_ms, request_id, kind=kind)

    def report(self, outcome: Outcome) -> None:
        """Write a failed invocation to the console: the handler's traceback, or what broke."""
        if outcome.kind == "error" and outcome.trace:
            self.log.write(outcome.trace.rstrip())
        elif outcome.kind in ("crash", "timeout"):
            self.log.write(f"worker {outcome.kind}: {outcome.error_message}; replaced")
