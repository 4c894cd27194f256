"""Records every AWS call the wsgate runtime makes, for the IAM ledger (test_iam_ledger.py).

Two paths reach AWS: botocore clients (DynamoDB, the @connections GET/DELETE) and
``wsgate._direct_sender.DirectSender.post`` (PostToConnection from botocore's parts, no client). The
first is seen through botocore's own event hooks: a ``before-parameter-build`` and a ``before-call``
handler added to ``botocore.handlers.BUILTIN_HANDLERS``, which every botocore session created
afterwards registers (the way moto attaches its stubber). The second is wrapped at the class.

Who made a call is read off the stack, innermost frame first: a frame of the ``wsgate`` package
makes it the runtime's (``scope`` "runtime"), a frame of an example's handler code
(``examples/<name>/src``) makes it that example's own (``scope`` "example:<name>", e.g. the
Zappa app's own table). Anything else is not recorded: the tests' own setup calls (creating
tables, reading them back) are not what a deployed function does, and the local gateway's
in-process DynamoDB is not a caller. A table other than ``WSGATE_TABLE`` is recorded with the
environment variable that named it, so the ledger can find the deployed table. Each call is one
JSON line in ``$WSGATE_IAM_LEDGER_DIR/<pid>.jsonl``.

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
#: The examples' directory (with a trailing separator).
_examples_dir = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "examples", ""
)


def _caller() -> tuple[str, str] | None:
    """(scope, ``<file>:<function>``) of the innermost runtime or example frame, else None."""
    frame: Any = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if _runtime_dir and name.startswith(_runtime_dir):
            rest = name[len(_runtime_dir) :]
            if rest.startswith(f"apigw{os.sep}"):
                # The API Gateway core the local gateway shares with the runtime: what it calls
                # (creating the local table, serving @connections) is the emulator's, not a
                # deployed function's.
                return None
            return "runtime", f"wsgate/{rest}:{frame.f_code.co_name}"
        if name.startswith(_examples_dir):
            example, _, rest = name[len(_examples_dir) :].partition(os.sep)
            if rest.startswith(f"src{os.sep}"):
                return f"example:{example}", f"{rest}:{frame.f_code.co_name}"
        frame = frame.f_back
    return None


def _table_env_keys(params: dict[str, Any]) -> dict[str, str]:
    """For each table other than WSGATE_TABLE: the environment variable holding its name."""
    names = set(params.get("RequestItems") or [])
    names.update(t for _, t in params.get("TransactItems") or [] if isinstance(t, str))
    if isinstance(params.get("TableName"), str):
        names.add(params["TableName"])
    names.discard(os.environ.get("WSGATE_TABLE") or "")
    found = {}
    for table in names:
        keys = sorted(k for k, v in os.environ.items() if v == table and k != "WSGATE_TABLE")
        if keys:
            found[table] = keys[0]
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
    found = _caller()
    if found is None:
        return
    scope, caller = found
    service = model.service_model
    api = (context or {}).get("wsgate_ledger_params", {}) if isinstance(context, dict) else {}
    record: dict[str, Any] = {
        "via": "botocore",
        "service": service.service_name,
        "signing_name": service.signing_name,
        "operation": model.name,
        "caller": caller,
        "scope": scope,
    }
    if service.service_name == "dynamodb":
        record["params"] = _dynamodb_params(api)
        record["table_env_keys"] = _table_env_keys(record["params"])
    elif service.service_name == "apigatewaymanagementapi":
        record["url"] = params.get("url") if isinstance(params, dict) else None
        record["params"] = {"ConnectionId": api.get("ConnectionId")}
    else:
        record["params"] = {k: v for k, v in api.items() if isinstance(v, str)}
        if service.service_name == "lambda":
            # Which variable named the function (WSGATE_FANOUT_FUNCTION, or Lambda's own
            # AWS_LAMBDA_FUNCTION_NAME), so the ledger can find the deployed function.
            name = record["params"].get("FunctionName")
            record["function_env_keys"] = sorted(
                k for k, v in os.environ.items() if name and v == name
            )
    _write(record)


def _wrap_poster() -> None:
    global _runtime_dir
    try:
        import wsgate
        from wsgate import _direct_sender
    except ImportError:  # the runtime is not importable here: nothing of it to record
        return
    _runtime_dir = os.path.join(os.path.dirname(os.path.abspath(wsgate.__file__)), "")
    original = _direct_sender.DirectSender.post
    if getattr(original, "_wsgate_ledger", False):
        return

    def post(self: Any, connection_id: str, data: bytes) -> None:
        _write(
            {
                "via": "fastsend",
                "service": "apigatewaymanagementapi",
                "signing_name": _direct_sender.SERVICE,
                "operation": _direct_sender.OPERATION,
                "caller": "wsgate/_direct_sender.py:DirectSender.post",
                "scope": "runtime",
                "url": f"{self.endpoint}/@connections/{connection_id}",
                "params": {"ConnectionId": connection_id},
            }
        )
        original(self, connection_id, data)

    post._wsgate_ledger = True  # type: ignore[attr-defined]
    _direct_sender.DirectSender.post = post  # type: ignore[method-assign]


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
