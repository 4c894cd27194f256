"""Connection-table glue for the Zappa compat handler: record on $connect, forget on the way out.

Only when a connection table is configured (``WSGATE_TABLE``, set by the Terraform module), so
``wsgate.rooms`` and ``wsgate.broadcast`` see the connections a Zappa app's handlers accept.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

_log = logging.getLogger("wsgate.compat.zappa")


def remember(event: Mapping[str, Any], connection_id: Any) -> bool:
    """Record a new connection when a connection table is configured."""
    if not isinstance(connection_id, str) or not os.environ.get("WSGATE_TABLE", "").strip():
        return False
    from .. import connections

    context = event.get("requestContext") or {}
    identity = context.get("identity")
    authorizer = context.get("authorizer")
    principal = authorizer.get("principalId") if isinstance(authorizer, Mapping) else None
    connections.put(
        connection_id,
        connected_at=context.get("connectedAt"),
        identity=dict(identity) if isinstance(identity, Mapping) else None,
        principal=principal if isinstance(principal, str) else None,
    )
    return True


def forget(connection_id: Any) -> None:
    """Remove a connection and its rooms from the table, if one is configured; never raises."""
    if not isinstance(connection_id, str) or not os.environ.get("WSGATE_TABLE", "").strip():
        return
    try:
        from .. import connections

        connections.delete(connection_id)
    except Exception:
        _log.exception("could not remove connection %s from the table", connection_id)
