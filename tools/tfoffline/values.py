"""Typed values on the wire: msgpack with Terraform's unknown marker, shaped by a schema block.

Terraform sends and expects objects encoded against the schema's implied type. A value is a
plain Python structure (``dict``/``list``/``str``/``int``/``float``/``bool``/``None``) in which
:data:`UNKNOWN` stands for a value that is not known until apply.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import msgpack


class _Unknown:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()

_UNKNOWN_EXT = msgpack.ExtType(0, b"")


def _default(obj: Any) -> Any:
    if obj is UNKNOWN:
        return _UNKNOWN_EXT
    raise TypeError(f"cannot encode {type(obj).__name__}")


def _ext_hook(code: int, data: bytes) -> Any:
    # 0: unknown; 12: unknown with refinements (e.g. "not null"), which the stand-ins ignore.
    if code in (0, 12):
        return UNKNOWN
    raise ValueError(f"unsupported msgpack extension {code}")


def decode(raw: bytes, as_json: bytes = b"") -> Any:
    """A DynamicValue's content (msgpack, or JSON for stored state) as Python values."""
    if raw:
        return msgpack.unpackb(raw, ext_hook=_ext_hook, strict_map_key=False)
    if as_json:
        return json.loads(as_json)
    return None


def encode(value: Any) -> bytes:
    return msgpack.packb(value, default=_default)


def conform(block: dict[str, Any], obj: Any) -> Any:
    """``obj`` with exactly the schema's attributes and blocks (missing ones null/empty)."""
    if obj is None or obj is UNKNOWN:
        return obj
    out: dict[str, Any] = {}
    for name, attr in block.get("attributes", {}).items():
        out[name] = _conform_type(attr["type"], obj.get(name))
    for name, bt in block.get("block_types", {}).items():
        v = obj.get(name)
        mode = bt["nesting_mode"]
        if v is UNKNOWN:
            out[name] = v
        elif mode == "single" or mode == "group":
            out[name] = conform(bt["block"], v) if v is not None else None
        elif mode == "map":
            out[name] = {k: conform(bt["block"], e) for k, e in (v or {}).items()}
        else:
            out[name] = [conform(bt["block"], e) for e in (v or [])]
    return out


def _conform_type(t: Any, v: Any) -> Any:
    if v is None or v is UNKNOWN:
        return v
    if isinstance(t, list):
        kind = t[0]
        if kind in ("list", "set"):
            return [_conform_type(t[1], e) for e in v]
        if kind == "map":
            return {k: _conform_type(t[1], e) for k, e in v.items()}
        if kind == "object":
            return {k: _conform_type(at, v.get(k)) for k, at in t[1].items()}
    return v


def walk_attributes(
    block: dict[str, Any],
    obj: dict[str, Any],
    fn: Callable[[str, dict[str, Any], Any], Any],
    top: bool = True,
) -> dict[str, Any]:
    """Replace each attribute value with ``fn(name, attribute_schema, value)``, also nested."""
    out = dict(obj)
    for name, attr in block.get("attributes", {}).items():
        out[name] = fn(name, attr, obj.get(name))
    for name, bt in block.get("block_types", {}).items():
        v = obj.get(name)
        if v is None or v is UNKNOWN:
            continue
        if isinstance(v, list):
            out[name] = [walk_attributes(bt["block"], e, fn, False) for e in v]
        elif isinstance(v, dict) and bt["nesting_mode"] == "map":
            out[name] = {k: walk_attributes(bt["block"], e, fn, False) for k, e in v.items()}
        else:
            out[name] = walk_attributes(bt["block"], v, fn, False)
    return out


def has_unknown(v: Any) -> bool:
    if v is UNKNOWN:
        return True
    if isinstance(v, dict):
        return any(has_unknown(e) for e in v.values())
    if isinstance(v, list):
        return any(has_unknown(e) for e in v)
    return False


def zero(t: Any) -> Any:
    """A known placeholder of type ``t`` for a computed value nothing else fills."""
    if t == "string":
        return ""
    if t == "number":
        return 0
    if t == "bool":
        return False
    if isinstance(t, list) and t[0] in ("list", "set"):
        return []
    if isinstance(t, list) and t[0] == "map":
        return {}
    return None


def iter_blocks(block: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    yield from block.get("block_types", {}).items()
