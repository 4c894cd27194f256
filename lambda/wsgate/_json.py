"""The one JSON encoding the runtime uses for frames and replies: compact and UTF-8 friendly."""

from __future__ import annotations

import json
from typing import Any

_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def dumps(value: Any) -> str:
    """Encode ``value`` as compact JSON text (no spaces, non-ASCII kept as is)."""
    return _encoder.encode(value)


def loads(text: str | bytes) -> Any:
    """Decode JSON text; raises ``ValueError`` (``json.JSONDecodeError``) when it is not JSON."""
    return json.loads(text)
