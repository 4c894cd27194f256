"""Running an event through the handler: the Lambda side of the integration.

:class:`Invoker` hands events to the worker pool once the gateway is ready (an event that arrives
while DynamoDB and the workers are still starting waits for them) and writes what went wrong to
the console.

Two clocks apply, as on AWS. API Gateway waits for the integration at most
``integration_timeout_ms``, counted from the event: the wait for a free worker is included, and
so is the wait for the workers to start for an event that arrives while the gateway starts (on
AWS a throttled Lambda makes API Gateway wait too). Then it answers ``Endpoint request timed
out``, and an event still waiting for a worker is never run. A running invocation is not
cancelled: it runs on until it returns or reaches the function's own ``timeout``, where Lambda
ends it with ``Task timed out`` (SEMANTICS §6.1; Lambda has no call that cancels a running
synchronous invocation). So a handler that posts after the integration timeout still delivers.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .config import GatewayConfig
from .eventlog import EventLog
from .pool import Outcome, WorkerPool


class Invoker:
    """``await invoke(event)`` runs one event in a worker with API Gateway's and Lambda's
    timeouts (from ``config``)."""

    def __init__(self, config: GatewayConfig, log: EventLog) -> None:
        self.timeout_ms = config.integration_timeout_ms
        self.function_timeout_s = config.timeout_s
        self.authorizer_timeout_s = config.authorizer_timeout_s
        self.log = log
        self.pool: WorkerPool | None = None
        self._ready = asyncio.Event()

    def ready(self, pool: WorkerPool) -> None:
        """The workers are up: events run from now on (those waiting go first)."""
        self.pool = pool
        self._ready.set()

    async def wait_ready(self) -> None:
        """Return once the workers are up."""
        await self._ready.wait()

    async def invoke(
        self, event: dict[str, Any], kind: str = "invoke", *, best_effort: bool = False
    ) -> Outcome:
        """Run ``event``; ``kind`` is ``invoke`` (the handler) or ``authorize`` (the authorizer).

        ``best_effort``: an event whose answer nobody waits for (``$disconnect``, after the
        connection has closed) waits for a worker as long as it takes. With a fixed number of
        workers a burst of closes would otherwise drop the ``$disconnect`` of every connection
        queued past the integration timeout, where Lambda would have run them all on more
        instances, and leave their items behind.
        """
        wait_s = self.timeout_ms / 1000
        if best_effort:
            await self._ready.wait()
        elif not self._ready.is_set():
            # The gateway's own start counts against the integration timeout too.
            loop = asyncio.get_running_loop()
            began = loop.time()
            try:
                await asyncio.wait_for(self._ready.wait(), wait_s)
            except TimeoutError:
                return Outcome(
                    "timeout", error_message="the workers did not start within the timeout"
                )
            wait_s = max(0.0, wait_s - (loop.time() - began))
        assert self.pool is not None
        request_id = event["requestContext"]["requestId"]
        timeout_s = self.authorizer_timeout_s if kind == "authorize" else self.function_timeout_s
        route = event["requestContext"].get("routeKey", "")

        def late(outcome: Outcome) -> None:
            # API Gateway stopped waiting long ago; Lambda's own log still has the outcome.
            ended = "returned" if outcome.kind == "ok" else outcome.kind
            self.log.write(
                f"{route} {request_id}: the function {ended} after the integration timeout"
                + (f" ({outcome.error_message})" if outcome.error_message else "")
            )
            if outcome.kind != "ok":
                self.report(outcome)

        return await self.pool.invoke(
            event,
            request_id,
            wait_s=wait_s,
            timeout_s=timeout_s,
            kind=kind,
            on_late=late,
            queue_counts=not best_effort,
        )

    def report(self, outcome: Outcome) -> None:
        """Write a failed invocation to the console: the handler's traceback, or what broke."""
        if outcome.kind == "error" and outcome.trace:
            self.log.write(outcome.trace.rstrip())
        elif outcome.kind == "error" and outcome.error_type == "Sandbox.Timedout":
            self.log.write(f"function timeout: {outcome.error_message}; worker replaced")
        elif outcome.kind == "crash":
            self.log.write(f"worker crash: {outcome.error_message}; replaced")
        elif outcome.kind == "timeout":
            self.log.write(
                f"integration timeout after {self.timeout_ms} ms: {outcome.error_message}"
            )
