"""The gateway's console log: one line per event, written in batches so it never blocks."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any, TextIO

_COLORS = {"2": "\033[32m", "3": "\033[36m", "4": "\033[33m", "5": "\033[31m"}
_RESET, _DIM = "\033[0m", "\033[2m"


class EventLog:
    """Collects lines and flushes them to ``stream`` every ``interval`` seconds."""

    def __init__(
        self, stream: TextIO | None = None, *, interval: float = 0.1, enabled: bool = True
    ) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.enabled = enabled
        self.interval = interval
        self.color = bool(getattr(self.stream, "isatty", lambda: False)())
        self._lines: list[str] = []
        self._handle: asyncio.TimerHandle | None = None

    def event(
        self, route: str, connection_id: str, status: int | str, duration_ms: float, note: str = ""
    ) -> None:
        """One line: time, route, connection, status, duration (and a short note)."""
        if not self.enabled:
            return
        stamp = time.strftime("%H:%M:%S")
        status_text = str(status)
        if self.color:
            color = _COLORS.get(status_text[:1], "")
            status_text = f"{color}{status_text}{_RESET}"
            stamp = f"{_DIM}{stamp}{_RESET}"
        line = f"{stamp} {route:<14} {connection_id} {status_text} {duration_ms:7.1f} ms"
        self.write(line + (f"  {note}" if note else ""))

    def write(self, line: str) -> None:
        self._lines.append(line)
        if self._handle is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.flush()
                return
            self._handle = loop.call_later(self.interval, self.flush)

    def flush(self) -> None:
        self._handle = None
        if not self._lines:
            return
        text = "\n".join(self._lines) + "\n"
        self._lines.clear()
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            pass


def handler_outcome(result: Any, error_code: str = "") -> tuple[int, str]:
    """The status and note of a message's console line: the ``statusCode`` the handler returned
    (wsgate answers 400 for ``BadRequest``, 404 for an unknown action), and the code of the error
    frame it sent the caller, if any. API Gateway itself ignores a message route's status."""
    status = 200
    if isinstance(result, dict):
        raw = result.get("statusCode")
        if isinstance(raw, int) and not isinstance(raw, bool) and 100 <= raw <= 599:
            status = raw
    return status, (f"error frame: {error_code}" if error_code else "")


def note_error_frame(pending: dict[str, str], data: bytes) -> None:
    """Record the code of a runtime error frame (``{"type": "error", "code", "requestId"}``) sent
    during a pending request, keyed by that request id."""
    try:
        frame = json.loads(data)
    except ValueError:
        return
    if isinstance(frame, dict) and frame.get("requestId") in pending:
        pending[frame["requestId"]] = str(frame.get("code", "error"))


def elapsed_ms(started: float) -> float:
    """Milliseconds since ``started`` (a ``time.perf_counter()`` reading), for the event lines."""
    return (time.perf_counter() - started) * 1000
