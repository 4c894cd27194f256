"""The ``wsgate`` command: ``local`` runs the gateway; ``send``, ``connections`` and ``close``
talk to a running one (or to AWS's @connections API with ``send``/``close``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from wsgate.apigw import limits

from .faults import Faults
from .faults import argument as faults_argument

DEFAULT_ENDPOINT = "http://127.0.0.1:3001/dev"


class CliError(Exception):
    """A one-line error for the user."""


def _positive(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return number


def _timeout_ms(value: str) -> int:
    number = int(value)
    if not limits.MIN_TIMEOUT_MS <= number <= limits.MAX_TIMEOUT_MS:
        raise argparse.ArgumentTypeError(
            f"must be between {limits.MIN_TIMEOUT_MS} and {limits.MAX_TIMEOUT_MS} ms"
        )
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wsgate", description="Serverless WebSocket APIs on AWS, and a local gateway."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    local = sub.add_parser(
        "local",
        help="run a handler directory behind a local API Gateway",
        description=(
            "Run DIR's handler behind a local API Gateway. Settings come from the wsgate module "
            "block in DIR/main.tf; flags override them."
        ),
    )
    local.add_argument("dir", nargs="?", default=".", help="example directory (default: .)")
    local.add_argument("--port", type=int, default=3001, help="port (default 3001; 0 = any)")
    local.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    local.add_argument(
        "--http-port",
        type=int,
        help="port of the HTTP API when the module sets http_api = true (default: --port + 1)",
    )
    local.add_argument("--stage", help="stage name (default: the module's stage_name)")
    local.add_argument(
        "--workers",
        type=int,
        # One more than the CPUs: a worker waiting for its @connections call keeps none busy.
        default=min(4, (os.cpu_count() or 1) + 1),
        help="worker processes, i.e. warm Lambda containers (default: CPUs + 1, at most 4)",
    )
    local.add_argument(
        "--idle-timeout",
        type=_positive,
        default=limits.IDLE_TIMEOUT_S,
        help="seconds without traffic before the gateway closes with 1001 (default 600)",
    )
    local.add_argument(
        "--max-duration",
        type=_positive,
        default=limits.MAX_DURATION_S,
        help="maximum connection lifetime in seconds (default 7200)",
    )
    local.add_argument(
        "--timeout-ms",
        type=_timeout_ms,
        help="integration timeout, 50-29000 ms (default: the module's integration_timeout_ms)",
    )
    local.add_argument("--quiet", action="store_true", help="do not print one line per event")
    local.add_argument("--no-reload", action="store_true", help="do not reload on source changes")
    local.add_argument(
        "--faults",
        type=faults_argument,
        help="inject faults at these rates, e.g. 429=0.1,500=0.02,drop=0.01 (see faults.py)",
    )
    local.add_argument("--faults-seed", type=int, help="seed of --faults, to repeat a run")

    send = sub.add_parser(
        "send",
        help="send a message to a connection (PostToConnection)",
        description="Send DATA to connection ID through a management endpoint (local or AWS).",
    )
    send.add_argument("endpoint", help="management endpoint or ws:// URL, e.g. " + DEFAULT_ENDPOINT)
    send.add_argument("id", help="connection id")
    send.add_argument("data", help="message text ('-' reads standard input)")

    conns = sub.add_parser(
        "connections",
        help="list the connections of a running local gateway",
        description="List live connections (a local-only call: GET {endpoint}/@connections).",
    )
    conns.add_argument("--endpoint", default=DEFAULT_ENDPOINT, help="default " + DEFAULT_ENDPOINT)

    close = sub.add_parser(
        "close",
        help="close a connection (DeleteConnection)",
        description="Close connection ID; the client sees 1000 and $disconnect runs.",
    )
    close.add_argument("id", help="connection id")
    close.add_argument("--endpoint", default=DEFAULT_ENDPOINT, help="default " + DEFAULT_ENDPOINT)
    return parser


def management_endpoint(value: str) -> str:
    """Accept a management endpoint or the WebSocket URL (ws→http, wss→https)."""
    value = value.rstrip("/")
    if value.startswith("ws://"):
        return "http://" + value[len("ws://") :]
    if value.startswith("wss://"):
        return "https://" + value[len("wss://") :]
    if not value.startswith(("http://", "https://")):
        raise CliError(f"{value!r} is not a URL; expected e.g. {DEFAULT_ENDPOINT}")
    return value


def _client(endpoint: str) -> Any:
    import boto3

    return boto3.client("apigatewaymanagementapi", endpoint_url=management_endpoint(endpoint))


def _call(fn: Any, **kwargs: Any) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return fn(**kwargs)
    except ClientError as exc:
        err = exc.response.get("Error", {})
        raise CliError(f"{err.get('Code', 'error')}: {err.get('Message') or 'no message'}") from exc
    except BotoCoreError as exc:
        raise CliError(str(exc)) from exc


def cmd_send(args: argparse.Namespace) -> None:
    data = sys.stdin.read() if args.data == "-" else args.data
    _call(_client(args.endpoint).post_to_connection, ConnectionId=args.id, Data=data.encode())
    print(f"sent {len(data.encode())} bytes to {args.id}")


def cmd_close(args: argparse.Namespace) -> None:
    _call(_client(args.endpoint).delete_connection, ConnectionId=args.id)
    print(f"closed {args.id}")


def cmd_connections(args: argparse.Namespace) -> None:
    import urllib.error
    import urllib.request

    url = management_endpoint(args.endpoint) + "/@connections"
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            listing = json.load(resp)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CliError(f"cannot reach a local gateway at {url}: {reason}") from exc
    items = listing.get("connections", [])
    if not items:
        print("no connections")
    for item in items:
        print(
            f"{item['connectionId']}  {item['state']:<10} since {item['connectedAt']}  "
            f"last active {item['lastActiveAt']}  {item['identity'].get('sourceIp', '')}"
        )


async def _run_local(args: argparse.Namespace) -> None:
    from .config import ConfigError, load_config
    from .eventlog import EventLog
    from .gateway import Gateway, HandlerLoadError

    try:
        config = load_config(args.dir)
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    config = config.with_overrides(stage_name=args.stage, integration_timeout_ms=args.timeout_ms)
    if not Path(config.source_dir).is_dir():
        raise CliError(f"source_dir {config.source_dir} does not exist")
    gateway = Gateway(
        config,
        host=args.host,
        port=args.port,
        workers=max(1, args.workers),
        idle_timeout=args.idle_timeout,
        max_duration=args.max_duration,
        log=EventLog(enabled=not args.quiet),
        reload_interval=None if args.no_reload else 1.0,
        faults=Faults(args.faults, args.faults_seed) if args.faults else None,
        http_port=args.http_port,
    )
    # Signals are caught from here on, so a Ctrl+C during the start is not lost.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await gateway.start()
    except HandlerLoadError as exc:
        raise CliError(f"cannot import handler {config.handler!r}:\n{exc}".rstrip()) from None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise CliError(f"port {args.port} is in use; pass --port with a free port") from None
        raise CliError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    print(f"wsgate local: {config.name} from {config.source_dir}")
    for warning in config.warnings:
        print(f"  warning: {warning}")
    print(f"  WebSocket URL        {gateway.ws_url}")
    print(f"  management endpoint  {gateway.endpoint}")
    if gateway.page_url:
        print(f"  page                 {gateway.page_url}")
    if gateway.http_url:
        print(f"  HTTP API             {gateway.http_url}")
    print(f"  DynamoDB             {gateway.dynamo.url} (table {config.table_name})")
    if gateway.faults:
        print(f"  faults               {gateway.faults.describe()}")
    print("Ctrl+C to stop", flush=True)
    try:
        await stop.wait()
    finally:
        await gateway.stop()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "local":
            from .environment import event_loop_factory

            with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
                runner.run(_run_local(args))
        elif args.command == "send":
            cmd_send(args)
        elif args.command == "close":
            cmd_close(args)
        elif args.command == "connections":
            cmd_connections(args)
    except CliError as exc:
        print(f"wsgate: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
