"""Where the @connections management API lives: endpoint discovery.

The rule, first match wins:

1. the ``endpoint=`` argument of a call;
2. the ``WSGATE_ENDPOINT`` environment variable (the Terraform module sets it on every function it
   creates and exports it for the ones it does not; the local gateway sets it too);
3. the event being handled (``wsgate.context.current_event``, set by ``App``):

   * ``{api}.execute-api.{region}.amazonaws.com`` → ``https://{domainName}/{stage}``;
   * a custom domain → ``https://{domainName}`` plus the API mapping's base path, because the
     management API behind a custom domain is addressed by base path, not by stage. The base
     path comes from ``WSGATE_BASE_PATH`` (empty when unset: the common one-API-per-domain case);
   * a loopback host (``127.0.0.1``, ``localhost``, the local gateway) →
     ``http://{domainName}/{stage}``.

Nothing here writes to ``os.environ``: the event lives in a context variable, so concurrent
invocations and the threads of a broadcast cannot see each other's endpoint.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from .apigw.hosts import management_endpoint
from .apigw.hosts import region_of as region_of
from .context import current_event
from .errors import ConfigurationError

ENV_ENDPOINT = "WSGATE_ENDPOINT"
ENV_BASE_PATH = "WSGATE_BASE_PATH"


def resolve_endpoint(explicit: str | None = None) -> str:
    """Return the management endpoint URL (no trailing slash) by the rule in the module docstring.

    Raises ``ConfigurationError`` when no rule gives one.
    """
    if explicit:
        return _normalise(explicit)
    from_env = os.environ.get(ENV_ENDPOINT, "").strip()
    if from_env:
        return _normalise(from_env)
    event = current_event.get()
    if event is not None:
        from_event = endpoint_from_event(event.raw)
        if from_event:
            return from_event
    raise ConfigurationError(
        "no @connections endpoint: set WSGATE_ENDPOINT "
        "(https://{api-id}.execute-api.{region}.amazonaws.com/{stage}) or pass endpoint=..."
    )


def endpoint_from_event(event: Mapping[str, Any]) -> str | None:
    """The management endpoint for the API and stage that delivered ``event``, or None."""
    context = event.get("requestContext")
    if not isinstance(context, Mapping):
        return None
    domain = context.get("domainName")
    stage = context.get("stage")
    if not isinstance(domain, str):
        return None
    return management_endpoint(
        domain, stage if isinstance(stage, str) else None, os.environ.get(ENV_BASE_PATH, "")
    )


def _normalise(url: str) -> str:
    url = url.strip().rstrip("/")
    if not re.match(r"^https?://[^/]+", url):
        raise ConfigurationError(
            f"endpoint {url!r} is not an http(s) URL; set WSGATE_ENDPOINT to "
            "https://{api-id}.execute-api.{region}.amazonaws.com/{stage} or pass endpoint=..."
        )
    return url
