"""DynamoDB for the local gateway: moto's server on 127.0.0.1, in this process, on a free port.

The table is created with the schema the Terraform module declares (:mod:`wsgate.apigw.table`),
time to live included. Like the @connections API it serves only a loopback ``Host`` and
SigV4-shaped requests (any SDK; see :mod:`.loopback`), and moto's permissive CORS headers are
removed from its answers. moto stores the TTL setting but never expires anything, so a sweep here
deletes items whose ``ttl`` (epoch seconds) has passed, as DynamoDB does: lazily, in the
background ("typically within a few days" on AWS; every ``ttl_interval`` seconds here), and an
expired item that has not been swept yet can still be read (DynamoDB Developer Guide, "How
DynamoDB Time to Live (TTL) works").
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from typing import Any

from wsgate.apigw import table

from .loopback import host_allowed, refusal

# moto keeps its data per process, shared by every server started in it: two gateways of the
# same app in one process (tests) see one table. A table left by a stopped gateway is recreated
# empty; one a running gateway uses is shared.
_IN_USE: dict[str, int] = {}
_LOCK = threading.Lock()


class LocalDynamo:
    """A running moto server holding the connection table."""

    def __init__(
        self, table_name: str, region: str = "us-east-1", ttl_interval: float | None = 10.0
    ) -> None:
        self.table_name = table_name
        self.region = region
        self.ttl_interval = ttl_interval
        self._server: Any = None
        self._registered = False
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None
        self.url = ""

    def reserve(self) -> str:
        """Choose a free port now, so the URL is known before the (slow) server start."""
        if not self.url:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        return self.url

    def start(self) -> str:
        """Start the server and create the table; returns the endpoint URL."""
        from moto.server import ThreadedMotoServer

        # werkzeug logs every request at INFO; the gateway has its own event log.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        port = int(self.url.rsplit(":", 1)[1]) if self.url else 0
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self._server.start()
        _one_request_at_a_time(self._server)
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        self.create_table()
        if self.ttl_interval:
            self._stop.clear()
            self._sweeper = threading.Thread(
                target=self._sweep_forever, name="wsgate-ttl", daemon=True
            )
            self._sweeper.start()
        return self.url

    def expire(self, now: float | None = None) -> int:
        """Delete every item whose ``ttl`` is before ``now`` (default: the time); returns how
        many. An item whose ``ttl`` was refreshed meanwhile is kept (the delete is conditional)."""
        client = self.client()
        cutoff = int(time.time() if now is None else now)
        names = {"#t": table.TTL_ATTRIBUTE}
        values = {":now": {"N": str(cutoff)}}
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "FilterExpression": "#t < :now",
            "ProjectionExpression": f"{table.HASH_KEY}, {table.RANGE_KEY}",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        deleted = 0
        while True:
            page = client.scan(**request)
            for key in page.get("Items", []):
                try:
                    client.delete_item(
                        TableName=self.table_name,
                        Key=key,
                        ConditionExpression="#t < :now",
                        ExpressionAttributeNames=names,
                        ExpressionAttributeValues=values,
                    )
                    deleted += 1
                except client.exceptions.ConditionalCheckFailedException:
                    pass
            if "LastEvaluatedKey" not in page:
                return deleted
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _sweep_forever(self) -> None:
        assert self.ttl_interval
        while not self._stop.wait(self.ttl_interval):
            try:
                self.expire()
            except Exception as exc:  # the server stopping, or a table being recreated
                if self._stop.is_set():
                    return
                logging.getLogger("wsgate.local").debug("TTL sweep failed: %s", exc)

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "dynamodb",
            endpoint_url=self.url,
            region_name=self.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def create_table(self) -> None:
        client = self.client()
        with _LOCK:
            shared = _IN_USE.get(self.table_name, 0) > 0
            _IN_USE[self.table_name] = _IN_USE.get(self.table_name, 0) + 1
            self._registered = True
            existing = client.list_tables().get("TableNames", [])
            if self.table_name in existing:
                if shared:
                    return
                client.delete_table(TableName=self.table_name)
            self._create(client)

    def _create(self, client: Any) -> None:
        table.create_connection_table(client, self.table_name)

    def stop(self) -> None:
        self._stop.set()
        if self._sweeper is not None:
            self._sweeper.join(5)
            self._sweeper = None
        with _LOCK:
            if self._registered:
                self._registered = False
                _IN_USE[self.table_name] -= 1
        if self._server is not None:
            self._server.stop()
            self._server = None


def _one_request_at_a_time(server: Any) -> None:
    """Serve moto's requests one at a time. Its TransactWriteItems deep-copies the whole table
    without a lock (and restores the copy when a condition fails), so concurrent requests could
    fail with a 500 or lose writes; DynamoDB itself never does either."""
    wsgi = server._server
    inner, lock = wsgi.app, threading.Lock()

    def serialized(environ: Any, start_response: Any) -> Any:
        with lock:
            try:
                return inner(environ, start_response)
            finally:
                _forget_tracked_models()

    wsgi.app = _local_only(serialized)


def _local_only(inner: Any) -> Any:
    """A WSGI wrapper: refuse what :func:`.loopback.refusal` refuses, and drop moto's
    ``Access-Control-*`` headers (it allows every origin), so no web page can use the table."""

    def guarded(environ: Any, start_response: Any) -> Any:
        host = environ.get("HTTP_HOST")
        reason = refusal(host, environ.get("HTTP_AUTHORIZATION"))
        if reason is not None:
            # DynamoDB's own answer to a request with no credentials (its "Common errors").
            code = (
                "AccessDeniedException"
                if not host_allowed(host)
                else "MissingAuthenticationTokenException"
            )
            body = json.dumps({"__type": f"com.amazon.coral.service#{code}", "message": reason})
            data = body.encode()
            start_response(
                "400 Bad Request" if host_allowed(host) else "403 Forbidden",
                [
                    ("Content-Type", "application/x-amz-json-1.0"),
                    ("Content-Length", str(len(data))),
                ],
            )
            return [data]

        def without_cors(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            kept = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
            return start_response(status, kept, *rest)

        return inner(environ, without_cors)

    return guarded


def _forget_tracked_models() -> None:
    """Drop moto's list of every DynamoDB model object it ever created.

    moto records each instance for its web dashboard only, and the deep copy of the table that
    every TransactWriteItems takes is recorded too, so a chat that joins rooms grew the gateway by
    the size of the table per join. The live tables are held by the backend, not by these lists.
    """
    from moto.core.model_instances import model_data

    for model in model_data.get("dynamodb", {}).values():
        model.instances_tracked.clear()  # type: ignore[attr-defined]
