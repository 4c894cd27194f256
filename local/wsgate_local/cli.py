"""The ``wsgate`` command: ``local`` runs the gateway; ``send``, ``connections`` and ``close``
talk to a running one (or to AWS's @connections API with ``send``/``close``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import os
import signal
import sys
from pathlib import Path

from wsgate.apigw import limits

from . import cpushare
from .faults import Faults
from .faults import argument as faults_argument
from .latency import argument as latency_argument
from .loopback import host_allowed
from .remote import DEFAULT_ENDPOINT, CliError, cmd_close, cmd_connections, cmd_send


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


def _delays(value: str) -> tuple[float, ...]:
    try:
        delays = tuple(float(part) for part in value.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected seconds separated by commas, e.g. 1,2; got {value!r}"
        ) from None
    if not delays or any(d < 0 for d in delays):
        raise argparse.ArgumentTypeError("expected one or more non-negative seconds, e.g. 1,2")
    return delays


def _variable(value: str) -> tuple[str, str]:
    name, sep, text = value.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {value!r}")
    return name.strip(), text


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
        "--max-workers",
        type=int,
        help="how far the pool may grow for queued asynchronous invocations (Lambda's "
        "concurrency scaling out); default: --workers, no growth",
    )
    local.add_argument(
        "--latency",
        type=latency_argument,
        help="emulated network round trip of each @connections call, e.g. 20ms or 10ms..30ms "
        "(uniform); default: none",
    )
    local.add_argument(
        "--cpu-share",
        default="off",
        metavar="auto|off|VCPUS",
        help="hold each worker to Lambda's share of a CPU: auto is memory_size / 1,769 MB "
        "(256 MB: 0.145 vCPU), or a number of vCPUs; Linux only; default off (a whole core)",
    )
    local.add_argument(
        "--async-retry-delays",
        type=_delays,
        default=(10.0, 20.0),
        metavar="S,S",
        help="seconds before the 2nd and 3rd attempt of a failed asynchronous invocation "
        "(Lambda waits 60 and 120; default 10,20)",
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
    local.add_argument(
        "--quiet",
        action="store_true",
        help="print only the start banner and errors: no line per event, no metric lines",
    )
    local.add_argument(
        "--show-metrics",
        action="store_true",
        help="print the runtime's CloudWatch metric (EMF) JSON lines, as Lambda would log them",
    )
    local.add_argument("--no-reload", action="store_true", help="do not reload on source changes")
    local.add_argument(
        "--faults",
        type=faults_argument,
        help="inject faults at these rates, e.g. 429=0.1,500=0.02,drop=0.01 (see faults.py)",
    )
    local.add_argument("--faults-seed", type=int, help="seed of --faults, to repeat a run")
    local.add_argument(
        "--var",
        action="append",
        default=[],
        type=_variable,
        metavar="NAME=VALUE",
        help="set a root-module variable, as terraform -var does (after terraform.tfvars, "
        "*.auto.tfvars and TF_VAR_NAME)",
    )

    endpoint_help = (
        "management endpoint (https://.../STAGE) or WebSocket URL (ws://, wss://); "
        f"default: $WSGATE_ENDPOINT, else {DEFAULT_ENDPOINT}"
    )
    send = sub.add_parser(
        "send",
        help="send a message to a connection (PostToConnection)",
        description="Send DATA to connection ID through a management endpoint (local or AWS).",
    )
    send.add_argument("id", help="connection id")
    send.add_argument("data", help="message text ('-' reads standard input)")
    send.add_argument("--endpoint", help=endpoint_help)
    # `wsgate send ENDPOINT ID DATA` (positional endpoint) gets a hint instead of a usage error.
    send.add_argument("extra", nargs="?", help=argparse.SUPPRESS)

    conns = sub.add_parser(
        "connections",
        help="list the connections of a running local gateway",
        description="List live connections (a local-only call: GET {endpoint}/@connections).",
    )
    conns.add_argument("--endpoint", help=endpoint_help)

    close = sub.add_parser(
        "close",
        help="close a connection (DeleteConnection)",
        description="Close connection ID; the client sees 1000 and $disconnect runs.",
    )
    close.add_argument("id", help="connection id")
    close.add_argument("--endpoint", help=endpoint_help)
    return parser


async def _run_local(args: argparse.Namespace) -> None:
    from .async_queue import AsyncSettings
    from .config import ConfigError, load_config
    from .contract import handler_routes, missing_routes, route_warning
    from .environment import lambda_environment
    from .eventlog import EventLog
    from .gateway import Gateway, HandlerLoadError

    try:
        config = load_config(args.dir, variables=dict(args.var))
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    config = config.with_overrides(stage_name=args.stage, integration_timeout_ms=args.timeout_ms)
    # Read by the workers (worker.py); os.environ is what lambda_environment() hands them.
    os.environ["WSGATE_LOCAL_METRICS"] = "1" if args.show_metrics else "0"
    if not Path(config.source_dir).is_dir():
        raise CliError(f"source_dir {config.source_dir} does not exist")
    try:
        cpu_share = cpushare.parse_share(args.cpu_share, config.memory_size)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if cpu_share is not None and not cpushare.supported():
        raise CliError("--cpu-share needs Linux's /proc to read the workers' CPU time")
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
        max_workers=args.max_workers,
        latency=args.latency or None,
        cpu_share=cpu_share,
        async_settings=AsyncSettings(retry_delays=args.async_retry_delays),
    )
    # Signals are caught from here on, so a Ctrl+C during the start is not lost.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    # The handler's route keys are read while the gateway starts (see contract.py).
    routes_read = asyncio.ensure_future(
        handler_routes(
            str(config.source_dir),
            config.handler,
            lambda_environment(config, DEFAULT_ENDPOINT, "http://127.0.0.1:9"),
        )
    )
    try:
        await gateway.start()
    except HandlerLoadError as exc:
        routes_read.cancel()
        raise CliError(f"cannot import handler {config.handler!r}:\n{exc}".rstrip()) from None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise CliError(f"port {args.port} is in use; pass --port with a free port") from None
        raise CliError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    warnings = list(config.warnings)
    keys = await routes_read
    warnings += [route_warning(k) for k in missing_routes(keys or (), config.routes)]
    if not host_allowed(args.host):
        warnings.append(exposed_warning(args.host))
    print(f"wsgate local: {config.name} from {config.source_dir}")
    for warning in warnings:
        print(f"  warning: {warning}")
    print(f"  WebSocket URL        {gateway.ws_url}")
    print(f"  management endpoint  {gateway.endpoint}")
    if gateway.page_url:
        print(f"  page                 {gateway.page_url}")
    if gateway.http_url:
        print(f"  HTTP API             {gateway.http_url}")
    routes = ", ".join(config.routes) or "(only $connect, $disconnect, $default)"
    print(f"  routes               {routes}")
    if config.authorizer_handler:
        sources = ", ".join(config.authorizer_identity_sources) or "(none)"
        print(f"  authorizer           {config.authorizer_handler} on $connect")
        print(f"  identity sources     {sources} (missing: 401 without calling it)")
    print(f"  DynamoDB             {gateway.dynamo.url} (table {config.table_name})")
    print(f"  Lambda Invoke API    {gateway.lambda_url} (function {config.name})")
    if gateway.latency:
        print(f"  latency              {gateway.latency.describe()}")
    if gateway.cpu_share is not None:
        share = f"{gateway.cpu_share:.3f} vCPU"
        print(f"  CPU per worker       {share} (memory_size {config.memory_size} MB)")
    if gateway.faults:
        print(f"  faults               {gateway.faults.describe()}")
    print("Ctrl+C to stop", flush=True)
    try:
        await stop.wait()
    finally:
        await gateway.stop()


def exposed_warning(host: str) -> str:
    """The start-up warning for a gateway bound beyond loopback (``--host 0.0.0.0``)."""
    return (
        f"listening on {host}: other machines can open WebSockets and run your handlers, and "
        "nothing checks who they are (the local authorizer runs, but the @connections API and "
        "DynamoDB verify no signature). Use --host 127.0.0.1 unless you need this"
    )


#: Subcommands whose positionals are a connection id and data, either of which may start with
#: "-" (a generated id can): such a token is an argument, not an option.
_ID_COMMANDS = frozenset({"send", "close"})
_ID_COMMAND_OPTIONS = frozenset({"-h", "--help"})


def _positionals_last(argv: list[str]) -> list[str]:
    """``send``/``close`` arguments reordered as options, ``--``, positionals, so that an id or a
    message starting with "-" is not read as an unknown option ("-" alone is standard input)."""
    if not argv or argv[0] not in _ID_COMMANDS:
        return argv
    options: list[str] = []
    positionals: list[str] = []
    tokens = iter(argv[1:])
    for token in tokens:
        if token == "--":
            positionals.extend(tokens)
        elif token == "--endpoint":
            options.append(token)
            value = next(tokens, None)
            if value is not None:  # without one, argparse names the missing value
                options.append(value)
        elif token.startswith("--endpoint=") or token in _ID_COMMAND_OPTIONS:
            options.append(token)
        else:
            positionals.append(token)
    return [argv[0], *options, "--", *positionals]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(_positionals_last(sys.argv[1:] if argv is None else argv))
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
