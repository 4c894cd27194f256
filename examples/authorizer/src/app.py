"""The authorizer example's dispatcher: every connection arrived through src/auth.py.

The authorizer's principal (the user) is on every event as ``event.principal_id`` and in the
connection store, so messages carry who sent them without the client saying so.
"""

from __future__ import annotations

from wsgate import App, BadRequest

app = App()

EVERYONE = "everyone"
MAX_TEXT = 4000


@app.connect
def connect(event):
    app.rooms.join(event.connection_id, EVERYONE)


@app.route("whoami")
def whoami(event):
    # A two-way route: the returned dict is the reply.
    return {"type": "whoami", "user": event.principal_id, "connectionId": event.connection_id}


@app.route("say")
def say(event):
    text = event.json.get("text") if isinstance(event.json, dict) else None
    if not isinstance(text, str) or not 0 < len(text) <= MAX_TEXT:
        raise BadRequest(f"say needs a text of 1 to {MAX_TEXT} characters")
    app.rooms.publish(
        EVERYONE,
        {"type": "message", "user": event.principal_id, "text": text},
        exclude=[event.connection_id],
    )
