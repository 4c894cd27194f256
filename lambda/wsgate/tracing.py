"""X-Ray subsegments when ``aws_xray_sdk`` is installed; a no-op when it is not.

The SDK is optional (it is not in the Lambda runtime), so it is imported on first use inside a
guard. Without it, or outside a traced Lambda invocation, :func:`subsegment` costs an environment
lookup.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_log = logging.getLogger("wsgate.tracing")
_UNSET: Any = object()
_recorder: Any = _UNSET
_possible: bool | None = None


def recorder() -> Any:
    """The X-Ray recorder, or ``None`` when ``aws_xray_sdk`` is not importable."""
    global _recorder
    if _recorder is _UNSET:
        try:
            from aws_xray_sdk.core import xray_recorder  # type: ignore[import-not-found,import-untyped,unused-ignore]
        except ImportError:
            _recorder = None
        else:
            _recorder = xray_recorder
    return _recorder


def enabled() -> bool:
    """True when subsegments are recorded: in a traced Lambda invocation, with the SDK present.

    Lambda sets ``_X_AMZN_TRACE_ID`` for each invocation; outside Lambda there is no segment to
    attach to, so the SDK is not even imported (it would only log "no segment" errors). Whether
    this process could trace is decided once; only the trace id is looked up per call.
    """
    global _possible
    if _possible is None:
        _possible = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and recorder() is not None
    return _possible and "_X_AMZN_TRACE_ID" in os.environ


@contextmanager
def subsegment(name: str, **annotations: str | int | float | bool) -> Iterator[Any]:
    """Record the enclosed block as an X-Ray subsegment named ``name`` (if X-Ray is there)."""
    rec = recorder() if enabled() else None
    if rec is None:
        yield None
        return
    try:
        segment = rec.begin_subsegment(name[:200])
    except Exception:  # no segment outside Lambda, or tracing misconfigured: stay a no-op
        _log.debug("x-ray subsegment %s not started", name, exc_info=True)
        segment = None
    if segment is None:
        yield None
        return
    try:
        for key, value in annotations.items():
            segment.put_annotation(key, value)
        yield segment
    except BaseException as exc:
        try:
            import traceback

            segment.add_exception(exc, traceback.extract_tb(exc.__traceback__))
        except Exception:
            _log.debug("x-ray exception not recorded", exc_info=True)
        raise
    finally:
        rec.end_subsegment()
