"""What surrounds the handlers: Lambda's environment for the workers (pointed at the local
services), the source snapshot that triggers reloads, and the gateway's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from pathlib import Path

from .config import GatewayConfig


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when it is installed (it cuts the gateway's CPU time per event by
    about a quarter), else None: asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def lambda_environment(
    config: GatewayConfig,
    endpoint: str,
    dynamodb_url: str,
    base: dict[str, str] | None = None,
    *,
    lambda_url: str | None = None,
) -> dict[str, str]:
    """The environment of a worker: Lambda's variables, fake credentials, the local endpoints
    and the module's ``environment`` map (which wins, as on AWS).

    ``lambda_url`` is the gateway's local Lambda Invoke API: botocore's
    ``AWS_ENDPOINT_URL_LAMBDA`` sends a stock ``lambda`` client there, and
    ``WSGATE_FANOUT_FUNCTION`` names the function a fanned-out publish invokes (this one)."""
    env = dict(os.environ if base is None else base)
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        env.pop(key, None)
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": config.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{config.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "local",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
            "LAMBDA_TASK_ROOT": str(config.source_dir),
            "AWS_REGION": config.region,
            "AWS_DEFAULT_REGION": config.region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "WSGATE_ENDPOINT": endpoint,
            "WSGATE_TABLE": config.table_name,
            "WSGATE_ROUTE_SELECTION_EXPRESSION": config.route_selection_expression,
            "WSGATE_LOCAL_ACCOUNT": config.account_id,
            "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_url,
            "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI": endpoint,
            "PYTHONUNBUFFERED": "1",
        }
    )
    if lambda_url is not None:
        env["AWS_ENDPOINT_URL_LAMBDA"] = lambda_url
        env["WSGATE_FANOUT_FUNCTION"] = config.name  # the module's environment may override
    env["WSGATE_FANOUT_THRESHOLD"] = str(config.fanout_threshold)
    env["WSGATE_FANOUT_SHARD_SIZE"] = str(config.fanout_shard_size)
    # The gateway prints one line per event; the runtime's own INFO lines would double them.
    env.setdefault("WSGATE_LOG_LEVEL", "WARNING")
    env.update(config.environment)
    site = dependency_dir(config)
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    return env


def dependency_dir(config: GatewayConfig) -> Path | None:
    """The app's requirements installed for this machine (the deployed zip has them built for
    Lambda from the same file), put first on the workers' ``sys.path``."""
    from wsgate_pack import BuildError, host_site

    from .config import ConfigError

    try:
        return host_site(config.source_dir, config.requirements_file)
    except BuildError as exc:
        raise ConfigError(str(exc)) from None


def source_snapshot(root: Path) -> dict[str, int]:
    """The mtime of every .py file under ``root``: compared on a timer to reload workers."""
    found: dict[str, int] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d != "__pycache__"]
        for name in filenames:
            if name.endswith(".py"):
                path = os.path.join(dirpath, name)
                with contextlib.suppress(OSError):
                    found[path] = os.stat(path).st_mtime_ns
    return found
