"""``wsgate send``, ``close`` and ``connections``: calls to a running local gateway's
@connections API, or (``send``, ``close``) to a deployed stage's, with one-line errors."""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
from typing import Any
from urllib.parse import urlsplit

DEFAULT_ENDPOINT = "http://127.0.0.1:3001/dev"
#: The region a local gateway is given (and signs nothing with): the gateway's own default.
LOCAL_REGION = "us-east-1"


class CliError(Exception):
    """A one-line error for the user."""


def management_endpoint(value: str | None) -> str:
    """The management endpoint to call: ``value``, else ``$WSGATE_ENDPOINT``, else the local
    gateway's default. A WebSocket URL is accepted too (ws→http, wss→https)."""
    value = (value or os.environ.get("WSGATE_ENDPOINT", "").strip() or DEFAULT_ENDPOINT).rstrip("/")
    if value.startswith("ws://"):
        return "http://" + value[len("ws://") :]
    if value.startswith("wss://"):
        return "https://" + value[len("wss://") :]
    if not value.startswith(("http://", "https://")):
        raise CliError(f"{value!r} is not a URL; expected e.g. --endpoint {DEFAULT_ENDPOINT}")
    return value


def _is_loopback(endpoint: str) -> bool:
    host = urlsplit(endpoint).hostname or ""
    return host == "localhost" or host.endswith(".localhost") or _loopback_ip(host)


def _loopback_ip(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _client(endpoint: str) -> Any:
    """A stock ``apigatewaymanagementapi`` client for ``endpoint``.

    A local gateway checks no signature, so a loopback endpoint gets dummy credentials and a
    fixed region: the command works on a machine with no AWS configuration, and real credentials
    are never used to sign requests to it. A deployed stage takes the region from its
    execute-api host name (else the usual AWS_REGION/profile) and the usual credential chain.
    """
    import boto3
    from botocore.config import Config
    from botocore.exceptions import NoCredentialsError, NoRegionError
    from wsgate.apigw.hosts import region_of

    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5)
    if _is_loopback(endpoint):
        return boto3.session.Session(
            aws_access_key_id="local",
            aws_secret_access_key="local",
            region_name=LOCAL_REGION,
        ).client("apigatewaymanagementapi", endpoint_url=endpoint, config=config)
    try:
        session = boto3.session.Session(region_name=region_of(endpoint) or None)
        client = session.client("apigatewaymanagementapi", endpoint_url=endpoint, config=config)
        if session.get_credentials() is None:
            raise NoCredentialsError()
        return client
    except NoRegionError:
        raise CliError(
            f"cannot tell the AWS region of {endpoint}: set AWS_REGION (or AWS_PROFILE with a "
            "region), or use the stage's execute-api endpoint"
        ) from None
    except NoCredentialsError:
        raise CliError(
            f"no AWS credentials to call {endpoint}: run `aws configure` or set AWS_PROFILE "
            "(or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
        ) from None


def _explain(code: str, message: str, connection_id: str, endpoint: str, status: int) -> str:
    """A readable sentence for an error answer of the @connections API."""
    if code == "GoneException":
        return f"connection {connection_id} is gone (it has disconnected, or never existed)"
    if code == "BadRequestException":
        return f"{connection_id!r} is not a valid connection id ({message or 'bad request'})"
    if code == "PayloadTooLargeException":
        return f"the message is too large: {message or 'the limit is 128 KB'}"
    if code in ("LimitExceededException", "ThrottlingException", "TooManyRequestsException"):
        return f"{endpoint} is throttling calls (429); try again shortly"
    if code in ("ForbiddenException", "AccessDeniedException", "403"):
        return (
            f"{endpoint} refused the call (403 Forbidden): check the endpoint's stage path, and "
            "that your credentials allow execute-api:ManageConnections"
        )
    if code in ("404", "NotFoundException"):
        return (
            f"nothing answers at {endpoint}/@connections (404): is it the management endpoint, "
            "https://{api-id}.execute-api.{region}.amazonaws.com/{stage} (or http://127.0.0.1:"
            "PORT/STAGE for wsgate local)?"
        )
    reason = f": {message}" if message and message != code else ""
    kind = code if not code.isdigit() else "HTTP error"
    return f"{endpoint} answered {status} {kind}{reason}"


def _call(fn: Any, endpoint: str, connection_id: str, **kwargs: Any) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

    try:
        return fn(ConnectionId=connection_id, **kwargs)
    except ClientError as exc:
        err = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        raise CliError(
            _explain(
                str(err.get("Code", "")),
                str(err.get("Message") or ""),
                connection_id,
                endpoint,
                status,
            )
        ) from None
    except EndpointConnectionError:
        hint = " (is `wsgate local` running?)" if _is_loopback(endpoint) else ""
        raise CliError(f"cannot reach {endpoint}{hint}") from None
    except BotoCoreError as exc:
        raise CliError(str(exc)) from None


def _check_id(value: str) -> str:
    if value.startswith(("http://", "https://", "ws://", "wss://")):
        raise CliError(
            f"{value!r} looks like an endpoint: pass it as --endpoint {value} "
            "(wsgate send ID DATA --endpoint URL)"
        )
    return value


def cmd_send(args: argparse.Namespace) -> None:
    if args.extra is not None:
        _check_id(args.id)
        raise CliError("send takes ID DATA (and --endpoint URL); got one argument too many")
    connection_id = _check_id(args.id)
    data = sys.stdin.read() if args.data == "-" else args.data
    endpoint = management_endpoint(args.endpoint)
    _call(_client(endpoint).post_to_connection, endpoint, connection_id, Data=data.encode())
    print(f"sent {len(data.encode())} bytes to {connection_id}")


def cmd_close(args: argparse.Namespace) -> None:
    connection_id = _check_id(args.id)
    endpoint = management_endpoint(args.endpoint)
    _call(_client(endpoint).delete_connection, endpoint, connection_id)
    print(f"closed {connection_id}")


def cmd_connections(args: argparse.Namespace) -> None:
    import urllib.error
    import urllib.request

    endpoint = management_endpoint(args.endpoint)
    if not _is_loopback(endpoint):
        raise CliError(
            f"{endpoint} is not a local gateway: API Gateway has no call that lists connections "
            "(from a Lambda, wsgate.connections.all() lists the ones in the connection table)"
        )
    url = endpoint + "/@connections"
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            listing = json.load(resp)
    except urllib.error.HTTPError as exc:
        raise CliError(
            f"{url} answered {exc.code} {exc.reason}: is {endpoint} the gateway's endpoint, "
            "with its stage (the start banner prints it)?"
        ) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CliError(
            f"cannot reach a local gateway at {url} ({reason}); is it running?"
        ) from None
    items = listing.get("connections", [])
    if not items:
        print("no connections")
    for item in items:
        print(
            f"{item['connectionId']}  {item['state']:<10} since {item['connectedAt']}  "
            f"last active {item['lastActiveAt']}  {item['identity'].get('sourceIp', '')}"
        )
