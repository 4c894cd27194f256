"""The notify example's dispatcher: clients subscribe to topics (rooms) and get pushed messages.

Messages: ``{"action": "subscribe", "topic": "news"}`` and ``{"action": "unsubscribe",
"topic": "news"}``; both routes are two-way, so the returned dict is the reply.
"""

from __future__ import annotations

import re

from wsgate import App, BadRequest

app = App()

TOPIC_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _topic(event) -> str:
    body = event.json
    topic = body.get("topic") if isinstance(body, dict) else None
    if not isinstance(topic, str) or not TOPIC_RE.match(topic):
        raise BadRequest("topic must be 1-64 letters, digits, '-' or '_'")
    return topic


@app.route("subscribe")
def subscribe(event):
    topic = _topic(event)
    app.rooms.join(event.connection_id, topic)
    return {"type": "subscribed", "topic": topic}


@app.route("unsubscribe")
def unsubscribe(event):
    topic = _topic(event)
    app.rooms.leave(event.connection_id, topic)
    return {"type": "unsubscribed", "topic": topic}
