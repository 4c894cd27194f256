"""The notify example's scheduled Lambda: push a notification to every subscriber of a topic.

It is not a WebSocket handler and never sees a WebSocket event. ``WSGATE_ENDPOINT`` and
``WSGATE_TABLE`` (the module's ``env`` output) tell wsgate where to send; gone connections are
removed from the table as they are found.

The EventBridge event may carry ``{"topic": "...", "text": "..."}`` (for example from
``aws lambda invoke``); a scheduled event has neither, so the default topic gets the time.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from wsgate import FanoutReport, rooms

DEFAULT_TOPIC = "news"

log = logging.getLogger("notify")
log.setLevel(logging.INFO)


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """Publish one notification; return how many subscribers got it."""
    event = event if isinstance(event, dict) else {}
    topic = event.get("topic") or DEFAULT_TOPIC
    now_ms = int(time.time() * 1000)
    text = event.get("text") or time.strftime("It is %H:%M UTC", time.gmtime(now_ms / 1000))
    report = rooms.publish(
        topic, {"type": "notification", "topic": topic, "text": text, "ts": now_ms}
    )
    summary = {
        "topic": topic,
        "delivered": len(report.delivered),
        "gone": len(report.gone),
        "failed": len(report.failed),
    }
    if isinstance(report, FanoutReport):  # a large topic: its shards send, and count, later
        summary["publish"] = report.id  # wsgate.fanout.report(id) has the counts
    log.info(json.dumps(summary))
    return summary
