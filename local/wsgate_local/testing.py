"""Test your handlers end to end: a pytest fixture that runs the local gateway, and a client.

Enable the fixture in your top-level ``conftest.py``::

    pytest_plugins = ["wsgate_local.testing"]

(or ``from wsgate_local.testing import wsgate_gateway`` in any conftest), then::

    def test_echo(wsgate_gateway):
        gw = wsgate_gateway("examples/echo")
        with gw.connect() as client:
            client.send_json({"hello": "world"})
            assert client.recv_json() == {"hello": "world"}

The gateway runs in a background thread of the test process on a free port, with its own moto
DynamoDB and worker processes; it is stopped when the test ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from wsgate.apigw import frames, limits

from .config import GatewayConfig, load_config
from .environment import event_loop_factory
from .eventlog import EventLog
from .faults import Faults
from .gateway import Gateway
from .latency import Latency

_GATEWAY_KWARGS = (
    "workers",
    "cpu_share",
    "idle_timeout",
    "max_duration",
    "reload_interval",
    "faults",
    "handshake_timeout",
    "body_timeout",
    "ttl_interval",
    "max_workers",
    "async_settings",
    "latency",
)


class Client:
    """A thin wrapper over a ``websockets`` client connection with JSON helpers."""

    def __init__(self, connection: Any) -> None:
        self.ws = connection

    def send(self, text: str | bytes) -> None:
        self.ws.send(text)

    def send_json(self, data: Any) -> None:
        self.ws.send(json.dumps(data))

    def recv(self, timeout: float = 5.0) -> str | bytes:
        """The next message; raises TimeoutError when none arrives in ``timeout`` seconds."""
        return self.ws.recv(timeout=timeout)  # type: ignore[no-any-return]

    def recv_json(self, timeout: float = 5.0) -> Any:
        return json.loads(self.recv(timeout))

    def recv_until(self, predicate: Any, timeout: float = 5.0) -> Any:
        """Skip JSON messages until one satisfies ``predicate``; returns it."""
        while True:
            message = self.recv_json(timeout)
            if predicate(message):
                return message

    def close(self, code: int = 1000, reason: str = "") -> None:
        self.ws.close(code, reason)

    @property
    def close_code(self) -> int | None:
        return self.ws.close_code  # type: ignore[no-any-return]

    @property
    def close_reason(self) -> str | None:
        return self.ws.close_reason  # type: ignore[no-any-return]

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.ws.close()


class RunningGateway:
    """A gateway running in a background thread; stop() ends it (the fixture does that)."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._loop = (event_loop_factory() or asyncio.new_event_loop)()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        try:
            self._run(gateway.start(), 60)
        except BaseException:
            self._shutdown()
            raise

    def _run(self, coro: Any, timeout: float) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    @property
    def config(self) -> GatewayConfig:
        return self.gateway.config

    @property
    def url(self) -> str:
        """The WebSocket URL, e.g. ``ws://127.0.0.1:41234/dev``."""
        return self.gateway.ws_url

    @property
    def endpoint(self) -> str:
        """The management endpoint for ``apigatewaymanagementapi`` clients."""
        return self.gateway.endpoint

    @property
    def http_url(self) -> str | None:
        """The HTTP API's URL (``http_api = true`` in the module block), else None."""
        return self.gateway.http_url

    @property
    def dynamodb_url(self) -> str:
        return self.gateway.dynamo.url

    def env(self) -> dict[str, str]:
        """The environment another Lambda (a queue consumer, a cron job) needs to reach this
        gateway with ``wsgate.send``/``rooms.publish``: the module's ``env`` output
        (``WSGATE_ENDPOINT``, ``WSGATE_TABLE``), the local DynamoDB and @connections URLs, the
        region and dummy credentials (nothing here checks signatures)::

            for name, value in gw.env().items():
                monkeypatch.setenv(name, value)
        """
        return {
            "WSGATE_ENDPOINT": self.endpoint,
            "WSGATE_TABLE": self.config.table_name,
            "AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb_url,
            "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI": self.endpoint,
            "AWS_ENDPOINT_URL_LAMBDA": self.lambda_url,
            "WSGATE_FANOUT_FUNCTION": self.config.name,
            "WSGATE_FANOUT_THRESHOLD": str(self.config.fanout_threshold),
            "WSGATE_FANOUT_SHARD_SIZE": str(self.config.fanout_shard_size),
            "AWS_REGION": self.config.region,
            "AWS_DEFAULT_REGION": self.config.region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
        }

    def management_client(self) -> Any:
        """A stock boto3 ``apigatewaymanagementapi`` client for this gateway."""
        import boto3

        return boto3.session.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name=self.config.region,
        ).client("apigatewaymanagementapi", endpoint_url=self.endpoint)

    @property
    def lambda_url(self) -> str:
        """The local Lambda Invoke API's endpoint (``AWS_ENDPOINT_URL_LAMBDA``)."""
        return self.gateway.lambda_url

    def lambda_client(self) -> Any:
        """A stock boto3 ``lambda`` client for this gateway's function (``config.name``)."""
        import boto3

        return boto3.session.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name=self.config.region,
        ).client("lambda", endpoint_url=self.lambda_url)

    def fail_async_invocations(
        self,
        count: int = 1,
        *,
        when: str = "before",
        after_s: float = 0.05,
        match: Callable[[Any], bool] | None = None,
    ) -> None:
        """Make the first attempt of the next ``count`` asynchronous invocations (of those
        ``match`` accepts, if given) fail, so that Lambda's retry runs: ``when="before"`` before the
        handler runs, ``"crash"`` by killing the worker ``after_s`` seconds into it, ``"after"``
        once it has run to its end (its work is then done twice).
        See :mod:`wsgate_local.async_queue`."""

        async def arm() -> None:
            self.gateway.async_queue.fail_next(count, when=when, after_s=after_s, match=match)

        self._run(arm(), 10)

    def wait_async(self, timeout: float = 60.0) -> None:
        """Wait until every queued asynchronous invocation has finished (raises TimeoutError)."""
        self._run(self.gateway.async_queue.wait_idle(timeout), timeout + 5)

    @property
    def async_invocations(self) -> list[Any]:
        """Every asynchronous invocation so far (:class:`~wsgate_local.async_queue.AsyncRecord`:
        ``request_id``, ``event``, ``attempts``, ``state``), oldest first."""
        return list(self.gateway.async_queue.records)

    def dynamodb_client(self) -> Any:
        return self.gateway.dynamo.client()

    def connect(
        self,
        *,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | Sequence[tuple[str, str]] | None = None,
        subprotocols: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> Client:
        """Open a WebSocket to the gateway (raises ``InvalidStatus`` when it is refused)."""
        from websockets.sync.client import connect
        from websockets.typing import Subprotocol

        url = self.url + ("?" + urlencode(query) if query else "")
        kwargs.setdefault("open_timeout", 30)
        kwargs.setdefault("max_size", 2**22)
        ws = connect(
            url,
            additional_headers=headers,
            subprotocols=[Subprotocol(p) for p in subprotocols] if subprotocols else None,
            legacy=True,
            **kwargs,
        )
        return Client(ws)

    def connection_ids(self) -> list[str]:
        """The ids of the open connections, oldest first."""
        return [
            cid for cid, conn in list(self.gateway.registry.live.items()) if conn.state == "open"
        ]

    def _shutdown(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def stop(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._run(self.gateway.stop(), 30)
        finally:
            self._shutdown()


def start_gateway(
    directory: str | Path | GatewayConfig,
    *,
    port: int = 0,
    quiet: bool = False,
    variables: dict[str, Any] | None = None,
    **overrides: Any,
) -> RunningGateway:
    """Start a gateway for ``directory`` (or a ready :class:`GatewayConfig`) on a free port.

    ``variables`` sets root-module variables of ``directory/main.tf`` as ``terraform -var``
    does (for a ``var.x`` that has no default, say a secret).

    ``overrides`` may set any GatewayConfig field (``two_way_routes``, ``environment``,
    ``integration_timeout_ms``…) and ``workers``, ``idle_timeout``, ``max_duration``, and
    ``faults`` (a spec such as ``"429=0.1,500=0.02"`` or a :class:`wsgate_local.faults.Faults`),
    ``latency`` (``"20ms"``, ``"10ms..30ms"`` or a :class:`wsgate_local.latency.Latency`),
    ``cpu_share`` (vCPUs per worker, as ``--cpu-share``), ``max_workers`` and
    ``async_settings`` (an :class:`wsgate_local.async_queue.AsyncSettings`: retries, retry
    delays and maximum event age of asynchronous invocations).
    """
    if isinstance(directory, GatewayConfig):
        config = directory
    else:
        config = load_config(directory, variables=variables)
    gateway_kwargs = {k: overrides.pop(k) for k in _GATEWAY_KWARGS if k in overrides}
    for key in ("routes", "two_way_routes", "authorizer_identity_sources"):
        if key in overrides:
            overrides[key] = tuple(overrides[key])
    if overrides:
        config = dataclasses.replace(config, **overrides)
    if isinstance(gateway_kwargs.get("latency"), str):
        gateway_kwargs["latency"] = Latency.parse(gateway_kwargs["latency"], seed=0)
    if isinstance(gateway_kwargs.get("faults"), str):
        gateway_kwargs["faults"] = Faults.from_spec(gateway_kwargs["faults"], seed=0)
    gateway_kwargs.setdefault("workers", 2)
    gateway_kwargs.setdefault("reload_interval", None)
    gateway = Gateway(
        config,
        port=port,
        log=EventLog(stream=sys.stderr, enabled=not quiet),
        **gateway_kwargs,
    )
    return RunningGateway(gateway)


@contextmanager
def running_gateway(
    directory: str | Path | GatewayConfig, **kwargs: Any
) -> Iterator[RunningGateway]:
    """``with running_gateway("examples/chat") as gw: ...`` outside pytest."""
    gw = start_gateway(directory, **kwargs)
    try:
        yield gw
    finally:
        gw.stop()


@contextmanager
def _importable(source_dir: Path) -> Iterator[None]:
    """``source_dir`` on ``sys.path`` (as in Lambda, where it is the task root), so a test can
    import the project's other functions; afterwards the path and the modules imported from it
    are gone again, and the next test imports them afresh."""
    entry = str(source_dir)
    added = entry not in sys.path
    if added:
        sys.path.insert(0, entry)
    try:
        yield
    finally:
        if added and entry in sys.path:
            sys.path.remove(entry)
        for name, module in list(sys.modules.items()):
            origin = getattr(module, "__file__", None) or ""
            if origin and Path(origin).resolve().is_relative_to(source_dir):
                del sys.modules[name]


def _wsgate_gateway() -> Iterator[Any]:
    """A factory: ``wsgate_gateway(DIR, **overrides)`` starts a gateway, stopped after the test.

    While the test runs, the module's ``source_dir`` is on the import path (``import notify``
    finds ``src/notify.py``), and ``gw.env()`` holds what its functions need to send.
    """
    started: list[RunningGateway] = []
    with contextlib.ExitStack() as paths:

        def factory(directory: str | Path | GatewayConfig, **kwargs: Any) -> RunningGateway:
            gw = start_gateway(directory, **kwargs)
            started.append(gw)
            paths.enter_context(_importable(gw.config.source_dir))
            return gw

        try:
            yield factory
        finally:
            for gw in reversed(started):
                gw.stop()


try:  # the fixture needs pytest; running_gateway() and start_gateway() do not
    import pytest
except ImportError:  # pragma: no cover - pytest is in the dev extra
    pass
else:
    wsgate_gateway = pytest.fixture(_wsgate_gateway, name="wsgate_gateway")

__all__ = [
    "Client",
    "RunningGateway",
    "frames",
    "limits",
    "running_gateway",
    "start_gateway",
    "wsgate_gateway",
]
