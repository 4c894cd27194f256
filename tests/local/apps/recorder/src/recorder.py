"""Appends what a handler saw to the JSON-lines file named by RECORD_FILE."""

import json
import os

ENV_KEYS = (
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_REGION",
    "AWS_ACCESS_KEY_ID",
    "WSGATE_ENDPOINT",
    "WSGATE_TABLE",
    "WSGATE_ROUTE_SELECTION_EXPRESSION",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI",
    "RECORDER_GREETING",
)


def record(kind, event, context, **extra):
    entry = {
        "kind": kind,
        "event": event,
        "pid": os.getpid(),
        "env": {key: os.environ.get(key) for key in ENV_KEYS},
        "context": {
            "aws_request_id": context.aws_request_id,
            "function_name": context.function_name,
            "remaining_ms": context.get_remaining_time_in_millis(),
        },
        **extra,
    }
    with open(os.environ["RECORD_FILE"], "a") as out:
        out.write(json.dumps(entry) + "\n")
