"""The local gateway: one aiohttp server that plays API Gateway for a handler directory.

``/{stage}`` upgrades to a WebSocket; ``/{stage}/@connections/{id}`` is the management API;
``/`` serves the example's ``static/`` page. :class:`Gateway` owns the lifecycle (bind, start
DynamoDB and the workers, reload on code changes, stop) and wires the parts, each with one job:

* :mod:`.handshake`: the upgrade (authorizer, ``$connect``), giving an open connection;
* :mod:`.session`: an open connection's frames, timers and ``$disconnect``;
* :mod:`.dispatch`: one message through route selection to the handler and back;
* :mod:`.delivery`: every write to a client's socket, and server-side closes;
* :mod:`.management`: the @connections API, over the registry and delivery only;
* :mod:`.invoker` and :mod:`.pool`: events run in warm worker processes (:mod:`.container`);
* :mod:`.lambda_api` and :mod:`.async_queue`: the Lambda Invoke API of the function itself
  (``/2015-03-31/functions/{name}/invocations``), asynchronous events included;
* :mod:`.static`: the static page;
* :mod:`.http_api`: the optional HTTP API (``http_api = true``), on a port of its own.

API Gateway's own rules (events, selection, limits, frames) come from :mod:`wsgate.apigw`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from wsgate.apigw import limits
from wsgate.apigw import management as wire

from . import http_api, lambda_api, management, static
from .async_queue import AsyncQueue, AsyncSettings, fanout_lease
from .config import GatewayConfig
from .connections import Connection, Registry
from .cpushare import CpuShare
from .delivery import Delivery
from .dispatch import Dispatcher
from .dynamo import LocalDynamo
from .environment import lambda_environment, source_snapshot
from .eventlog import EventLog
from .faults import Faults
from .handshake import Handshake
from .invoker import Invoker
from .latency import Latency
from .pool import WorkerPool
from .session import Session
from .throttle import StageThrottle

#: How long a connection may take to send a whole request (an upgrade included), and a request
#: its body: what a front door such as a load balancer or nginx enforces (nginx's
#: client_header_timeout and client_body_timeout). API Gateway does not publish its values;
#: these are short enough that half-open or stalled requests do not pile up.
HANDSHAKE_TIMEOUT_S = 10.0
BODY_TIMEOUT_S = 10.0


class HandlerLoadError(Exception):
    """The handler module cannot be imported; the message is its traceback."""


class Gateway:
    """API Gateway, locally. ``await start()``, then ``ws_url``/``endpoint``; ``await stop()``."""

    def __init__(
        self,
        config: GatewayConfig,
        *,
        host: str = "127.0.0.1",
        port: int = 3001,
        workers: int = 4,
        idle_timeout: float = limits.IDLE_TIMEOUT_S,
        max_duration: float = limits.MAX_DURATION_S,
        log: EventLog | None = None,
        reload_interval: float | None = 1.0,
        faults: Faults | None = None,
        handshake_timeout: float = HANDSHAKE_TIMEOUT_S,
        body_timeout: float = BODY_TIMEOUT_S,
        ttl_interval: float | None = 10.0,
        http_port: int | None = None,
        max_workers: int | None = None,
        async_settings: AsyncSettings | None = None,
        latency: Latency | None = None,
        cpu_share: float | None = None,
    ) -> None:
        self.config = config
        self.host = host
        self.port = port
        #: The HTTP API's port (``http_api = true``): the next port by default, any free one with 0.
        self.http_port = http_port if http_port is not None else (port + 1 if port else 0)
        self._http_runner: web.AppRunner | None = None
        self.workers = workers
        #: How far the pool may grow for queued asynchronous invocations (default: no growth).
        self.max_workers = max(workers, max_workers or workers)
        #: The emulated network round trip of each @connections call, if any.
        self.latency = latency
        #: The vCPUs each worker is held to (``--cpu-share``), None for a whole core each.
        self.cpu_share = cpu_share
        self._cpu: CpuShare | None = None
        self.log = log or EventLog()
        self.reload_interval = reload_interval
        self.faults = faults
        self.handshake_timeout = handshake_timeout
        self.body_timeout = body_timeout
        self.registry = Registry()
        self.dynamo = LocalDynamo(config.table_name, config.region, ttl_interval=ttl_interval)
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = False
        # Events wait in the invoker until DynamoDB and the workers are up: the port is bound
        # earlier, so "port in use" is reported at once.
        self.invoker = Invoker(config, self.log)
        self.delivery = Delivery(self._spawn)
        self.async_queue = AsyncQueue(self.invoker, self.log.write, self._spawn, async_settings)
        self.lambda_api = lambda_api.LambdaApi(
            config, self.async_queue, self.log.write, bound_host=host
        )
        self.throttle = StageThrottle(config.throttling_burst_limit, config.throttling_rate_limit)
        self.handshake = Handshake(config, self.invoker, self.registry, self.log, self.throttle)
        self.session = Session(
            invoker=self.invoker,
            dispatcher=Dispatcher(config, self.invoker, self.delivery, self.log),
            delivery=self.delivery,
            registry=self.registry,
            log=self.log,
            spawn=self._spawn,
            stopping=lambda: self._stopping,
            idle_timeout=idle_timeout,
            max_duration=max_duration,
            faults=faults,
            throttle=self.throttle,
        )

    # -- where it listens ---------------------------------------------------------------------

    @property
    def stage(self) -> str:
        return self.config.stage_name

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/{self.stage}"

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}/{self.stage}"

    @property
    def lambda_url(self) -> str:
        """The endpoint of the local Lambda Invoke API (``AWS_ENDPOINT_URL_LAMBDA``)."""
        return f"http://{self.host}:{self.port}"

    @property
    def page_url(self) -> str | None:
        return f"http://{self.host}:{self.port}/" if self.config.static_dir else None

    @property
    def http_url(self) -> str | None:
        """The HTTP API's URL when the module sets ``http_api = true``."""
        return f"http://{self.host}:{self.http_port}/" if self._http_runner is not None else None

    @property
    def pool(self) -> WorkerPool | None:
        """The worker pool, once started."""
        return self.invoker.pool

    @property
    def idle_timeout(self) -> float:
        return self.session.idle_timeout

    @property
    def max_duration(self) -> float:
        return self.session.max_duration

    # -- lifecycle ---------------------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application(
            client_max_size=lambda_api.MAX_SYNC_PAYLOAD + 1, middlewares=[self._bounded_body]
        )
        app.add_routes(
            management.routes(
                self.stage,
                self.registry,
                self.delivery,
                self.log.write,
                faults=self.faults,
                bound_host=self.host,
                latency=self.latency,
            )
        )
        app.add_routes(self.lambda_api.routes())
        app.router.add_get(f"/{self.stage}", self._websocket, allow_head=False)
        if self.config.static_dir is not None:
            app.add_routes(static.routes(self.config.static_dir))
        return app

    async def start(self) -> None:
        """Start DynamoDB, bind the port, start the workers (raises HandlerLoadError)."""
        # A connection must send a whole request within the handshake timeout, and an idle
        # keep-alive one is closed after it too (aiohttp's keep-alive timer covers both).
        self._runner = web.AppRunner(
            self._app(),
            access_log=None,
            handle_signals=False,
            keepalive_timeout=self.handshake_timeout,
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError:
            await self._runner.cleanup()
            raise
        # moto starts in a thread while the workers start.
        self.dynamo.reserve()
        dynamo_started = asyncio.ensure_future(asyncio.to_thread(self.dynamo.start))
        sockets = getattr(site._server, "sockets", None)
        if self.port == 0 and sockets:
            self.port = sockets[0].getsockname()[1]
        if self.config.http_api:
            try:
                await self._start_http_api()
            except OSError:
                await self._runner.cleanup()
                raise
        env = lambda_environment(
            self.config, self.endpoint, self.dynamo.url, lambda_url=self.lambda_url
        )
        lease = fanout_lease(self.async_queue.settings)
        if lease is not None and "WSGATE_FANOUT_LEASE_SECONDS" not in self.config.environment:
            env["WSGATE_FANOUT_LEASE_SECONDS"] = lease
        if self.cpu_share is not None and self._cpu is None:
            self._cpu = CpuShare(self.cpu_share)
        pool = WorkerPool(
            self.config.source_dir,
            self.config.handler,
            self.config.authorizer_handler,
            env,
            self.workers,
            max_size=self.max_workers,
            cpu=self._cpu,
            on_load_error=lambda trace: self.log.write(
                "cannot import the handler (events will fail until it is fixed):\n" + trace.rstrip()
            ),
        )
        self.invoker.pool = pool  # stopped by stop() even if the start fails
        load_error = (await asyncio.gather(pool.start(), dynamo_started))[0]
        if load_error:
            await self.stop()
            raise HandlerLoadError(load_error)
        self.invoker.ready(pool)
        if self.reload_interval:
            self._spawn(self._watch_sources(self.reload_interval))

    async def _start_http_api(self) -> None:
        app = web.Application(client_max_size=http_api.MAX_BODY_BYTES + 1)
        app.add_routes(http_api.routes(self.config, self.invoker, self.log))
        self._http_runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._http_runner.setup()
        site = web.TCPSite(self._http_runner, self.host, self.http_port)
        try:
            await site.start()
        except OSError:
            await self._http_runner.cleanup()
            self._http_runner = None
            raise
        sockets = getattr(site._server, "sockets", None)
        if self.http_port == 0 and sockets:
            self.http_port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self._stopping = True
        for conn in list(self.registry.live.values()):
            if conn.ws is not None and not conn.ws.closed:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(
                        conn.ws.close(
                            code=limits.CLOSE_GOING_AWAY, message=limits.REASON_GOING_AWAY.encode()
                        ),
                        1,
                    )
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.invoker.pool is not None:
            await self.invoker.pool.close()
        if self._cpu is not None:
            self._cpu.close()
            self._cpu = None
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http_runner is not None:
            await self._http_runner.cleanup()
        await asyncio.to_thread(self.dynamo.stop)
        self.log.flush()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _watch_sources(self, interval: float) -> None:
        last = source_snapshot(self.config.source_dir)
        while True:
            await asyncio.sleep(interval)
            now = source_snapshot(self.config.source_dir)
            if now != last and self.invoker.pool is not None:
                last = now
                self.invoker.pool.reload()
                self.log.write("source changed: reloading workers")

    @web.middleware
    async def _bounded_body(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Read a request's body before its handler runs, within ``body_timeout`` (408 after),
        and refuse at once a ``Content-Length`` over the largest PostToConnection (413), as a
        front door does, instead of waiting for bytes that may never come."""
        if request.body_exists:
            invoke = request.path.startswith("/2015-03-31/")
            limit = lambda_api.MAX_SYNC_PAYLOAD if invoke else limits.MAX_POST_BYTES
            if (request.content_length or 0) > limit and invoke:
                return lambda_api.error(
                    413,
                    "RequestTooLargeException",
                    f"Request must be smaller than {limit} bytes for the InvokeFunction operation",
                )
            if (request.content_length or 0) > limit:
                headers, body = wire.error_answer(
                    413, wire.payload_too_large_message(limits.MAX_POST_BYTES)
                )
                refused = web.Response(status=413, headers=headers, body=body)
                refused.force_close()
                return refused
            try:
                async with asyncio.timeout(self.body_timeout):
                    await request.read()  # kept by aiohttp: the handler reads it again
            except TimeoutError:
                self.log.write(f"{request.method} {request.path}: no whole body in time (408)")
                late = web.Response(status=408, text="Request body not received in time\n")
                late.force_close()
                return late
        return await handler(request)

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        opened = await self.handshake.open(request, self.port)
        if not isinstance(opened, Connection):
            return opened
        ws = opened.ws
        assert ws is not None
        await self.session.serve(opened, ws)
        return ws
