"""The WebSocket upgrade as API Gateway runs it: the REQUEST authorizer, then ``$connect``.

Outcomes (AWS developer guide, "Setting up the $connect route" and "Lambda REQUEST authorizers
for WebSocket APIs", and what users observed): a missing identity source is 401 without calling
the authorizer; its Deny is 403, its ``Unauthorized`` 401, any other failure 500; ``$connect``
returning 2xx opens the socket (passing back only ``Sec-WebSocket-Protocol``), another status
refuses the upgrade with that status, a crash is 502 and a timeout 504.

Before any of that, the request must be a valid RFC 6455 upgrade (HTTP/1.1 or later, a
``Sec-WebSocket-Key`` of 16 base64 bytes, ``Sec-WebSocket-Version: 13``) and within the stage's
``$connect`` throttle (429), so no handler runs for a handshake that cannot succeed. If the
client leaves while ``$connect`` runs, API Gateway has accepted a connection and lost it:
``$disconnect`` follows (1006), as for any connection that drops.
"""

from __future__ import annotations

import time

from aiohttp import web
from wsgate.apigw import events, frames, limits
from wsgate.apigw.proxy import connect_result

from . import authorizer as auth
from .config import GatewayConfig
from .connections import CONNECTING, OPEN, Connection, Registry
from .eventlog import EventLog, elapsed_ms
from .invoker import Invoker
from .throttle import StageThrottle
from .websocket import GatewayWebSocket

#: RFC 6455 §4.1: the opening handshake is an HTTP/1.1 (or later) GET; §4.2.1 item 6 and §4.4:
#: the only version is 13, and a server that does not speak the client's version answers with
#: the versions it does speak in ``Sec-WebSocket-Version``.
WEBSOCKET_VERSION = "13"


def upgrade_refusal(request: web.Request) -> web.Response | None:
    """The refusal of an upgrade request that RFC 6455 does not allow, or None when it is valid.
    aiohttp accepts versions 7 and 8 of the drafts and HTTP/1.0; API Gateway speaks only 13."""
    if request.version < (1, 1):
        return web.Response(status=400, text="WebSocket upgrades need HTTP/1.1 or later\n")
    version = request.headers.get("Sec-WebSocket-Version", "")
    if version != WEBSOCKET_VERSION:
        return web.Response(
            status=426,
            headers={"Sec-WebSocket-Version": WEBSOCKET_VERSION},
            text=f"Unsupported Sec-WebSocket-Version {version!r}: only 13 is spoken\n",
        )
    # The key, Connection and Upgrade checks. Offering aiohttp the client's own subprotocols
    # keeps it from logging them (one may carry a token) as "not overlapping".
    offered = request.headers.get("Sec-WebSocket-Protocol", "")
    protocols = tuple(p.strip() for p in offered.split(",") if p.strip())
    try:
        GatewayWebSocket(protocols=protocols)._handshake(request)
    except web.HTTPException as exc:
        return web.Response(status=exc.status, text=(exc.text or exc.reason) + "\n")
    return None


class Handshake:
    """Turns an upgrade request into an open :class:`Connection` or a refusal."""

    def __init__(
        self,
        config: GatewayConfig,
        invoker: Invoker,
        registry: Registry,
        log: EventLog,
        throttle: StageThrottle | None = None,
    ) -> None:
        self.config = config
        self.invoker = invoker
        self.registry = registry
        self.log = log
        self.throttle = throttle

    async def open(self, request: web.Request, port: int) -> Connection | web.StreamResponse:
        """The open connection (its ``ws`` prepared and registered), or the HTTP refusal.
        ``port`` is the gateway's, forwarded to ``$connect`` as ``X-Forwarded-Port``."""
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return web.Response(status=426, text="Expected a WebSocket upgrade request\n")
        refusal = upgrade_refusal(request)
        if refusal is not None:
            return refusal
        if self.throttle is not None and not self.throttle.allow("$connect"):
            self.log.event("$connect", "-", limits.THROTTLED_STATUS, 0.0, "throttled")
            return web.json_response(
                {"message": frames.TOO_MANY_REQUESTS}, status=limits.THROTTLED_STATUS
            )
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
            stage=self.config.stage_name,
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
                    note = "authorizer: " + outcome.reason
                    self.log.event("$connect", cid, outcome.status, elapsed_ms(started), note)
                    return web.json_response(
                        {"message": frames.handshake_error(outcome.status)}, status=outcome.status
                    )
                info.authorizer = outcome.authorizer
            protocols: tuple[str, ...] = ()
            if self.config.connect_route:
                headers = events.connect_headers(
                    raw_headers,
                    source_ip=peer,
                    port=port,
                    proto=request.scheme,
                    epoch_ms=connected_at,
                )
                event = events.connect_event(info, headers, query, request_ms=events.now_ms())
                called = await self.invoker.invoke(event)
                self.invoker.report(called)
                if called.kind == "timeout":
                    self.log.event("$connect", cid, 504, elapsed_ms(started), "timed out")
                    return web.json_response({"message": frames.ENDPOINT_TIMED_OUT}, status=504)
                result = connect_result(called.result) if called.kind == "ok" else None
                if result is None:
                    self.log.event("$connect", cid, 502, elapsed_ms(started), called.error_message)
                    return web.json_response({"message": frames.INTERNAL_SERVER_ERROR}, status=502)
                if not 200 <= result.status < 300:
                    self.log.event("$connect", cid, result.status, elapsed_ms(started), "refused")
                    return web.Response(status=result.status)
                if result.subprotocol:
                    protocols = (result.subprotocol,)
            ws = GatewayWebSocket(protocols=protocols)
            if protocols:
                # Passed through as returned, like API Gateway, even if the client did not
                # offer it (aiohttp alone would drop it; the client then refuses the upgrade).
                ws.headers["Sec-WebSocket-Protocol"] = protocols[0]
            transport = request.transport
            try:
                if transport is None or transport.is_closing():
                    raise ConnectionResetError("the client closed its socket")
                await ws.prepare(request)
            except (ConnectionError, RuntimeError) as exc:
                await self._lost(conn, started, exc)
                return web.Response(status=400)
            conn.ws = ws
            conn.state = OPEN
            opened = True
            self.log.event("$connect", cid, 200, elapsed_ms(started))
            return conn
        finally:
            if not opened:
                self.registry.remove(conn)

    async def _lost(self, conn: Connection, started: float, exc: BaseException) -> None:
        """The client left during the upgrade, after ``$connect`` accepted it: one console
        line, then ``$disconnect`` (1006, as for a connection that drops), so what ``$connect``
        stored is cleaned up."""
        cid = conn.connection_id
        why = str(exc) or type(exc).__name__
        self.log.event(
            "$connect", cid, 200, elapsed_ms(started), f"client left during the upgrade ({why})"
        )
        self.registry.remove(conn)
        if not self.config.connect_route:
            return
        begun = time.perf_counter()
        event = events.disconnect_event(conn.info, limits.CLOSE_ABNORMAL, "")
        outcome = await self.invoker.invoke(event, best_effort=True)
        self.invoker.report(outcome)
        code = 200 if outcome.kind == "ok" else outcome.kind
        self.log.event("$disconnect", cid, code, elapsed_ms(begun), str(limits.CLOSE_ABNORMAL))

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
        config = self.config
        arn = events.method_arn(config.region, config.account_id, config.api_id, config.stage_name)
        event = events.authorizer_event(
            conn.info,
            raw_headers,
            query,
            arn=arn,
            request_id=events.new_id(),
            request_ms=events.now_ms(),
        )
        outcome = await self.invoker.invoke(event, kind="authorize")
        if outcome.kind == "error" and outcome.error_message == "Unauthorized":
            # A refusal is the authorizer doing its job: one line with its reason, no traceback.
            return auth.outcome_for_error(outcome.error_message, outcome.cause)
        self.invoker.report(outcome)
        if outcome.kind == "ok":
            return auth.evaluate_policy(outcome.result, arn)
        if outcome.kind == "error":
            return auth.outcome_for_error(outcome.error_message)
        return auth.AuthOutcome(500, reason=f"authorizer {outcome.kind}")
