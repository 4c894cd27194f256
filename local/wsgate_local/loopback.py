"""Who may call the gateway's local services: the @connections API and the local DynamoDB.

On AWS both check a SigV4 signature against IAM. Locally nothing is verified; what is required
instead keeps web pages and other sites out of them:

* the ``Host`` must be a loopback name or address (or the address the gateway was bound to), so a
  page on ``attacker.example`` whose name is re-pointed to 127.0.0.1 (DNS rebinding) is refused;
* an ``Authorization`` header shaped like SigV4 (``AWS4-HMAC-SHA256 Credential=...,
  SignedHeaders=..., Signature=<64 hex>``). Every AWS SDK sends one; a browser cannot add one to a
  simple (no-preflight) request, and a preflight gets no CORS headers, so it stops there.

The signature itself is not checked: any credentials work locally, and anyone who can run code on
the machine can call these services. That is the same trust as any local development server.
"""

from __future__ import annotations

import re

from wsgate.apigw.hosts import LOOPBACK_HOSTS, host_of

_SIGV4 = re.compile(
    r"AWS4-HMAC-SHA256 Credential=[^/\s,]+/\d{8}/[a-z0-9-]+/[a-z0-9-]+/aws4_request,\s*"
    r"SignedHeaders=[a-z0-9;.-]+,\s*Signature=[0-9a-f]{64}"
)
HOST_REFUSED = (
    "Host {host!r} is not a loopback address: the local services answer only requests to "
    "127.0.0.1, localhost or ::1 (a page on another site must not reach them)"
)
UNSIGNED = (
    "missing or malformed SigV4 Authorization header: call the local services with an AWS SDK "
    "(e.g. boto3.client('apigatewaymanagementapi', endpoint_url=...)); any credentials work locally"
)


def host_name(host_header: str | None) -> str:
    """The name or address of a ``Host`` header, without its port (``[::1]:3001`` → ``::1``)."""
    host = (host_header or "").strip().lower()
    if host.startswith("[") and "]" not in host:
        return host  # malformed: never a loopback name
    return host_of(host).strip("[]")


def host_allowed(host_header: str | None, bound: str = "127.0.0.1") -> bool:
    """True for a loopback ``Host`` (any port), or the address the gateway is bound to."""
    name = host_name(host_header)
    if not name:
        return False
    return name in LOOPBACK_HOSTS or name.startswith("127.") or name == bound.lower()


def signed(authorization: str | None) -> bool:
    """True when ``authorization`` is shaped like an AWS Signature Version 4 header."""
    return bool(authorization) and _SIGV4.fullmatch(authorization.strip()) is not None  # type: ignore[union-attr]


def refusal(
    host_header: str | None,
    authorization: str | None,
    bound: str = "127.0.0.1",
    *,
    need_signature: bool = True,
) -> str | None:
    """Why a request to a local service is refused, or None when it may be served."""
    if not host_allowed(host_header, bound):
        return HOST_REFUSED.format(host=host_name(host_header))
    if need_signature and not signed(authorization):
        return UNSIGNED
    return None
