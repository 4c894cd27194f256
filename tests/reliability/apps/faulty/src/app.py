"""Misbehaving handlers: each route does one thing a buggy or careless handler does."""

from __future__ import annotations

import logging
import time

from wsgate import App, logs

app = App()
log = logging.getLogger("wsgate.user")

SECRET_MARK = "s3cr3t-do-not-log"


@app.connect
def connect(event):
    # ?slow=SECONDS: a slow $connect (a cold start, a slow database) that joins a room first,
    # so a client that leaves meanwhile would leave its items behind without $disconnect.
    slow = event.query.get("slow")
    if slow:
        app.rooms.join(event.connection_id, "lobby")
        time.sleep(float(slow))


@app.route("raise")
def explode(event):
    raise RuntimeError(f"database password is {SECRET_MARK}")


@app.route("hang")
def hang(event):
    time.sleep(30)


@app.route("unserializable")
def unserializable(event):
    return {"when": object()}


@app.route("log_secret")
def log_secret(event):
    # What the runtime offers a careful handler: redacted copies of what it was given.
    log.warning("connect headers %s", logs.redact_headers({"Authorization": SECRET_MARK}))
    log.warning("query %s", logs.redact_query({"token": SECRET_MARK, "room": "lobby"}))


@app.route("echo")
def echo(event):
    return event.body
