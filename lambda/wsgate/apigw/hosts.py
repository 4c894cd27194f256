"""Host names API Gateway uses, and the @connections endpoint that belongs to each.

* ``{api-id}.execute-api.{region}.amazonaws.com`` (``execute-api-fips`` and ``.com.cn`` too) is
  the API's own host; its management endpoint is ``https://{host}/{stage}`` (AWS developer
  guide, "Use @connections commands in your backend service").
* Behind a custom domain the management API is addressed by the API mapping's base path, not by
  the stage: ``https://{domain}/{base path}`` (``https://{domain}`` for an empty base path).
* A loopback host is the local gateway, which speaks plain HTTP: ``http://{host}/{stage}``.
"""

from __future__ import annotations

import re

EXECUTE_API_HOST = re.compile(
    r"^[^./]+\.execute-api(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$"
)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def host_of(authority: str) -> str:
    """The host of ``host[:port]`` (IPv6 literals keep their brackets)."""
    if authority.startswith("["):
        return authority.split("]", 1)[0] + "]"
    return authority.rsplit(":", 1)[0] if authority.count(":") == 1 else authority


def authority_of(url: str) -> str:
    """``host[:port]`` of a URL, lower-cased."""
    without_scheme = url.split("://", 1)[-1]
    return without_scheme.split("/", 1)[0].lower()


def region_of(url: str) -> str | None:
    """The AWS region named in an execute-api URL, or None for other hosts."""
    match = EXECUTE_API_HOST.match(authority_of(url))
    return match.group("region") if match else None


def management_endpoint(domain: str, stage: str | None, base_path: str = "") -> str | None:
    """The @connections endpoint (no trailing slash) for a connection made to ``domain``
    (``requestContext.domainName``), or None when it cannot be known."""
    domain = domain.strip().lower().rstrip("/")
    if not domain:
        return None
    host = host_of(domain)
    if EXECUTE_API_HOST.match(domain) or host in LOOPBACK_HOSTS:
        if not stage:
            return None
        scheme = "http" if host in LOOPBACK_HOSTS else "https"
        return f"{scheme}://{domain}/{stage}"
    base_path = base_path.strip().strip("/")
    return f"https://{domain}/{base_path}" if base_path else f"https://{domain}"
