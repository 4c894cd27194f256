"""Echo handler for the serverless-offline peer, doing what examples/echo does on wsgate.

Every message goes back to its sender with ``post_to_connection`` through the emulator's
management endpoint; one boto3 client per warm process, as a Lambda handler would keep it.
"""

import os

import boto3

_client = None


def echo(event, context):
    global _client
    ctx = event["requestContext"]
    if ctx.get("eventType") != "MESSAGE":
        return {"statusCode": 200}
    if _client is None:
        _client = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["PEER_ENDPOINT"])
    _client.post_to_connection(ConnectionId=ctx["connectionId"], Data=event.get("body") or "")
    return {"statusCode": 200}
