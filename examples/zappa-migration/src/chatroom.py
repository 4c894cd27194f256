"""A Zappa class app, moved to wsgate: a chat room that keeps its members in its own table.

Like most Zappa WebSocket apps that talk to more than the sender, it records connections in a
DynamoDB table it owns (``CHATROOM_TABLE``; ``main.tf`` creates it and grants the function access).
The one changed line is the ``zappa.websocket`` import. Deploy it with ``-var app=chatroom``.
"""

import json
import logging
import os

import boto3
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError
from flask import Flask
from wsgate.compat.zappa import ZappaWebSocketServer, send_message

logger = logging.getLogger(__name__)

app = Flask(__name__)
table = boto3.resource("dynamodb").Table(os.environ["CHATROOM_TABLE"])
ROOM = "lobby"


@app.route("/")
def index():
    return {"status": "ok"}


def members():
    query = {"KeyConditionExpression": Key("room").eq(ROOM)}
    while True:
        page = table.query(**query)
        yield from (item["connection_id"] for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            return
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class ChatRoom(ZappaWebSocketServer):
    def on_connect(self, event, context):
        connection_id = event["requestContext"]["connectionId"]
        table.put_item(Item={"room": ROOM, "connection_id": connection_id})
        logger.info("Client joined: %s", connection_id)
        return {"statusCode": 200}

    def on_disconnect(self, event, context):
        connection_id = event["requestContext"]["connectionId"]
        table.delete_item(Key={"room": ROOM, "connection_id": connection_id})
        return {"statusCode": 200}

    def on_message(self, event, context):
        sender = event["requestContext"]["connectionId"]
        data = json.loads(event.get("body", "{}"))
        for member in members():
            try:
                send_message(member, {"from": sender, "message": data})
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "GoneException":
                    raise
                # Left without a clean $disconnect: forget them.
                table.delete_item(Key={"room": ROOM, "connection_id": member})
        return {"statusCode": 200}
