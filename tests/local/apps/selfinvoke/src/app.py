"""Invokes itself asynchronously and posts from each invocation, through stock boto3 clients."""

import json
import os
import time

import boto3

_clients = {}


def client(service):
    # Endpoints come from the environment the gateway sets: AWS_ENDPOINT_URL_LAMBDA and
    # AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI, read by botocore itself.
    if service not in _clients:
        _clients[service] = boto3.client(service)
    return _clients[service]


def record(entry):
    path = os.environ.get("SELFINVOKE_RECORD")
    if path:
        with open(path, "a") as out:
            out.write(json.dumps(entry) + "\n")


def handler(event, context):
    if "requestContext" in event:  # a WebSocket event
        ctx = event["requestContext"]
        if ctx["eventType"] != "MESSAGE":
            return {"statusCode": 200}
        body = json.loads(event["body"])
        for part in range(body["parts"]):
            payload = {"part": part, "connectionId": ctx["connectionId"], **body.get("extra", {})}
            answer = client("lambda").invoke(
                FunctionName=os.environ["WSGATE_FANOUT_FUNCTION"],
                InvocationType="Event",
                Payload=json.dumps(payload).encode(),
            )
            assert answer["StatusCode"] == 202, answer
        return {"statusCode": 200}
    if "part" in event:  # one of the asynchronous invocations
        record(
            {
                "part": event["part"],
                "requestId": context.aws_request_id,
                "pid": os.getpid(),
                "remainingMs": context.get_remaining_time_in_millis(),
            }
        )
        if event.get("sleep"):
            time.sleep(event["sleep"])
        if event.get("raise"):
            raise RuntimeError(f"part {event['part']} failed")
        if event.get("connectionId"):
            client("apigatewaymanagementapi").post_to_connection(
                ConnectionId=event["connectionId"],
                Data=json.dumps({"part": event["part"]}).encode(),
            )
        return None
    if "echo" in event:
        return {"echo": event["echo"], "function": context.function_name}
    if "raise" in event:
        raise ValueError(event["raise"])
    if "sleep" in event:
        time.sleep(event["sleep"])
        return {"slept": event["sleep"]}
    if "env" in event:
        return {name: os.environ.get(name) for name in event["env"]}
    return event
