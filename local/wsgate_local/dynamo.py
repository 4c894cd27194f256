"""DynamoDB for the local gateway: moto's server on 127.0.0.1, in a process of its own.

The server (:mod:`.dynamo_server`) runs beside the gateway, so moto's work has a core of its own
instead of sharing the gateway's event loop; it ends with the gateway, however the gateway ends.
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

import atexit
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from typing import IO, Any

from wsgate.apigw import table

from .dynamo_server import READY

#: How long the server process may take to start (it imports moto).
START_TIMEOUT_S = 60.0
#: Servers of stopped gateways kept, emptied, for the next start in this process: a test session
#: starts dozens of gateways, and a server takes about a second of CPU to start. A spare server
#: ends with this process like any other (its pipe closes).
MAX_SPARES = 2
_spares: list[tuple[str, subprocess.Popen[bytes]]] = []
_spares_lock = threading.Lock()


class LocalDynamo:
    """A running moto server holding the connection table."""

    def __init__(
        self, table_name: str, region: str = "us-east-1", ttl_interval: float | None = 10.0
    ) -> None:
        self.table_name = table_name
        self.region = region
        self.ttl_interval = ttl_interval
        self._listener: socket.socket | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None
        self.url = ""

    @property
    def pid(self) -> int | None:
        """The server process's id, while it runs."""
        return self._process.pid if self._process is not None else None

    def reserve(self) -> str:
        """Bind the server's socket now (or take a spare server), so the URL is known before
        the (slow) server start."""
        if self._listener is None and self._process is None:
            spare = _take_spare(self.url)
            if spare is not None:
                self.url, self._process = spare
                return self.url
            # A restart keeps the address that workers and clients were given.
            port = int(self.url.rsplit(":", 1)[1]) if self.url else 0
            listener = socket.socket()
            listener.bind(("127.0.0.1", port))
            listener.listen(128)
            self._listener = listener
            self.url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        return self.url

    def start(self) -> str:
        """Start the server and create the table; returns the endpoint URL."""
        self.reserve()
        if self._listener is not None:
            self._spawn(self._listener)
        self.create_table()
        if self.ttl_interval:
            self._stop.clear()
            self._sweeper = threading.Thread(
                target=self._sweep_forever, name="wsgate-ttl", daemon=True
            )
            self._sweeper.start()
        return self.url

    def _spawn(self, listener: socket.socket) -> None:
        fd = listener.fileno()
        # stdin is the pipe whose end tells the server the gateway is gone.
        self._process = subprocess.Popen(
            [sys.executable, "-m", "wsgate_local.dynamo_server", "--fd", str(fd)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            pass_fds=(fd,),
            env=_server_environment(),
        )
        try:
            _wait_ready(self._process)
        except BaseException:
            self._end_process()
            raise
        finally:
            listener.close()  # the server holds it now
            self._listener = None

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
        self._create(self.client())

    def _create(self, client: Any) -> None:
        table.create_connection_table(client, self.table_name)

    def stop(self) -> None:
        """Stop the sweep and the server (kept, emptied, as a spare for the next start)."""
        self._stop.set()
        if self._sweeper is not None:
            self._sweeper.join(5)
            self._sweeper = None
        process = self._process
        if process is not None and process.poll() is None and _keep_spare(self):
            self._process = None
        self._end_process()
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _end_process(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            _end(process)


def _end(process: subprocess.Popen[bytes]) -> None:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.close()  # the server exits when its stdin closes
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    process.stdout.close()


def _keep_spare(dynamo: LocalDynamo) -> bool:
    """Empty ``dynamo``'s server and keep it for the next start; False when it is not kept."""
    assert dynamo._process is not None
    with _spares_lock:
        if len(_spares) >= MAX_SPARES:
            return False
    try:
        client = dynamo.client()
        for name in client.list_tables().get("TableNames", []):
            client.delete_table(TableName=name)
        if client.list_tables().get("TableNames"):
            return False
    except Exception:  # a server that does not answer is ended instead
        return False
    with _spares_lock:
        if len(_spares) >= MAX_SPARES:
            return False
        _spares.append((dynamo.url, dynamo._process))
    return True


def _take_spare(url: str) -> tuple[str, subprocess.Popen[bytes]] | None:
    """A running spare server: the one at ``url`` if one is asked for (a restart), else any."""
    with _spares_lock:
        _spares[:] = [(u, p) for u, p in _spares if p.poll() is None]
        for index, (spare_url, _) in enumerate(_spares):
            if not url or spare_url == url:
                return _spares.pop(index)
    return None


@atexit.register
def _end_spares() -> None:
    with _spares_lock:
        spares = list(_spares)
        _spares.clear()
    for _, process in spares:
        _end(process)


def _server_environment() -> dict[str, str]:
    """The environment of the server process: ours, with this package importable however the
    gateway was started (an installed console script, or a source tree on ``sys.path``)."""
    env = dict(os.environ)
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [here, env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _wait_ready(process: subprocess.Popen[bytes]) -> None:
    """Wait for the server's ready line; a server that exits or hangs is an error."""
    stdout: IO[bytes] | None = process.stdout
    assert stdout is not None
    found: list[bytes] = []
    reader = threading.Thread(target=lambda: found.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(START_TIMEOUT_S)
    line = found[0].decode(errors="replace") if found else ""
    if not line.startswith(READY):
        status = process.poll()
        raise RuntimeError(
            "the local DynamoDB did not start"
            + (f" (it exited with status {status})" if status is not None else "")
        )
