"""Records every AWS call the wsgate runtime makes, for the IAM ledger (test_iam_ledger.py).

Two paths reach AWS: botocore clients (DynamoDB, the @connections GET/DELETE) and
``wsgate._fastsend.Poster.post`` (PostToConnection from botocore's parts, no client). The first is
seen through botocore's own event hooks: a ``before-parameter-build`` and a ``before-call``
handler added to ``botocore.handlers.BUILTIN_HANDLERS``, which every botocore session created
afterwards registers (the way moto attaches its stubber). The second is wrapped at the class.

A call counts as the runtime's when the ``wsgate`` package is on its stack: the tests' own setup
calls (creating tables, reading them back) are not what a deployed function does, and the local
gateway's in-process DynamoDB is not a caller. Each call is one JSON line in
``$WSGATE_IAM_LEDGER_DIR/<pid>.jsonl``.

Installed by ``tests/conftest.py`` in the test process and, through ``WSGATE_LOCAL_PRELOAD``, by
the local gateway's worker processes, where the handlers run. Stdlib and botocore only.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any

_lock = threading.Lock()
_installed = False
#: The directory of the wsgate package (with a trailing separator), set by install().
_runtime_dir = ""


def _runtime_caller() -> str | None:
    """``wsgate/<file>:<function>`` of the outermost runtime frame on the stack, else None."""
    frame: Any = sys._getframe(2)
    found = None
    while frame is not None:
        name = frame.f_code.co_filename
        if _runtime_dir and name.startswith(_runtime_dir):
            found = f"wsgate/{name[len(_runtime_dir) :]}:{frame.f_code.co_name}"
        frame = frame.f_back
    return found


def _write(record: dict[str, Any]) -> None:
    directory = os.environ.get("WSGATE_IAM_LEDGER_DIR")
    if not directory:
        return
    record["table_env"] = os.environ.get("WSGATE_TABLE")
    record["endpoint_env"] = os.environ.get("WSGATE_ENDPOINT")
    line = json.dumps(record, sort_keys=True) + "\n"
    with _lock, open(os.path.join(directory, f"{os.getpid()}.jsonl"), "a") as out:
        out.write(line)


def _dynamodb_params(params: dict[str, Any]) -> dict[str, Any]:
    """What decides a DynamoDB call's IAM check: tables, index, the items of a transaction."""
    out: dict[str, Any] = {}
    for key in ("TableName", "IndexName"):
        if isinstance(params.get(key), str):
            out[key] = params[key]
    if isinstance(params.get("RequestItems"), dict):
        out["RequestItems"] = sorted(params["RequestItems"])
    if isinstance(params.get("TransactItems"), list):
        out["TransactItems"] = [
            [kind, body.get("TableName")]
            for item in params["TransactItems"]
            for kind, body in item.items()
        ]
    return out


def _before_parameter_build(params: Any, model: Any, context: Any, **_: Any) -> None:
    if isinstance(context, dict) and isinstance(params, dict):
        context["wsgate_ledger_params"] = dict(params)


def _before_call(model: Any, params: Any, context: Any, **_: Any) -> None:
    caller = _runtime_caller()
    if caller is None:
        return
    service = model.service_model
    api = (context or {}).get("wsgate_ledger_params", {}) if isinstance(context, dict) else {}
    record: dict[str, Any] = {
        "via": "botocore",
        "service": service.service_name,
        "signing_name": service.signing_name,
        "operation": model.name,
        "caller": caller,
    }
    if service.service_name == "dynamodb":
        record["params"] = _dynamodb_params(api)
    elif service.service_name == "apigatewaymanagementapi":
        record["url"] = params.get("url") if isinstance(params, dict) else None
        record["params"] = {"ConnectionId": api.get("ConnectionId")}
    else:
        record["params"] = {k: v for k, v in api.items() if isinstance(v, str)}
    _write(record)


def _wrap_poster() -> None:
    global _runtime_dir
    try:
        import wsgate
        from wsgate import _fastsend
    except ImportError:  # the runtime is not importable here: nothing of it to record
        return
    _runtime_dir = os.path.join(os.path.dirname(os.path.abspath(wsgate.__file__)), "")
    original = _fastsend.Poster.post
    if getattr(original, "_wsgate_ledger", False):
        return

    def post(self: Any, connection_id: str, data: bytes) -> None:
        _write(
            {
                "via": "fastsend",
                "service": "apigatewaymanagementapi",
                "signing_name": _fastsend.SERVICE,
                "operation": _fastsend.OPERATION,
                "caller": "wsgate/_fastsend.py:Poster.post",
                "url": f"{self.endpoint}/@connections/{connection_id}",
                "params": {"ConnectionId": connection_id},
            }
        )
        original(self, connection_id, data)

    post._wsgate_ledger = True  # type: ignore[attr-defined]
    _fastsend.Poster.post = post  # type: ignore[method-assign]


def install() -> None:
    """Start recording in this process (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    from botocore import handlers

    handlers.BUILTIN_HANDLERS.append(("before-parameter-build", _before_parameter_build))
    handlers.BUILTIN_HANDLERS.append(("before-call", _before_call))
    _wrap_poster()


if __name__ in ("__main__", "__wsgate_preload__"):
    install()
