"""The Lambda Invoke API of the gateway's own function, for stock boto3 ``lambda`` clients.

``POST /2015-03-31/functions/{FunctionName}/invocations`` (Lambda API Reference, "Invoke"). The
function is named by its name, its partial ARN (``123456789012:function:NAME``) or its full ARN,
optionally with the ``$LATEST`` qualifier; any other function answers 404
``ResourceNotFoundException``. ``X-Amz-Invocation-Type`` chooses how it runs:

* ``RequestResponse`` (the default): the event runs in a worker and the answer is 200 with the
  function's result as the payload. When the function raises, crashes or times out the status is
  still 200, with ``X-Amz-Function-Error: Unhandled`` and the error object as the payload.
* ``Event``: 202 at once; the event goes to an asynchronous queue (:mod:`.async_queue`) and runs
  on the worker pool, retried on failure as Lambda retries it.
* ``DryRun``: 204, nothing runs.

Errors use Lambda's wire format (restJson1): the error code in ``x-amzn-ErrorType`` and a JSON
body with ``Type`` and ``Message``, which botocore turns into ``ResourceNotFoundException`` and so
on. Only a loopback ``Host`` with a SigV4-shaped ``Authorization`` is served (:mod:`.loopback`),
as for the @connections API.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .async_queue import AsyncQueue
from .config import GatewayConfig
from .loopback import refusal
from .pool import Outcome

#: Invoke's payload quotas: 6 MB synchronous, 1 MB asynchronous (Lambda API Reference, "Invoke":
#: "For synchronous invocations, the maximum payload size is 6 MB. For asynchronous invocations,
#: the maximum payload size is 1 MB").
MAX_SYNC_PAYLOAD = 6 * 1024 * 1024
MAX_ASYNC_PAYLOAD = 1024 * 1024
INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")
PATH = "/2015-03-31/functions/{function_name}/invocations"

#: The FunctionName pattern of the Invoke API reference: an optional ARN prefix, region and
#: account, the name, and an optional qualifier (version or alias).
_FUNCTION = re.compile(
    r"(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?(?P<region>[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d:)?"
    r"(?P<account>\d{12}:)?(?:function:)?(?P<name>[a-zA-Z0-9_.-]+)(?::(?P<qualifier>[^:]+))?"
)

Log = Callable[[str], None]


def error(status: int, code: str, message: str, **extra: str) -> web.Response:
    """An error as Lambda sends it: ``x-amzn-ErrorType`` names the exception botocore raises."""
    body = {"Type": "User", "Message": message, "message": message, **extra}
    return web.Response(
        status=status,
        body=json.dumps(body).encode(),
        headers={"x-amzn-ErrorType": code, "Content-Type": "application/json"},
    )


def function_arn(config: GatewayConfig) -> str:
    return f"arn:aws:lambda:{config.region}:{config.account_id}:function:{config.name}"


def names_function(config: GatewayConfig, function_name: str, qualifier: str | None) -> bool:
    """True when ``function_name`` (name, partial or full ARN) and ``qualifier`` name this
    gateway's function at ``$LATEST``, the only version that exists locally."""
    match = _FUNCTION.fullmatch(function_name)
    if match is None or match["name"] != config.name:
        return False
    if match["region"] and match["region"][:-1] != config.region:
        return False
    if match["account"] and match["account"][:-1] != config.account_id:
        return False
    return (match["qualifier"] or qualifier or "$LATEST") == "$LATEST"


def function_error_payload(outcome: Outcome, request_id: str) -> dict[str, Any]:
    """The error object Lambda's Python runtime returns for a failed invocation."""
    if outcome.kind == "crash":
        return {
            "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: "
            f"{outcome.error_message}",
            "errorType": "Runtime.ExitError",
        }
    payload: dict[str, Any] = {
        "errorMessage": outcome.error_message,
        "errorType": outcome.error_type or "Exception",
        "requestId": request_id,
    }
    if outcome.trace:
        payload["stackTrace"] = outcome.trace.splitlines(keepends=True)
    return payload


def log_tail(request_id: str, started: float, outcome: Outcome) -> str:
    """``X-Amz-Log-Result`` for ``LogType=Tail``: the START/END/REPORT lines Lambda writes (the
    handler's own output goes to the gateway's console, not here), base64-encoded."""
    duration = (time.monotonic() - started) * 1000
    lines = [
        f"START RequestId: {request_id} Version: $LATEST",
        *([outcome.trace.rstrip()] if outcome.trace else []),
        f"END RequestId: {request_id}",
        f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms",
    ]
    return base64.b64encode(("\n".join(lines) + "\n").encode()[-4096:]).decode()


class LambdaApi:
    """The Invoke route of one function; asynchronous events go to ``queue``."""

    def __init__(
        self,
        config: GatewayConfig,
        queue: AsyncQueue,
        log: Log,
        *,
        bound_host: str = "127.0.0.1",
    ) -> None:
        self.config = config
        self.queue = queue
        self.log = log
        self.bound_host = bound_host

    def routes(self) -> list[web.RouteDef]:
        return [web.post(PATH, self.invoke)]

    async def invoke(self, request: web.Request) -> web.Response:
        reason = refusal(
            request.headers.get("Host"), request.headers.get("Authorization"), self.bound_host
        )
        if reason is not None:
            self.log(f"lambda invoke refused: {reason}")
            code = "AccessDeniedException" if "Host" in reason else "MissingAuthenticationToken"
            return error(403, code, reason)
        name = request.match_info["function_name"]
        if not names_function(self.config, name, request.query.get("Qualifier")):
            qualifier = request.query.get("Qualifier")
            shown = f"{name}:{qualifier}" if qualifier else name
            return error(
                404,
                "ResourceNotFoundException",
                f"Function not found: {shown} "
                f"(this gateway serves only {function_arn(self.config)})",
            )
        kind = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if kind not in INVOCATION_TYPES:
            return error(
                400,
                "ValidationException",
                f"1 validation error detected: Value '{kind}' at 'invocationType' failed to "
                f"satisfy constraint: Member must satisfy enum value set: "
                f"[{', '.join(INVOCATION_TYPES)}]",
            )
        data = await request.read()
        limit = MAX_ASYNC_PAYLOAD if kind == "Event" else MAX_SYNC_PAYLOAD
        if len(data) > limit:
            operation = "InvokeAsync" if kind == "Event" else "InvokeFunction"
            return error(
                413,
                "RequestTooLargeException",
                f"Request must be smaller than {limit} bytes for the {operation} operation",
            )
        try:
            event = json.loads(data) if data.strip() else {}
        except ValueError as exc:
            return error(
                400,
                "InvalidRequestContentException",
                f"Could not parse request body into json: {exc}",
            )
        if kind == "DryRun":
            return web.Response(status=204)
        request_id = str(uuid.uuid4())
        if kind == "Event":
            self.queue.put(event, request_id)
            return web.Response(status=202, headers={"x-amzn-RequestId": request_id})
        return await self._run_sync(event, request_id, request.headers.get("X-Amz-Log-Type"))

    async def _run_sync(self, event: Any, request_id: str, log_type: str | None) -> web.Response:
        started = time.monotonic()
        outcome = await self.queue.run_now(event, request_id)
        headers = {"x-amzn-RequestId": request_id, "X-Amz-Executed-Version": "$LATEST"}
        if outcome is None:
            # Every worker stayed busy for the function's whole timeout: Lambda throttles.
            return error(
                429,
                "TooManyRequestsException",
                "Rate Exceeded.",
                Reason="ReservedFunctionConcurrentInvocationLimitExceeded",
            )
        if log_type == "Tail":
            headers["X-Amz-Log-Result"] = log_tail(request_id, started, outcome)
        if outcome.kind == "ok":
            try:
                body = json.dumps(outcome.result).encode()
            except (TypeError, ValueError):
                body = b"null"
            return web.Response(status=200, body=body, headers=headers)
        headers["X-Amz-Function-Error"] = "Unhandled"
        payload = function_error_payload(outcome, request_id)
        return web.Response(status=200, body=json.dumps(payload).encode(), headers=headers)
