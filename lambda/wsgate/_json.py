"""The one JSON encoding the runtime uses for frames and replies: compact and UTF-8 friendly."""

from __future__ import annotations

import json
from typing import Any

# allow_nan=False: NaN and Infinity are not JSON (RFC 8259 section 6); a client's JSON.parse
# would reject the whole frame.
_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def dumps(value: Any) -> str:
    """Encode ``value`` as compact JSON text (no spaces, non-ASCII kept as is).

    Raises ``ValueError`` for NaN or Infinity, which JSON cannot carry.
    """
    try:
        return _encoder.encode(value)
    except ValueError as exc:
        if "Out of range float" not in str(exc):
            raise
        raise ValueError(
            "cannot encode NaN or Infinity as JSON (RFC 8259 has no such numbers): send None, "
            "a string, or a finite number instead"
        ) from None


def loads(text: str | bytes) -> Any:
    """Decode JSON text; raises ``ValueError`` (``json.JSONDecodeError``) when it is not JSON."""
    return json.loads(text)
