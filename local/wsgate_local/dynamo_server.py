"""The local DynamoDB's own process: ``python -m wsgate_local.dynamo_server --fd N``.

:class:`.dynamo.LocalDynamo` starts it with a listening socket already bound on 127.0.0.1 (so
its URL is known, and no other program can take the port, before this process is up) and a pipe
on standard input. This process serves moto's DynamoDB on that socket until the pipe closes:
when the gateway stops it, and when the gateway dies however it dies (even ``kill -9``), so no
server is left behind. Running here, moto's work uses a core of its own instead of competing for
the gateway's event loop and its GIL.

Four things are added to moto's server:

* requests are served one at a time (:func:`serialized`): moto's backend has no lock, and its
  TransactWriteItems reads, checks and writes in several steps, so two concurrent requests could
  interleave inside a transaction; DynamoDB's transactions are atomic (DynamoDB Developer Guide,
  "Amazon DynamoDB Transactions: How it works": isolation levels are serializable between a
  transaction and any other write);
* a failed transaction is undone item by item (:func:`cheap_transactions`) instead of from a
  deep copy of every table it names, which moto takes before every transaction;
* a Query of the table reads only its partition (:func:`partition_queries`), where moto sorts
  every item of the table first;
* the loopback ``Host`` and SigV4-shaped ``Authorization`` guard, without moto's permissive
  CORS headers (:func:`local_only`).
"""

from __future__ import annotations

import argparse
import base64
import bisect
import copy
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from operator import itemgetter
from typing import Any

from .loopback import host_allowed, refusal

#: Written on standard output once the server accepts requests.
READY = "ready"


def serialized(inner: Any) -> Any:
    """A WSGI wrapper that serves one request at a time, and afterwards drops moto's record of
    every model object it created (see :func:`forget_tracked_models`)."""
    lock = threading.Lock()

    def app(environ: Any, start_response: Any) -> Any:
        with lock:
            try:
                # The body is read inside the lock too: moto's answer is a list of bytes.
                return list(inner(environ, start_response))
            finally:
                forget_tracked_models()

    return app


def local_only(inner: Any) -> Any:
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


def forget_tracked_models() -> None:
    """Drop moto's list of every DynamoDB model object it ever created.

    moto records each instance for its web dashboard only (every item ever written, and every
    table copy), so a long session grew without bound. The live tables are held by the backend,
    not by these lists.
    """
    from moto.core.model_instances import model_data

    for model in model_data.get("dynamodb", {}).values():
        model.instances_tracked.clear()  # type: ignore[attr-defined]


class _TableCopies:
    """Stands in for the ``copy`` module in moto's DynamoDB backend: while a transaction undoes
    itself item by item, the "backup" moto takes of a table is the table itself, so its
    rollback (putting the backup back) changes nothing and the items are restored here."""

    def __init__(self) -> None:
        self.skip_tables = False

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        if self.skip_tables and isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def _touched(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any]]:
    """(table, hash key, range key) of each item a transaction names, in a table it can undo."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    found = []
    for entry in transact_items:
        if len(entry) != 1:
            continue
        op_type, op = next(iter(entry.items()))
        table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
        if table is None:
            continue
        key = op.get("Item" if op_type == "Put" else "Key") or {}
        hash_value = key.get(table.hash_key_attr)
        range_value = key.get(table.range_key_attr) if table.range_key_attr else None
        if hash_value is None or (table.range_key_attr and range_value is None):
            continue  # moto refuses it before writing anything
        found.append(
            (
                table,
                DynamoType(hash_value),
                DynamoType(range_value) if range_value is not None else None,
            )
        )
    return found


def _restore(table: Any, hash_key: Any, range_key: Any, item: Any) -> None:
    if range_key is not None:
        if item is None:
            table.items[hash_key].pop(range_key, None)
            if not table.items[hash_key]:
                del table.items[hash_key]
        else:
            table.items[hash_key][range_key] = item
    elif item is None:
        table.items.pop(hash_key, None)
    else:
        table.items[hash_key] = item


def cheap_transactions() -> Callable[[], None]:
    """Make moto's TransactWriteItems undo a failed transaction item by item.

    moto 5.2.5 (``DynamoDBBackend.transact_write_items``) deep-copies every table a transaction
    names, once per action, before it runs, and puts the copies back if an action fails: the
    cost of every join or leave grew with the size of the table. Here only the items the
    transaction names are copied, and only they are put back; that is everything a transaction
    can change, so what a client sees is the same. A table with a stream keeps moto's own
    rollback (its stream records would need undoing too). Returns a function that undoes the
    patch.
    """
    from moto.dynamodb import models

    backend_class = models.DynamoDBBackend
    original = backend_class.transact_write_items
    copies = _TableCopies()
    saved_copy = getattr(models, "copy")  # noqa: B009 (not re-exported for type checkers)
    setattr(models, "copy", copies)  # noqa: B010

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        touched = _touched(self, transact_items)
        if any(table.stream_shard is not None for table, _, _ in touched):
            return original(self, transact_items)
        before = [(table, h, r, copy.deepcopy(_get(table, h, r))) for table, h, r in touched]
        copies.skip_tables = True
        try:
            return original(self, transact_items)
        except BaseException:
            for table, h, r, item in reversed(before):
                _restore(table, h, r, item)
            raise
        finally:
            copies.skip_tables = False

    backend_class.transact_write_items = transact_write_items  # type: ignore[method-assign]

    def undo() -> None:
        backend_class.transact_write_items = original  # type: ignore[method-assign]
        setattr(models, "copy", saved_copy)  # noqa: B010

    return undo


def _get(table: Any, hash_key: Any, range_key: Any) -> Any:
    if range_key is not None:
        return table.items.get(hash_key, {}).get(range_key)
    return table.items.get(hash_key)


def partition_queries() -> Callable[[], None]:
    """Make moto's Query of a table (not of an index) read one partition, from its start key.

    moto 5.2.5 (``Table.query``) takes ``Table.all_items()``, which sorts every item of the
    table, keeps the queried partition, sorts it again and, for a later page, walks it from the
    first item to the page's ``ExclusiveStartKey``, comparing values moto converts on every
    comparison: reading a room of 10,000 members in pages of 1,000 cost 0.35 s for the first
    page and 1.1 s for the ninth. Here the partition is sorted once per call, by the same value
    moto sorts by (``DynamoType.cast_value`` of the range key); the start key is found by
    bisection, and moto is handed only the items a page can hold: those after (before, for
    ``ScanIndexForward=false``) the start key, up to ``Limit`` of them that meet the key
    condition (as moto itself tests it) and the item after those, so that moto still sets
    ``LastEvaluatedKey`` when anything follows. moto then applies its projection, filter, size
    limit and page exactly as before. Index queries and the legacy ``QueryFilter`` are left as
    they are. ``tests/local/test_dynamo_server.py`` compares paged answers with unpatched moto's.
    Returns a function that undoes the patch.
    """
    from moto.dynamodb.models.table import Table

    original = Table.query

    def query(
        self: Any,
        hash_key: Any,
        range_comparison: Any,
        range_objs: Any,
        limit: Any,
        exclusive_start_key: Any,
        scan_index_forward: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        def run(start_key: Any) -> Any:
            return original(
                self,
                hash_key,
                range_comparison,
                range_objs,
                limit,
                start_key,
                scan_index_forward,
                *args,
                **kwargs,
            )

        index_name = kwargs.get("index_name", args[1] if len(args) > 1 else None)
        if index_name is not None or hash_key is None or not set(kwargs) <= _QUERY_KEYWORDS:
            return run(exclusive_start_key)
        partition = self.items.get(hash_key)
        if partition is None:
            window: list[Any] = []
        elif not self.range_key_attr:
            window = [partition]
        else:
            window = _page_window(
                list(partition.values()),
                self.range_key_attr,
                range_comparison,
                range_objs,
                limit,
                exclusive_start_key,
                scan_index_forward is not False,
            )
            exclusive_start_key = None  # the window already starts after it

        def partition_items() -> list[Any]:
            return window

        self.all_items = partition_items
        try:
            return run(exclusive_start_key)
        finally:
            del self.all_items

    Table.query = query  # type: ignore[method-assign]

    def undo() -> None:
        Table.query = original  # type: ignore[method-assign]

    return undo


#: ``Table.query``'s keyword arguments that do not filter items (moto passes any other keyword,
#: the legacy ``QueryFilter``, as a filter).
_QUERY_KEYWORDS = frozenset(
    {
        "index_name",
        "consistent_read",
        "filter_expression",
        "hash_key_conditions",
        "range_key_conditions",
    }
)


def _page_window(
    items: list[Any],
    range_key_attr: str,
    range_comparison: Any,
    range_objs: Any,
    limit: Any,
    start_key: Any,
    forward: bool,
) -> list[Any]:
    """The items of one partition a Query page can return, in the order of the range key."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    keyed = sorted(((_sort_value(item.range_key), item) for item in items), key=itemgetter(0))
    keys = [key for key, _ in keyed]
    ordered = [item for _, item in keyed]
    if start_key is not None and range_key_attr in start_key:
        after = DynamoType(start_key[range_key_attr]).cast_value
        if forward:
            ordered = ordered[bisect.bisect_right(keys, after) :]
        else:
            ordered = ordered[: bisect.bisect_left(keys, after)]
    if not forward:
        ordered.reverse()
    if limit is None:
        window = ordered
    elif range_comparison is None:
        window = ordered[: int(limit) + 1]
    else:
        # ``Limit`` items that meet the key condition, then the next item whatever it is: moto
        # sets ``LastEvaluatedKey`` when it finds one more item after a full page.
        window = []
        for position, item in enumerate(ordered):
            if item.range_key.compare(range_comparison, range_objs):
                window.append(item)
                if len(window) == int(limit):
                    window.extend(ordered[position + 1 : position + 2])
                    break
    if not forward:
        window.reverse()  # moto sorts what it is given ascending, then reverses it
    return window


def _sort_value(key: Any) -> Any:
    """``key.cast_value`` (what moto orders range keys by), without its four type tests for
    the two common key types."""
    if key.type == "S":
        return key.value
    if key.type == "N":
        return Decimal(key.value)
    return key.cast_value


#: The keys of a Query or Scan answer (DynamoDB API Reference, Query and Scan, "Response
#: Syntax"): an answer with any other key goes through moto's serializer.
_ITEM_ANSWER_KEYS = frozenset({"Items", "Count", "ScannedCount", "LastEvaluatedKey"})


def _bytes_as_base64(value: Any) -> str:
    if isinstance(value, bytes):  # a B or BS value: base64 on the wire (DynamoDB JSON protocol)
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"not part of DynamoDB's JSON: {type(value).__name__}")


def direct_item_answers() -> Callable[[], None]:
    """Write the answer of a Query or Scan as JSON in one step.

    moto 5.2.5 serializes every answer by walking botocore's output shape value by value
    (``moto.core.serialize``): for a page of 1,000 items that took as long as the query. Its
    ``DynamoResult`` has already turned the items into plain ``{"S": ...}`` dictionaries (binary
    values as bytes), which is DynamoDB's JSON wire format once bytes are base64-encoded, so
    they are written as they are. Only answers made of the keys in ``_ITEM_ANSWER_KEYS`` take
    this path; ``tests/local/test_dynamo_server.py`` compares its output with moto's serializer
    over every attribute type. Returns a function that undoes the patch.
    """
    from moto.dynamodb.responses import DynamoHandler, DynamoResult

    original = DynamoHandler.serialized

    def serialized(self: Any, action_result: Any) -> Any:
        result = action_result.result
        if (
            type(action_result) is not DynamoResult
            or not isinstance(result, dict)
            or not result.keys() <= _ITEM_ANSWER_KEYS
            or self._get_action() not in ("Query", "Scan")
        ):
            return original(self, action_result)
        body = json.dumps(result, default=_bytes_as_base64)
        headers = {"Content-Type": "application/x-amz-json-1.0"}
        headers.update(self.response_headers)
        return 200, headers, body

    DynamoHandler.serialized = serialized  # type: ignore[method-assign]

    def undo() -> None:
        DynamoHandler.serialized = original  # type: ignore[method-assign]

    return undo


#: Attribute types whose JSON form moto's projection round trip leaves as it is.
_SCALAR_TYPES = frozenset({"S", "N", "BOOL", "NULL"})


def quick_projections() -> Callable[[], None]:
    """Make moto's projection of top-level scalar attributes copy them as they are.

    moto 5.2.5's ``Item.project`` turns the whole item into Python values (through boto3's
    deserializer) once per projected name and serializes the result back: projecting a page of
    1,000 members to ``connectionId, ttl`` took as long as the rest of the query. When every
    projected path is a top-level name and each value found is a string, number, boolean or
    null, the new item is built from those values directly; any other projection goes through
    moto's own. Returns a function that undoes the patch.
    """
    from moto.dynamodb.models.dynamo_type import Item

    original = Item.project

    def project(self: Any, projection_expressions: list[list[str]]) -> Any:
        if not all(len(path) == 1 for path in projection_expressions):
            return original(self, projection_expressions)
        chosen: dict[str, Any] = {}
        for (name,) in projection_expressions:
            value = self.attrs.get(name)
            if value is None:
                continue
            if value.type not in _SCALAR_TYPES:
                return original(self, projection_expressions)
            chosen[name] = {value.type: value.value}
        return Item(hash_key=self.hash_key, range_key=self.range_key, attrs=chosen)

    Item.project = project  # type: ignore[method-assign]

    def undo() -> None:
        Item.project = original  # type: ignore[method-assign]

    return undo


def application() -> Any:
    """moto's DynamoDB as a WSGI application, with this module's additions."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    cheap_transactions()
    partition_queries()
    direct_item_answers()
    quick_projections()
    return local_only(serialized(DomainDispatcherApplication(create_backend_app)))


@contextmanager
def _until_stdin_closes() -> Iterator[threading.Event]:
    closed = threading.Event()

    def watch() -> None:
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            closed.set()

    threading.Thread(target=watch, name="wsgate-parent", daemon=True).start()
    yield closed


def serve(fd: int | None, port: int) -> None:
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # Ctrl+C in a terminal reaches the whole process group: the gateway stops this process
    # through the pipe, after its own $disconnects, instead of losing it first.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    server = make_server(
        "127.0.0.1",
        port,
        application(),
        threaded=True,
        request_handler=MotoRequestHandler,
        fd=fd,
    )
    with _until_stdin_closes() as closed:
        threading.Thread(target=server.serve_forever, name="wsgate-dynamodb", daemon=True).start()
        print(f"{READY} {server.server_address[1]}", flush=True)
        closed.wait()
    # The gateway is gone or stopping: nothing more to answer, and no state to keep.
    os._exit(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wsgate_local.dynamo_server")
    parser.add_argument("--fd", type=int, help="a listening socket to serve (inherited)")
    parser.add_argument("--port", type=int, default=0, help="else, a port on 127.0.0.1")
    args = parser.parse_args(argv)
    serve(args.fd, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
