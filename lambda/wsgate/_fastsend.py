"""PostToConnection from botocore's parts, without a client's per-call machinery.

A stock boto3 client spends most of a ``post_to_connection`` call outside the network: event
hooks, parameter validation, endpoint rules, the user-agent string, checksum and retry handlers.
A send is one small signed POST, so ``Poster`` builds it from the same building blocks the client
uses at its core: ``AWSRequest``, ``SigV4Auth`` (service ``execute-api``, the endpoint's region,
the session's refreshable credentials frozen once per request), a pooled ``URLLib3Session``, and
botocore's own rest-json parser for error answers, which become the ``ClientError`` a client
would raise. The wire request is the client's: ``POST {endpoint}/@connections/{id}`` with the id
percent-encoded as botocore encodes a URI label, the payload as the raw body, and the same
signed headers (``host``, ``x-amz-date``, ``x-amz-security-token`` when there is a session token).

GET and DELETE (``info``, ``close``) are rare and keep using the stock client.
"""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import urlsplit

from botocore import __version__ as _botocore_version  # type: ignore[import-untyped,unused-ignore]
from botocore.auth import SigV4Auth  # type: ignore[import-untyped,unused-ignore]
from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped,unused-ignore]
from botocore.exceptions import (  # type: ignore[import-untyped,unused-ignore]
    ClientError,
    NoCredentialsError,
)
from botocore.httpsession import URLLib3Session  # type: ignore[import-untyped,unused-ignore]
from botocore.parsers import create_parser  # type: ignore[import-untyped,unused-ignore]
from botocore.utils import (  # type: ignore[import-untyped,unused-ignore]
    get_environ_proxies,
    percent_encode,
)

#: The signing name of the @connections API (``apigatewaymanagementapi``'s ``signingName``).
SERVICE = "execute-api"
OPERATION = "PostToConnection"
USER_AGENT = f"wsgate Botocore/{_botocore_version}"

_parser = create_parser("rest-json")
#: A client's socket options: without TCP_NODELAY, a body written after its headers waits for
#: the peer's delayed ACK (tens of milliseconds per request).
SOCKET_OPTIONS = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]


class Poster:
    """Posts payloads to the connections of one @connections endpoint; safe to share by threads.

    ``credentials`` is the session's credential object (possibly refreshable) or None, which
    makes every post raise ``NoCredentialsError`` as a client would.
    """

    __slots__ = ("_credentials", "_headers", "_http", "_prefix", "endpoint", "region")

    def __init__(
        self,
        endpoint: str,
        region: str,
        credentials: Any,
        *,
        verify: Any = True,
        timeout: tuple[float, float] = (3, 10),
        max_pool_connections: int = 10,
    ) -> None:
        self.endpoint = endpoint
        self.region = region
        self._credentials = credentials
        self._prefix = f"{endpoint}/@connections/"
        # Host is set here once: SigV4Auth would otherwise parse the URL twice per request.
        self._headers = {"User-Agent": USER_AGENT, "Host": host_header(endpoint)}
        self._http = URLLib3Session(
            verify=verify,
            proxies=get_environ_proxies(endpoint),
            timeout=timeout,
            max_pool_connections=max_pool_connections,
            socket_options=SOCKET_OPTIONS,
        )

    def post(self, connection_id: str, data: bytes) -> None:
        """One ``PostToConnection`` attempt.

        Raises botocore's ``ClientError`` for an error answer (``response`` parsed as a client
        parses it: ``Error.Code``, ``Error.Message``, ``ResponseMetadata.HTTPStatusCode``) and
        botocore's connection errors (``EndpointConnectionError``...) as the client would.
        """
        request = AWSRequest(
            method="POST",
            url=self._prefix + percent_encode(connection_id),
            data=data,
            headers=self._headers,
        )
        self.sign(request)
        response = self._http.send(request.prepare())
        if response.status_code >= 300:
            raise error_from(response)

    def sign(self, request: Any) -> None:
        """Add SigV4 headers for ``execute-api`` in this endpoint's region."""
        credentials = self._credentials
        if credentials is None:
            raise NoCredentialsError()
        SigV4Auth(credentials.get_frozen_credentials(), SERVICE, self.region).add_auth(request)

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.close()


def host_header(url: str) -> str:
    """The Host header a client sends (and signs) for ``url``: lower case, default port left out."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    port = parts.port
    if port is not None and port != {"http": 80, "https": 443}.get(parts.scheme):
        host = f"{host}:{port}"
    return host


def error_from(response: Any) -> Exception:
    """The ``ClientError`` a client raises for this error answer, parsed by botocore's parser."""
    answer = {
        "status_code": response.status_code,
        "headers": response.headers,
        "body": response.content,
    }
    parsed = _parser.parse(answer, None)
    parsed.setdefault("ResponseMetadata", {})["RetryAttempts"] = 0
    exc: Exception = ClientError(parsed, OPERATION)
    return exc
