"""What counts as a credential: the one rule the authorizer helper and log redaction share.

The authorizer helper reads a token from a header, a query parameter or the
``Sec-WebSocket-Protocol`` list; the logs must hide exactly what it would read, and anything else
shaped like a credential, whatever the user named it. So this module judges by shape: names that
contain a credential word (``X-Auth-Token``, ``jwt``, ``api_key``...) and values that look like a
bearer token or a JWT, not a fixed list of names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: Subprotocol entries that announce the token in the next entry (``["bearer", token]``).
TOKEN_MARKERS = frozenset({"bearer", "token", "access_token", "authorization", "auth"})
#: A subprotocol longer than this, or with two dots (a JWT), is taken to be a token.
MAX_PROTOCOL_NAME = 24

# The two patterns are compiled on first use (``re`` keeps them), not at import: compiling them
# takes about 1 ms, which every cold start would pay and most invocations never need.

#: Header and query names whose values are credentials, whatever else the name says.
_CREDENTIAL_NAME = (
    r"auth|token|secret|passw|pwd|jwt|bearer|cookie|session|signature|credential|"
    r"api[-_]?key|access[-_]?key|(?:^|[-_])(?:key|sig)$"
)
#: Handshake headers that match a credential word but are protocol values, not secrets.
_PROTOCOL_HEADERS = frozenset({"sec-websocket-key", "sec-websocket-accept"})
#: A JSON Web Token (three base64url parts) or an HTTP credential with its scheme.
_CREDENTIAL_VALUE = (
    r"^\s*(?:(?:bearer|basic|digest|negotiate|token)\s+\S+|"
    r"[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)\s*$"
)


def is_credential_name(name: str) -> bool:
    """Whether a header or query parameter named ``name`` carries a credential."""
    return (
        name.lower() not in _PROTOCOL_HEADERS
        and re.search(_CREDENTIAL_NAME, name, re.IGNORECASE) is not None
    )


def is_credential_value(value: str) -> bool:
    """Whether ``value`` is shaped like a credential (``Bearer ...``, a JWT), whatever its name."""
    return re.match(_CREDENTIAL_VALUE, value, re.IGNORECASE) is not None


def looks_like_token(protocol: str) -> bool:
    """Whether a subprotocol entry is a token rather than a protocol name."""
    return len(protocol) > MAX_PROTOCOL_NAME or protocol.count(".") >= 2


def token_from_subprotocols(protocols: Sequence[str]) -> str | None:
    """The token among subprotocols: the entry after a marker (``bearer``), else a long one."""
    for index, item in enumerate(protocols[:-1]):
        if item.lower() in TOKEN_MARKERS:
            return protocols[index + 1]
    for item in protocols:
        if looks_like_token(item):
            return item
    return None
