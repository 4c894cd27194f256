"""A Zappa WebSocket app, moved to wsgate by changing one import.

Before (Zappa)::

    from zappa.websocket import on_connect, on_disconnect, on_message, send_message

After (wsgate)::

    from wsgate.compat.zappa import on_connect, on_disconnect, on_message, send_message

The handlers below are unchanged Zappa code: they take the raw ``(event, context)`` and return
a proxy response. ``send_message`` now finds the management endpoint from ``WSGATE_ENDPOINT``
(set by the module), so it also works behind a custom domain.
"""

import json

from wsgate.compat.zappa import on_connect, on_disconnect, on_message, send_message


@on_connect
def connect(event, context):
    print("connected", event["requestContext"]["connectionId"])
    return {"statusCode": 200}


@on_disconnect
def disconnect(event, context):
    print("disconnected", event["requestContext"]["connectionId"])
    return {"statusCode": 200}


@on_message
def message(event, context):
    connection_id = event["requestContext"]["connectionId"]
    try:
        payload = json.loads(event.get("body") or "{}")
    except ValueError:
        payload = {"text": event.get("body")}
    send_message(connection_id, {"echo": payload})
    return {"statusCode": 200}
