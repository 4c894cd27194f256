"""Cached AWS clients: per @connections endpoint a sender (the hot POST, see ``wsgate.senders``)
and a boto3 client (GET and DELETE), and one DynamoDB client per target.

boto3 is imported on first use only, so ``import wsgate`` stays cheap on a cold start. Clients
are created under a lock from one private session (boto3's default session is not safe to
create clients from concurrently) and then shared: botocore clients and posters are
thread-safe, and their connection pools are sized for a broadcast's worker threads.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from . import senders
from .endpoint import region_of
from .errors import ConfigurationError
from .senders import Sender

#: Pool size of every client; a broadcast never runs more worker threads than this.
MAX_POOL_CONNECTIONS = 64
#: Seconds to open a connection to, and to wait for an answer from, the @connections API.
CONNECT_TIMEOUT = 3
READ_TIMEOUT = 10

_lock = threading.Lock()
_session: Any = None
_management: dict[tuple[str, str], Any] = {}
_senders: dict[tuple[str, str], Sender] = {}
_dynamodb: dict[tuple[str, str | None], Any] = {}
_lambda: dict[tuple[str, str | None], Any] = {}


def region(endpoint: str | None = None) -> str:
    """The region to sign for: the endpoint's own region, else AWS_REGION/AWS_DEFAULT_REGION."""
    found = (region_of(endpoint) if endpoint else None) or os.environ.get("AWS_REGION")
    found = found or os.environ.get("AWS_DEFAULT_REGION")
    if not found:
        raise ConfigurationError("no AWS region: set AWS_REGION (Lambda sets it for you)")
    return found


def management_client(endpoint: str) -> Any:
    """The shared ``apigatewaymanagementapi`` client for ``endpoint``.

    botocore's own retries are off (one attempt): wsgate retries 429 and 5xx itself so that
    every retry is counted in the ``Retries`` metric and 410 Gone is never retried.
    """
    sign_region = region(endpoint)
    return _cached(
        _management,
        (endpoint, sign_region),
        lambda session, config: session.client(
            "apigatewaymanagementapi",
            endpoint_url=endpoint,
            region_name=sign_region,
            config=config(
                retries={"mode": "standard", "total_max_attempts": 1},
                connect_timeout=CONNECT_TIMEOUT,
                read_timeout=READ_TIMEOUT,
            ),
        ),
    )


def sender(endpoint: str) -> Sender:
    """The shared PostToConnection sender for ``endpoint`` (``wsgate.senders`` says which kind).

    The direct sender signs for the endpoint's region with the session's credentials and has the
    client's timeouts and pool size; the stock one is the endpoint's ``management_client``.
    """
    sign_region = region(endpoint)
    key = (endpoint, sign_region)
    found: Sender | None = _senders.get(key)
    if found is not None:
        return found
    if senders.choose() == "client":
        made: Sender = senders.ClientSender(management_client(endpoint))
        with _lock:
            return _senders.setdefault(key, made)
    with _lock:
        found = _senders.get(key)
        if found is None:
            from ._direct_sender import DirectSender  # imports botocore: only when sending

            session = _get_session()._session  # the botocore session behind the boto3 one
            # Where a client would find its CA bundle: the session's ca_bundle setting
            # (AWS_CA_BUNDLE), else REQUESTS_CA_BUNDLE, else the default bundle.
            verify = session.get_config_variable("ca_bundle")
            found = DirectSender(
                endpoint,
                sign_region,
                session.get_credentials(),
                verify=verify if verify is not None else os.environ.get("REQUESTS_CA_BUNDLE", True),
                timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                max_pool_connections=MAX_POOL_CONNECTIONS,
            )
            _senders[key] = found
    return found


def dynamodb_client() -> Any:
    """The shared DynamoDB client (honours ``AWS_ENDPOINT_URL_DYNAMODB`` for local runs)."""
    table_region = region()
    return _cached(
        _dynamodb,
        (table_region, os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or None),
        lambda session, config: session.client(
            "dynamodb",
            region_name=table_region,
            config=config(retries={"mode": "standard", "max_attempts": 5}),
        ),
    )


def lambda_client() -> Any:
    """The shared Lambda client that starts fan-out shards (``wsgate.fanout``).

    A stock boto3 client, so botocore's own ``AWS_ENDPOINT_URL_LAMBDA`` points it elsewhere (the
    local gateway sets it): botocore reads service-specific endpoint variables since 1.31.0
    (``configprovider.ConfiguredEndpointProvider``; it is in 1.38.36, the oldest botocore the
    runtime supports, see ``wsgate.senders``; AWS SDKs and Tools Reference Guide,
    "Service-specific endpoints", whose identifier table names ``AWS_ENDPOINT_URL_LAMBDA``).
    botocore's standard retry mode retries throttling and 5xx answers of the Invoke API.
    """
    client_region = region()
    return _cached(
        _lambda,
        (client_region, os.environ.get("AWS_ENDPOINT_URL_LAMBDA") or None),
        lambda session, config: session.client(
            "lambda",
            region_name=client_region,
            config=config(
                retries={"mode": "standard", "max_attempts": 5},
                connect_timeout=CONNECT_TIMEOUT,
                read_timeout=READ_TIMEOUT,
            ),
        ),
    )


def _cached(cache: dict[Any, Any], key: Any, make: Callable[[Any, Any], Any]) -> Any:
    """``cache[key]``, made once under the lock by ``make(session, config_factory)``."""
    client = cache.get(key)
    if client is not None:
        return client
    with _lock:
        client = cache.get(key)
        if client is None:
            from botocore.config import Config  # type: ignore[import-untyped,unused-ignore]

            def config(**settings: Any) -> Any:
                return Config(max_pool_connections=MAX_POOL_CONNECTIONS, **settings)

            client = make(_get_session(), config)
            cache[key] = client
    return client


def reset() -> None:
    """Forget every cached client (tests, or after changing credentials in a long process)."""
    global _session
    with _lock:
        for cached in _senders.values():
            cached.close()
        _senders.clear()
        _management.clear()
        _dynamodb.clear()
        _lambda.clear()
        _session = None


def _get_session() -> Any:
    global _session
    if _session is None:
        import boto3.session  # type: ignore[import-untyped,unused-ignore]

        _session = boto3.session.Session()
    return _session
