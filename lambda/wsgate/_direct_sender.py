"""The direct sender: PostToConnection from botocore's parts, without a client's per-call machinery.

It is one of the two senders behind ``wsgate.senders`` (the other is a stock boto3 client); it
reaches into botocore's internals, so it is used only with the botocore versions its
wire-equivalence tests run against (see ``wsgate.senders``).

A stock boto3 client spends most of a ``post_to_connection`` call outside the network: event hooks,
parameter validation, endpoint rules, the user-agent string, checksum and retry handlers. A send is
one small signed POST, so ``DirectSender`` builds it from the same building blocks the client uses
at its core: ``AWSRequest`` and ``SigV4Auth`` (service ``execute-api``, the endpoint's region, the
session's refreshable credentials frozen once per request), and botocore's own rest-json parser for
error answers, which become the ``ClientError`` a client would raise.

The request travels over a small pool of keep-alive ``http.client`` connections: urllib3's request
and response handling cost about twice as much CPU as the rest of a send together. The pool keeps
what matters from urllib3: TCP_NODELAY, connect and read timeouts, certificate checks against the
client's CA bundle, a dropped idle connection replaced before it is used, and botocore's exception
types for failures (``EndpointConnectionError`` and ``ConnectTimeoutError`` when nothing was sent).
An endpoint reached through an HTTP(S) proxy uses botocore's ``URLLib3Session`` instead, which knows
proxies.

The wire request is the client's: ``POST {endpoint}/@connections/{id}`` with the id percent-encoded
as botocore encodes a URI label, the payload as the raw body, and the same signed headers (``host``,
``x-amz-date``, ``x-amz-security-token`` when there is a session token).

GET and DELETE (``info``, ``close``) are rare and keep using the stock client.
"""

from __future__ import annotations

import http.client
import os
import select
import socket
import ssl
from typing import Any
from urllib.parse import urlsplit

from botocore import __version__ as _botocore_version  # type: ignore[import-untyped,unused-ignore]
from botocore.auth import SigV4Auth  # type: ignore[import-untyped,unused-ignore]
from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped,unused-ignore]
from botocore.exceptions import (  # type: ignore[import-untyped,unused-ignore]
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
    SSLError,
)
from botocore.httpsession import (  # type: ignore[import-untyped,unused-ignore]
    URLLib3Session,
    get_cert_path,
)
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


class DirectSender:
    """Posts payloads to the connections of one @connections endpoint; safe to share by threads.

    ``credentials`` is the session's credential object (possibly refreshable) or None, which
    makes every post raise ``NoCredentialsError`` as a client would.
    """

    __slots__ = (
        "_credentials",
        "_headers",
        "_key",
        "_path",
        "_prefix",
        "_transport",
        "endpoint",
        "region",
    )

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
        self._key: tuple[str, str, bytes] = ("", "", b"")  # (secret, day, signing key)
        self._prefix = f"{endpoint}/@connections/"
        self._path = urlsplit(self._prefix).path
        # Host is set here once: SigV4Auth would otherwise parse the URL twice per request.
        self._headers = {"User-Agent": USER_AGENT, "Host": host_header(endpoint)}
        proxies = get_environ_proxies(endpoint)
        self._transport: Any
        if proxies:
            self._transport = _ProxiedTransport(
                URLLib3Session(
                    verify=verify,
                    proxies=proxies,
                    timeout=timeout,
                    max_pool_connections=max_pool_connections,
                    socket_options=SOCKET_OPTIONS,
                )
            )
        else:
            self._transport = ConnectionPool(
                endpoint, verify=verify, timeout=timeout, size=max_pool_connections
            )

    def post(self, connection_id: str, data: bytes) -> None:
        """One ``PostToConnection`` attempt.

        Raises botocore's ``ClientError`` for an error answer (``response`` parsed as a client
        parses it: ``Error.Code``, ``Error.Message``, ``ResponseMetadata.HTTPStatusCode``) and
        botocore's connection errors (``EndpointConnectionError``...) as the client would.
        """
        label = percent_encode(connection_id)
        request = AWSRequest(
            method="POST", url=self._prefix + label, data=data, headers=self._headers
        )
        self.sign(request)
        headers = dict(request.headers.items())
        status, answer_headers, body = self._transport.send(
            request.url, self._path + label, headers, data
        )
        if status >= 300:
            raise error_from(status, answer_headers, body)

    def sign(self, request: Any) -> None:
        """Add SigV4 headers for ``execute-api`` in this endpoint's region."""
        credentials = self._credentials
        if credentials is None:
            raise NoCredentialsError()
        _Signer(credentials.get_frozen_credentials(), SERVICE, self.region, self).add_auth(request)

    def close(self) -> None:
        """Close the pooled connections."""
        self._transport.close()


class _Signer(SigV4Auth):  # type: ignore[misc,unused-ignore]
    """botocore's SigV4 signer, doing its two costly steps once: the signed headers are worked
    out once per request (``SigV4Auth`` does it twice), and the day's signing key (four HMACs)
    once per secret and day, kept on the ``DirectSender``."""

    def __init__(self, credentials: Any, service: str, region: str, sender: DirectSender) -> None:
        super().__init__(credentials, service, region)
        self._sender = sender
        self._headers_to_sign: Any = None

    def headers_to_sign(self, request: Any) -> Any:
        if self._headers_to_sign is None:
            self._headers_to_sign = super().headers_to_sign(request)
        return self._headers_to_sign

    def signature(self, string_to_sign: str, request: Any) -> str:
        secret, day = self.credentials.secret_key, request.context["timestamp"][0:8]
        kept_secret, kept_day, key = self._sender._key
        if kept_secret != secret or kept_day != day:
            key = self._sign(f"AWS4{secret}".encode(), day)
            for part in (self._region_name, self._service_name, "aws4_request"):
                key = self._sign(key, part)
            self._sender._key = (secret, day, key)
        signature: str = self._sign(key, string_to_sign, hex=True)
        return signature


class ConnectionPool:
    """Keep-alive ``http.client`` connections to one host, shared by threads (last in, first out).

    A connection is taken for one request and returned after its answer has been read, so two
    threads never share one. At most ``size`` idle connections are kept.
    """

    def __init__(
        self, endpoint: str, *, verify: Any, timeout: tuple[float, float], size: int
    ) -> None:
        parts = urlsplit(endpoint)
        self._host = parts.hostname or ""
        self._https = parts.scheme == "https"
        self._port = parts.port or (443 if self._https else 80)
        self._connect_timeout, self._read_timeout = timeout
        self._size = size
        self._idle: list[http.client.HTTPConnection] = []
        self._context = _tls_context(verify) if self._https else None

    def send(
        self, url: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, bytes]:
        """POST ``body`` to ``path``; returns (status, headers, body) of the answer."""
        connection = self._take(url)
        try:
            connection.request("POST", path, body, headers)
            answer = connection.getresponse()
            content = answer.read()
        except TimeoutError as exc:
            connection.close()
            raise ReadTimeoutError(endpoint_url=url, error=exc) from exc
        except ssl.SSLError as exc:
            connection.close()
            raise SSLError(endpoint_url=url, error=exc) from exc
        except (OSError, http.client.HTTPException) as exc:
            # The request may have reached the server: not a connection error, never retried.
            connection.close()
            raise ConnectionClosedError(endpoint_url=url, error=exc) from exc
        if answer.will_close:
            connection.close()
        else:
            self._give_back(connection)
        return answer.status, answer.headers, content

    def _take(self, url: str) -> http.client.HTTPConnection:
        while True:
            try:
                connection = self._idle.pop()
            except IndexError:
                break
            if not _dropped(connection):
                return connection
            connection.close()
        return self._open(url)

    def _open(self, url: str) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection
        if self._context is not None:
            connection = http.client.HTTPSConnection(
                self._host, self._port, timeout=self._connect_timeout, context=self._context
            )
        else:
            connection = http.client.HTTPConnection(
                self._host, self._port, timeout=self._connect_timeout
            )
        try:
            connection.connect()
        except TimeoutError as exc:
            raise ConnectTimeoutError(endpoint_url=url, error=exc) from exc
        except ssl.SSLError as exc:
            raise SSLError(endpoint_url=url, error=exc) from exc
        except OSError as exc:
            raise EndpointConnectionError(endpoint_url=url, error=exc) from exc
        sock = connection.sock
        for level, option, value in SOCKET_OPTIONS:
            sock.setsockopt(level, option, value)
        sock.settimeout(self._read_timeout)
        return connection

    def _give_back(self, connection: http.client.HTTPConnection) -> None:
        if len(self._idle) < self._size:
            self._idle.append(connection)
        else:
            connection.close()

    def close(self) -> None:
        while self._idle:
            try:
                self._idle.pop().close()
            except IndexError:
                break


class _ProxiedTransport:
    """The same ``send`` over botocore's ``URLLib3Session``, for endpoints behind a proxy."""

    def __init__(self, session: Any) -> None:
        self._session = session

    def send(
        self, url: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, bytes]:
        prepared = AWSRequest(method="POST", url=url, data=body, headers=headers).prepare()
        response = self._session.send(prepared)
        return response.status_code, response.headers, response.content

    def close(self) -> None:
        self._session.close()


def _dropped(connection: http.client.HTTPConnection) -> bool:
    """Whether an idle connection was closed by the server (readable before any request)."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        if hasattr(select, "poll"):  # no file-descriptor limit, unlike select()
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _tls_context(verify: Any) -> ssl.SSLContext:
    """Certificate and host name checks against the bundle a client would use."""
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    bundle = get_cert_path(verify)
    if os.path.isdir(bundle):
        return ssl.create_default_context(capath=bundle)
    return ssl.create_default_context(cafile=bundle)


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


def error_from(status: int, headers: Any, body: bytes) -> Exception:
    """The ``ClientError`` a client raises for this error answer, parsed by botocore's parser."""
    answer = {"status_code": status, "headers": headers, "body": body}
    parsed = _parser.parse(answer, None)
    parsed.setdefault("ResponseMetadata", {})["RetryAttempts"] = 0
    exc: Exception = ClientError(parsed, OPERATION)
    return exc
