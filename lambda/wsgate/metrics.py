"""Counters written as CloudWatch embedded-metric-format (EMF) log lines.

CloudWatch Logs turns an EMF line into metrics with no API call and no extra permission, which
is why counters are printed instead of sent with ``PutMetricData``. Counters accumulate during an
invocation; :func:`flush` writes them as one line (``App`` calls it once per invocation).
A Lambda container runs one invocation at a time, so one lock-guarded table is enough: the
threads of a broadcast add to the same totals, and each flush starts the next invocation at zero.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar

NAMESPACE = "wsgate"

#: The counter names the runtime itself uses.
MESSAGES_SENT = "MessagesSent"
MESSAGES_GONE = "MessagesGone"
MESSAGES_FAILED = "MessagesFailed"
RETRIES = "Retries"

_lock = threading.Lock()
_counters: dict[str, int] = {}
_route: ContextVar[str | None] = ContextVar("wsgate_metrics_route", default=None)

#: Where flushed lines go; a list's ``append`` or a logger can replace it in tests or tools.
writer: Callable[[str], None] = lambda line: print(line, file=sys.stdout, flush=True)  # noqa: E731


def incr(name: str, value: int = 1) -> None:
    """Add ``value`` to the counter ``name``; thread-safe, costs a dict update."""
    with _lock:
        _counters[name] = _counters.get(name, 0) + value


def set_route(route_key: str | None) -> None:
    """Record the route key used as the ``Route`` dimension of the next flush."""
    _route.set(route_key)


def has_pending() -> bool:
    """Whether any counter waits to be flushed (read without the lock: a hint, not a promise)."""
    return bool(_counters)


def pending() -> dict[str, int]:
    """A copy of the counters not yet flushed (for tests and diagnostics)."""
    with _lock:
        return dict(_counters)


def render(counters: dict[str, int], *, route: str | None = None) -> str:
    """Build the EMF JSON line for ``counters`` (a pure function, so tools can reuse it)."""
    function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local")
    dimensions: list[str] = ["Function"]
    document: dict[str, object] = {"Function": function}
    if route is not None:
        dimensions.append("Route")
        document["Route"] = route
    document["_aws"] = {
        "Timestamp": int(time.time() * 1000),
        "CloudWatchMetrics": [
            {
                "Namespace": NAMESPACE,
                "Dimensions": [dimensions],
                "Metrics": [{"Name": name, "Unit": "Count"} for name in sorted(counters)],
            }
        ],
    }
    for name, value in counters.items():
        document[name] = value
    return json.dumps(document, separators=(",", ":"))


def flush(*, route: str | None = None) -> str | None:
    """Write every pending counter as one EMF line and reset them; returns the line, if any.

    ``route`` (or the one given to :func:`set_route`) becomes the ``Route`` dimension.
    """
    if not _counters:  # the common case costs no lock
        return None
    with _lock:
        if not _counters:
            return None
        counters = dict(_counters)
        _counters.clear()
    line = render(counters, route=route if route is not None else _route.get())
    writer(line)
    return line
