"""The local gateway: one aiohttp server that plays API Gateway for a handler directory.

``/{stage}`` upgrades to a WebSocket; ``/{stage}/@connections/{id}`` is the management API;
``/`` serves the example's ``static/`` page. Handlers run in :mod:`wsgate_local.workers`;
DynamoDB is moto (:mod:`wsgate_local.dynamo`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from aiohttp import WSMsgType, web

from . import authorizer as auth
from . import events, frames, management
from .config import GatewayConfig
from .connections import CONNECTING, OPEN, Connection, Registry
from .dynamo import LocalDynamo
from .environment import lambda_environment, source_snapshot
from .eventlog import EventLog, handler_outcome, note_error_frame
from .faults import Faults
from .integration import connect_result, reply_body
from .limits import GatewayWebSocket
from .routing import select_route
from .workers import Outcome, WorkerPool


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
        idle_timeout: float = frames.IDLE_TIMEOUT_S,
        max_duration: float = frames.MAX_DURATION_S,
        log: EventLog | None = None,
        reload_interval: float | None = 1.0,
        faults: Faults | None = None,
    ) -> None:
        self.config = config
        self.host = host
        self.port = port
        self.workers = workers
        self.idle_timeout = idle_timeout
        self.max_duration = max_duration
        self.log = log or EventLog()
        self.reload_interval = reload_interval
        self.faults = faults
        self.registry = Registry()
        self.dynamo = LocalDynamo(config.table_name, config.region)
        self.pool: WorkerPool | None = None
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = False
        # Set once DynamoDB and the workers are up: the port is bound earlier (so "port in use"
        # is reported at once), and an event that arrives in between waits for it.
        self._ready = asyncio.Event()
        # Request id of each message being handled -> the code of the error frame its handler
        # sent the caller (wsgate's runtime does, e.g. bad_request), for the console line.
        self._error_frames: dict[str, str] = {}

    # -- lifecycle ---------------------------------------------------------------------------

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
    def page_url(self) -> str | None:
        return f"http://{self.host}:{self.port}/" if self.config.static_dir else None

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=4 * frames.MAX_POST_BYTES)
        app.add_routes(management.routes(self, self.stage))
        app.router.add_get(f"/{self.stage}", self._websocket, allow_head=False)
        if self.config.static_dir is not None:
            app.router.add_get("/", self._static, allow_head=False)
            app.router.add_get("/{path:.+}", self._static, allow_head=False)
        return app

    async def start(self) -> None:
        """Start DynamoDB, bind the port, start the workers (raises HandlerLoadError)."""
        self._runner = web.AppRunner(self._app(), access_log=None, handle_signals=False)
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
        server = site._server
        if self.port == 0 and server is not None and getattr(server, "sockets", None):
            self.port = server.sockets[0].getsockname()[1]
        env = lambda_environment(self.config, self.endpoint, self.dynamo.url)
        self.pool = WorkerPool(
            self.config.source_dir,
            self.config.handler,
            self.config.authorizer_handler,
            env,
            self.workers,
            on_load_error=lambda trace: self.log.write(
                "cannot import the handler (events will fail until it is fixed):\n" + trace.rstrip()
            ),
        )
        load_error = (await asyncio.gather(self.pool.start(), dynamo_started))[0]
        if load_error:
            await self.stop()
            raise HandlerLoadError(load_error)
        self._ready.set()
        if self.reload_interval:
            self._spawn(self._watch_sources(self.reload_interval))

    async def stop(self) -> None:
        self._stopping = True
        for conn in list(self.registry.live.values()):
            if conn.ws is not None and not conn.ws.closed:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(
                        conn.ws.close(code=frames.CLOSE_GOING_AWAY, message=b"Going away"), 1
                    )
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.pool is not None:
            await self.pool.close()
        if self._runner is not None:
            await self._runner.cleanup()
        await asyncio.to_thread(self.dynamo.stop)
        self.log.flush()

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _watch_sources(self, interval: float) -> None:
        last = source_snapshot(self.config.source_dir)
        while True:
            await asyncio.sleep(interval)
            now = source_snapshot(self.config.source_dir)
            if now != last and self.pool is not None:
                last = now
                self.pool.reload()
                self.log.write("source changed: reloading workers")

    # -- invoking ----------------------------------------------------------------------------

    async def _invoke(self, event: dict[str, Any], kind: str = "invoke") -> Outcome:
        if not self._ready.is_set():
            await self._ready.wait()
        assert self.pool is not None
        request_id = event["requestContext"]["requestId"]
        return await self.pool.invoke(
            event, self.config.integration_timeout_ms, request_id, kind=kind
        )

    def _report(self, outcome: Outcome) -> None:
        if outcome.kind == "error" and outcome.trace:
            self.log.write(outcome.trace.rstrip())
        elif outcome.kind in ("crash", "timeout"):
            self.log.write(f"worker {outcome.kind}: {outcome.error_message}; replaced")

    # -- the handshake -----------------------------------------------------------------------

    async def _authorize(
        self, conn: Connection, raw_headers: list[tuple[str, str]], query: list[tuple[str, str]]
    ) -> auth.AuthOutcome:
        headers, _ = events.header_maps(raw_headers)
        qs, _ = events.query_maps(query)
        missing = auth.missing_identity_sources(
            self.config.authorizer_identity_sources, headers, qs
        )
        if missing:
            return auth.AuthOutcome(401, reason="missing identity source " + ", ".join(missing))
        arn = events.method_arn(
            self.config.region, self.config.account_id, self.config.api_id, self.stage
        )
        event = events.authorizer_event(
            conn.info,
            raw_headers,
            query,
            arn=arn,
            request_id=events.new_id(),
            request_ms=events.now_ms(),
        )
        outcome = await self._invoke(event, kind="authorize")
        if outcome.kind == "error" and outcome.error_message == "Unauthorized":
            # A refusal is the authorizer doing its job: one line with its reason, no traceback.
            return auth.outcome_for_error(outcome.error_message, outcome.cause)
        self._report(outcome)
        if outcome.kind == "ok":
            return auth.evaluate_policy(outcome.result, arn)
        if outcome.kind == "error":
            return auth.outcome_for_error(outcome.error_message)
        return auth.AuthOutcome(500, reason=f"authorizer {outcome.kind}")

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return web.Response(status=426, text="Expected a WebSocket upgrade request\n")
        started = time.perf_counter()
        connected_at = events.now_ms()
        peer = request.remote or "127.0.0.1"
        raw_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.raw_headers]
        query = list(request.query.items())
        info = events.ConnectionInfo(
            connection_id=events.new_id(),
            connected_at=connected_at,
            source_ip=peer,
            # The Host the client used, port included: on AWS https://{domainName}/{stage} is
            # the management endpoint, and here http://{domainName}/{stage} is (SEMANTICS.md).
            domain_name=request.host,
            stage=self.stage,
            api_id=self.config.api_id,
            user_agent=request.headers.get("User-Agent"),
        )
        conn = Connection(info, state=CONNECTING)
        conn.touch()
        cid = info.connection_id
        self.registry.add(conn)
        opened = False
        try:
            if self.config.authorizer_handler:
                outcome = await self._authorize(conn, raw_headers, query)
                if outcome.status != 200:
                    self.log.event(
                        "$connect",
                        cid,
                        outcome.status,
                        _ms(started),
                        "authorizer: " + outcome.reason,
                    )
                    text = {401: "Unauthorized", 403: "Forbidden"}.get(
                        outcome.status, "Internal server error"
                    )
                    return web.json_response({"message": text}, status=outcome.status)
                info.authorizer = outcome.authorizer
            protocols: tuple[str, ...] = ()
            if self.config.connect_route:
                event = events.connect_event(
                    info,
                    events.connect_headers(
                        raw_headers,
                        source_ip=peer,
                        port=self.port,
                        proto=request.scheme,
                        epoch_ms=connected_at,
                    ),
                    query,
                    request_ms=events.now_ms(),
                )
                outcome_ = await self._invoke(event)
                self._report(outcome_)
                if outcome_.kind == "timeout":
                    self.log.event("$connect", cid, 504, _ms(started), "timed out")
                    return web.json_response({"message": frames.ENDPOINT_TIMED_OUT}, status=504)
                result = connect_result(outcome_.result) if outcome_.kind == "ok" else None
                if result is None:
                    self.log.event("$connect", cid, 502, _ms(started), outcome_.error_message)
                    return web.json_response({"message": frames.INTERNAL_SERVER_ERROR}, status=502)
                if not 200 <= result.status < 300:
                    self.log.event("$connect", cid, result.status, _ms(started), "refused")
                    return web.Response(status=result.status)
                if result.subprotocol:
                    protocols = (result.subprotocol,)
            ws = GatewayWebSocket(protocols=protocols)
            if protocols:
                # Passed through as returned, like API Gateway, even if the client did not
                # offer it (aiohttp alone would drop it; the client then refuses the upgrade).
                ws.headers["Sec-WebSocket-Protocol"] = protocols[0]
            await ws.prepare(request)
            conn.ws = ws
            conn.state = OPEN
            opened = True
            self.log.event("$connect", cid, 200, _ms(started))
        finally:
            if not opened:
                self.registry.remove(conn)
        await self._serve(conn, ws)
        return ws

    # -- an open connection ------------------------------------------------------------------

    async def _serve(self, conn: Connection, ws: GatewayWebSocket) -> None:
        loop = asyncio.get_running_loop()
        idle_handle: list[asyncio.TimerHandle] = []

        def check_idle() -> None:
            elapsed = time.monotonic() - conn.last_active
            if elapsed >= self.idle_timeout:
                self.close_connection(conn, frames.CLOSE_GOING_AWAY, frames.REASON_GOING_AWAY)
            else:
                idle_handle[:] = [loop.call_later(self.idle_timeout - elapsed, check_idle)]

        idle_handle.append(loop.call_later(self.idle_timeout, check_idle))
        max_handle = loop.call_later(
            self.max_duration,
            self.close_connection,
            conn,
            frames.CLOSE_GOING_AWAY,
            frames.REASON_GOING_AWAY,
        )
        dispatcher = self._spawn(self._dispatch(conn))
        client_status: tuple[int, str] = (frames.CLOSE_ABNORMAL, "")
        try:
            while True:
                msg = await ws.receive()
                if msg.type == WSMsgType.TEXT:
                    if self.faults and self.faults.drop_socket(
                        ws, conn.connection_id, self.log.write
                    ):
                        continue
                    conn.touch()
                    conn.inbox.put_nowait(msg.data)
                elif msg.type == WSMsgType.BINARY:
                    client_status = (frames.CLOSE_UNSUPPORTED_DATA, "")
                    self.close_connection(conn, frames.CLOSE_UNSUPPORTED_DATA, "")
                elif msg.type == WSMsgType.CLOSE:
                    client_status = frames.disconnect_status(msg.data, msg.extra or "")
                    break
                elif msg.type == WSMsgType.ERROR:
                    code = getattr(msg.data, "code", frames.CLOSE_ABNORMAL)
                    client_status = (int(code), "")
                    break
                elif msg.type in (WSMsgType.CLOSING, WSMsgType.CLOSED):
                    break
        finally:
            idle_handle[0].cancel()
            max_handle.cancel()
            self.registry.remove(conn)
            if not ws.closed:
                with contextlib.suppress(Exception):
                    await ws.close()
        status = conn.server_close or client_status
        conn.inbox.put_nowait(None)
        self._spawn(self._finish(conn, dispatcher, status))

    async def _finish(
        self, conn: Connection, dispatcher: asyncio.Task[None], status: tuple[int, str]
    ) -> None:
        await asyncio.gather(dispatcher, return_exceptions=True)
        if self._stopping:
            return
        started = time.perf_counter()
        event = events.disconnect_event(conn.info, status[0], status[1])
        outcome = await self._invoke(event)
        self._report(outcome)
        code = 200 if outcome.kind == "ok" else outcome.kind
        self.log.event("$disconnect", conn.connection_id, code, _ms(started), f"{status[0]}")

    async def _dispatch(self, conn: Connection) -> None:
        """Run the connection's messages through the handler, in order, one at a time."""
        while True:
            body = await conn.inbox.get()
            if body is None:
                return
            try:
                await self._message(conn, body)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.log.write(f"gateway error on {conn.connection_id}: {exc!r}")

    async def _message(self, conn: Connection, body: str) -> None:
        started = time.perf_counter()
        route = select_route(
            self.config.route_selection_expression,
            body,
            self.config.route_keys,
            has_default=self.config.default_route,
        )
        request_id = events.new_id()
        cid = conn.connection_id
        if route is None:
            await self._frame(conn, frames.error_frame(frames.FORBIDDEN, cid, request_id))
            self.log.event("(no route)", cid, 403, _ms(started), "Forbidden")
            return
        event = events.message_event(conn.info, route, body, request_id=request_id)
        self._error_frames[request_id] = ""
        try:
            outcome = await self._invoke(event)
        finally:
            error_code = self._error_frames.pop(request_id, "")
        if outcome.kind == "ok":
            if route in self.config.two_way_routes:
                reply = reply_body(outcome.result)
                if reply is not None:
                    await self._frame(conn, reply)
            status, note = handler_outcome(outcome.result, error_code)
            self.log.event(route, cid, status, _ms(started), note)
            return
        self._report(outcome)
        message = (
            frames.ENDPOINT_TIMED_OUT if outcome.kind == "timeout" else frames.INTERNAL_SERVER_ERROR
        )
        await self._frame(conn, frames.error_frame(message, cid, request_id))
        status = 504 if outcome.kind == "timeout" else 502
        self.log.event(route, cid, status, _ms(started), outcome.error_message[:120])

    async def _frame(self, conn: Connection, text: str) -> None:
        ws = conn.ws
        if ws is None or ws.closed:
            return
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.send_str(text)
            conn.touch()

    # -- used by the management API ----------------------------------------------------------

    async def send_to(self, conn: Connection, data: bytes) -> bool:
        """Deliver a PostToConnection payload: a text frame when it is UTF-8, else binary."""
        ws = conn.ws
        if ws is None or ws.closed:
            return False
        if self._error_frames and b'"type":"error"' in data[:64]:
            note_error_frame(self._error_frames, data)
        try:
            # The payload goes out as it came (no decode and re-encode); decoding only checks it.
            opcode = WSMsgType.TEXT
            if not data.isascii():
                try:
                    data.decode("utf-8")
                except UnicodeDecodeError:
                    opcode = WSMsgType.BINARY
            await ws.send_frame(data, opcode)
        except (ConnectionError, RuntimeError):
            return False
        conn.touch()
        return True

    def close_connection(self, conn: Connection, code: int, reason: str) -> None:
        """Close from the server side; ``code``/``reason`` are reported in $disconnect."""
        if conn.server_close is not None or conn.ws is None:
            return
        conn.server_close = (code, reason)
        self._spawn(conn.ws.close(code=code, message=reason.encode()))

    # -- the static page ---------------------------------------------------------------------

    async def _static(self, request: web.Request) -> web.StreamResponse:
        root = self.config.static_dir
        assert root is not None
        rel = request.match_info.get("path", "") or "index.html"
        path = (root / rel).resolve()
        if path.is_dir():
            path = path / "index.html"
        if not path.is_relative_to(root.resolve()) or not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Cache-Control": "no-store"})


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
