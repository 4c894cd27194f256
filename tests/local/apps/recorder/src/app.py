"""A plain Lambda handler (no wsgate runtime) that records its events and obeys commands."""

import json
import os
import time

import boto3
from botocore.exceptions import ClientError
from recorder import record

_client = None
CALLS = {"count": 0}


def management():
    global _client
    if _client is None:
        _client = boto3.client(
            "apigatewaymanagementapi", endpoint_url=os.environ["WSGATE_ENDPOINT"]
        )
    return _client


def post(connection_id, data):
    management().post_to_connection(ConnectionId=connection_id, Data=json.dumps(data).encode())


def on_connect(event, context):
    query = event.get("queryStringParameters") or {}
    do = query.get("do")
    if "status" in query:
        return {"statusCode": int(query["status"]), "body": "refused"}
    if do == "raise":
        raise RuntimeError("connect handler failed")
    if do == "exit":
        os._exit(3)
    if do == "post_self":
        try:
            post(event["requestContext"]["connectionId"], {"too": "early"})
            record("post_self", event, context, outcome="delivered")
        except ClientError as exc:
            record("post_self", event, context, outcome=exc.response["Error"]["Code"])
    if "protocol" in query:
        return {
            "statusCode": 200,
            "headers": {"Sec-WebSocket-Protocol": query["protocol"], "X-Not-Forwarded": "1"},
            "body": "never sent",
        }
    return {"statusCode": 200}


def on_message(event, context):
    ctx = event["requestContext"]
    body = event["body"]
    try:
        command = json.loads(body)
    except ValueError:
        command = None
    do = command.get("do") if isinstance(command, dict) else None
    CALLS["count"] += 1
    if do == "raise":
        raise RuntimeError("message handler failed")
    if do == "exit":
        os._exit(1)
    if do == "sleep":
        time.sleep(float(command["seconds"]))
    if do == "reply":
        text = command["text"] if "text" in command else "r" * int(command["size"])
        return {"statusCode": 500, "headers": {"X-Ignored": "1"}, "body": text}
    if do == "nan":
        return {"value": float(command.get("value", "nan"))}
    if do == "allocate":  # hold this many MB for a moment, as real work would
        held = [b"\x01" * (1024 * 1024) for _ in range(int(command["mb"]))]
        time.sleep(0.3)
        post(ctx["connectionId"], {"allocated": len(held)})
        return {"statusCode": 200}
    post(
        ctx["connectionId"],
        {
            "route": ctx["routeKey"],
            "length": len(body),
            "pid": os.getpid(),
            "calls": CALLS["count"],
            "version": 1,
        },
    )
    return {"statusCode": 200, "body": "one-way routes never send this"}


def handler(event, context):
    record("invoke", event, context)
    kind = event["requestContext"]["eventType"]
    if kind == "CONNECT":
        return on_connect(event, context)
    if kind == "MESSAGE":
        return on_message(event, context)
    return {"statusCode": 500, "body": "ignored"}
