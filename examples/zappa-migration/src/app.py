"""Zappa's decorator app, moved to wsgate. The one changed line is the ``zappa.websocket`` import.

Zappa deployed it with ``zappa_settings.json``::

    {"dev": {"app_function": "app.app", "websocket_handler_module": "app"}}

Here ``main.tf`` says the same with ``WSGATE_ZAPPA_APP_FUNCTION`` and ``WSGATE_ZAPPA_MODULE``.
"""

import json
import logging

from flask import Flask
from wsgate.compat.zappa import on_connect, on_disconnect, on_message, send_message

logger = logging.getLogger(__name__)

app = Flask(__name__)


@app.route("/")
def index():
    return {"status": "ok"}


@on_connect
def handle_connect(event, context):
    connection_id = event["requestContext"]["connectionId"]
    logger.info("Client connected: %s", connection_id)
    return {"statusCode": 200}


@on_disconnect
def handle_disconnect(event, context):
    connection_id = event["requestContext"]["connectionId"]
    logger.info("Client disconnected: %s", connection_id)
    return {"statusCode": 200}


@on_message
def handle_message(event, context):
    body = event.get("body", "{}")
    data = json.loads(body)
    # Echo the message back to the sender
    connection_id = event["requestContext"]["connectionId"]
    send_message(connection_id, {"echo": data})
    return {"statusCode": 200}
