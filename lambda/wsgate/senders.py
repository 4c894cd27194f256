"""The seam around PostToConnection: which sender posts a message to a connection.

Two senders do the same call with the same wire request and the same errors:

* ``direct`` (:class:`wsgate._direct_sender.DirectSender`): a SigV4-signed POST built from
  botocore's parts over keep-alive ``http.client`` connections. It costs well under half the CPU
  of a client call per message (1.02 → 0.39 ms measured), which is most of a broadcast's cost.
  It relies on botocore internals (``SigV4Auth``, ``AWSRequest``, the rest-json parser);
* ``client`` (:class:`ClientSender`): a stock boto3 ``apigatewaymanagementapi`` client.

``WSGATE_SENDER`` chooses: ``auto`` (the default) takes ``direct`` when the installed botocore is
in the range the direct sender's wire-equivalence tests run against, else ``client``;
``direct`` and ``client`` force one. Lambda's Python runtimes bring their own botocore, which
AWS updates over time and which differs by Region (Lambda developer guide, "Runtime-included SDK
versions"), so the range check is what keeps an untested botocore on the stock client.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Protocol

from .errors import ConfigurationError

ENV_SENDER = "WSGATE_SENDER"
CHOICES = ("auto", "direct", "client")

#: The oldest botocore the direct sender is tested with: the one in Lambda's python3.12 runtime
#: (boto3 and botocore 1.38.36, as reported from the runtime in aio-libs' aioboto3 issue #381,
#: August 2025; the runtime has only moved forward since). ``tests/unit/test_botocore_range.py``
#: runs the wire-equivalence tests against this version and against NEWEST_TESTED.
OLDEST_TESTED = "1.38.36"
#: The newest botocore the wire-equivalence tests run against (the dev environment's pin).
NEWEST_TESTED = "1.44.8"
#: The direct sender is used (in ``auto``) for OLDEST_TESTED <= botocore < this version.
TESTED_BELOW = "1.45"

_log = logging.getLogger("wsgate.senders")


class Sender(Protocol):
    """What messaging needs from a sender: one PostToConnection attempt, and cleanup."""

    def post(self, connection_id: str, data: bytes) -> None:
        """Post ``data``; raise botocore's ``ClientError`` (or connection errors) as a client."""

    def close(self) -> None:
        """Release pooled connections."""


class ClientSender:
    """PostToConnection through a stock boto3 ``apigatewaymanagementapi`` client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def post(self, connection_id: str, data: bytes) -> None:
        self.client.post_to_connection(ConnectionId=connection_id, Data=data)

    def close(self) -> None:
        """Nothing to do: the client is shared with GET and DELETE calls and lives on."""


def version_tuple(version: str) -> tuple[int, ...]:
    """``"1.38.36"`` → ``(1, 38, 36)``; a suffix such as ``rc1`` or ``.dev0`` is ignored."""
    parts: list[int] = []
    for piece in version.split("."):
        digits = ""
        for char in piece:
            if not char.isdigit():
                break
            digits += char
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def in_tested_range(botocore_version: str) -> bool:
    """Whether the direct sender is tested with this botocore version."""
    version = version_tuple(botocore_version)
    return version_tuple(OLDEST_TESTED) <= version < version_tuple(TESTED_BELOW)


def installed_botocore() -> str:
    """The version of the botocore that would be imported."""
    import botocore  # type: ignore[import-untyped,unused-ignore]

    return str(botocore.__version__)


def choose(botocore_version: str | None = None) -> str:
    """``"direct"`` or ``"client"``, by ``WSGATE_SENDER`` and the installed botocore."""
    asked = (os.environ.get(ENV_SENDER) or "auto").strip().lower()
    if asked not in CHOICES:
        raise ConfigurationError(
            f"{ENV_SENDER}={asked!r} is not a sender; set it to auto (the default), direct "
            "(the fast path) or client (a stock boto3 client)"
        )
    if asked == "client":
        return "client"
    version = botocore_version or installed_botocore()
    tested = in_tested_range(version)
    if asked == "direct":
        if not tested:
            _log.warning(
                "%s=direct with botocore %s, which the direct sender is not tested with "
                "(tested: %s to below %s)",
                ENV_SENDER,
                version,
                OLDEST_TESTED,
                TESTED_BELOW,
            )
        return "direct"
    if not tested:
        _log.info(
            "botocore %s is outside the direct sender's tested range (%s to below %s): "
            "sending with a stock boto3 client",
            version,
            OLDEST_TESTED,
            TESTED_BELOW,
        )
        return "client"
    return "direct"
