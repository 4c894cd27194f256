"""The guarded app: reports who is connected, and records what each event carried."""

from __future__ import annotations

import logging

from wsgate import App, logs

app = App()
log = logging.getLogger("wsgate.guarded")


@app.connect
def connect(event):
    # What a careful handler logs about a handshake: the event through the redaction helper.
    log.warning("handshake %s", logs.redact_event(event.raw))


@app.route("whoami")
def whoami(event):
    return {"principal": event.principal_id, "authorizer": dict(event.authorizer)}


@app.disconnect
def disconnect(event):
    log.warning("bye principal=%s user=%s", event.principal_id, event.authorizer.get("user"))
