"""The worker process: one warm "Lambda container" that runs a user's handler.

Started by :mod:`wsgate_local.pool` as ``python -m wsgate_local.container SOURCE_DIR HANDLER
[AUTHORIZER]``. It imports the handler once (module state lives as long as the process, as in a
warm Lambda), then answers one request at a time over its stdin/stdout pipes: each message is a
4-byte big-endian length and a JSON document. Anything the handler prints goes to stderr, so it
cannot corrupt the protocol.
"""

from __future__ import annotations

import importlib
import json
import os
import runpy
import signal
import struct
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from typing import Any, BinaryIO, ClassVar

from wsgate.apigw.limits import MAX_LAMBDA_RESPONSE_BYTES

_LEN = struct.Struct(">I")
#: How often the memory watch reads the worker's resident size.
MEMORY_POLL_S = 0.02
#: The bytes of ``{"result":}`` around a handler's result on the pipe.
_ENVELOPE = len('{"result":}')


class LambdaContext:
    """The parts of Lambda's context object handlers use.

    What is the same for every invocation of a container (region, ARN, memory, log names) is
    read once per function name and shared; an invocation only sets its id and deadline.
    """

    _fixed: ClassVar[dict[str, tuple[str, int, str, str]]] = {}

    def __init__(self, request_id: str, timeout_ms: int, function_name: str) -> None:
        self._deadline = time.monotonic() + timeout_ms / 1000
        fixed = self._fixed.get(function_name)
        if fixed is None:
            region = os.environ.get("AWS_REGION", "us-east-1")
            account = os.environ.get("WSGATE_LOCAL_ACCOUNT", "123456789012")
            fixed = self._fixed[function_name] = (
                f"arn:aws:lambda:{region}:{account}:function:{function_name}",
                int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")),
                f"/aws/lambda/{function_name}",
                os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "local"),
            )
        self.aws_request_id = request_id
        self.function_name = function_name
        self.function_version = "$LATEST"
        (
            self.invoked_function_arn,
            self.memory_limit_in_mb,
            self.log_group_name,
            self.log_stream_name,
        ) = fixed
        self.identity = None
        self.client_context = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def load_callable(spec: str) -> Callable[..., Any]:
    """``module.attr`` (the Lambda handler string) → the object it names."""
    module_name, _, attr = spec.rpartition(".")
    if not module_name:
        raise ImportError(f"handler {spec!r} must look like 'module.function'")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attr)  # type: ignore[no-any-return]
    except AttributeError:
        raise ImportError(f"module {module_name!r} has no attribute {attr!r}") from None


def _user_traceback(exc: BaseException) -> list[str]:
    """The traceback without this module's and importlib's frames: the user's code only."""
    tb = traceback.TracebackException.from_exception(exc)
    tb.stack = traceback.StackSummary.from_list(
        [
            frame
            for frame in tb.stack
            if frame.filename != __file__
            and not frame.filename.startswith("<frozen importlib")
            and os.path.basename(os.path.dirname(frame.filename)) != "importlib"
        ]
    )
    return list(tb.format())


def _error(exc: BaseException) -> dict[str, Any]:
    reply: dict[str, Any] = {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "stackTrace": _user_traceback(exc),
    }
    # ``raise Exception("Unauthorized") from None`` (API Gateway's 401 convention) hides why;
    # the exception it replaced says it, for the gateway's console only.
    if exc.__context__ is not None and str(exc.__context__):
        reply["errorCause"] = str(exc.__context__)
    return reply


def _write(out: BinaryIO, message: dict[str, Any]) -> None:
    try:
        # allow_nan=False: NaN and Infinity are not JSON (RFC 8259 section 6), so a result holding
        # one is a marshalling error here rather than invalid JSON sent on to a client.
        data = json.dumps(message, separators=(",", ":"), allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        data = json.dumps(
            {
                "errorMessage": f"Unable to marshal response: {exc}",
                "errorType": "Runtime.MarshalError",
            }
        ).encode()
    size = len(data) - _ENVELOPE if "result" in message else 0
    if size > MAX_LAMBDA_RESPONSE_BYTES:
        data = json.dumps(
            {
                "errorMessage": (
                    f"Response payload size ({size} bytes) exceeded maximum allowed payload "
                    f"size ({MAX_LAMBDA_RESPONSE_BYTES} bytes)."
                ),
                "errorType": "Function.ResponseSizeTooLarge",
            }
        ).encode()
    out.write(_LEN.pack(len(data)) + data)  # one write: the gateway wakes once per reply
    out.flush()


def _read(inp: BinaryIO) -> dict[str, Any] | None:
    header = inp.read(4)
    if len(header) < 4:
        return None
    (size,) = _LEN.unpack(header)
    data = inp.read(size)
    if len(data) < size:
        return None
    return json.loads(data)  # type: ignore[no-any-return]


def _silence_metrics() -> None:
    """Drop the runtime's CloudWatch metric (EMF) lines: one JSON line per sending invocation
    would drown the gateway's console. ``wsgate local --show-metrics`` keeps them."""
    try:
        import wsgate.metrics
    except ImportError:
        return
    wsgate.metrics.writer = lambda line: None


def _resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


def watch_memory(limit_mb: int) -> None:
    """Kill this worker when its resident memory goes over ``limit_mb``, as Lambda ends a
    function that uses more than its ``memory_size`` ("Runtime exited with error: signal:
    killed", ``Runtime.ExitError``). Lambda counts the whole sandbox; the worker's RSS is the
    closest local measure. Without ``/proc`` (not Linux) nothing is enforced."""
    if not os.path.exists("/proc/self/statm"):
        return

    def watch() -> None:
        while True:
            used = _resident_mb()
            if used > limit_mb:
                sys.stderr.write(
                    f"Error: Runtime exited with error: signal: killed (memory used {used:.0f} MB "
                    f"> memory_size {limit_mb} MB) Runtime.ExitError\n"
                )
                sys.stderr.flush()
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(MEMORY_POLL_S)

    threading.Thread(target=watch, name="wsgate-memory-watch", daemon=True).start()


def die_with_parent() -> None:
    """Be killed when the gateway dies. A worker held to its CPU share (``cpushare.py``) may be
    stopped (``SIGSTOP``) at that moment and would never read the end of its input; ``SIGKILL``
    reaches a stopped process. Linux's ``PR_SET_PDEATHSIG``; elsewhere nothing is held."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1  # <linux/prctl.h>
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() == 1:  # the gateway died before the call: nobody is left to stop us
        os._exit(1)


def main(argv: list[str]) -> None:
    source_dir, handler_spec = argv[0], argv[1]
    authorizer_spec = argv[2] if len(argv) > 2 and argv[2] else None
    # The protocol keeps the real stdin/stdout on private descriptors; the handler's prints go
    # to stderr and its reads of stdin see an empty file.
    out = os.fdopen(os.dup(1), "wb")
    inp = os.fdopen(os.dup(0), "rb")
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    memory = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
    if memory and memory.isdigit():
        watch_memory(int(memory))
    if os.environ.pop("WSGATE_LOCAL_HELD", None) == "1":
        die_with_parent()
    preload = os.environ.get("WSGATE_LOCAL_PRELOAD")
    if preload:  # instrumentation run before the handler loads (the tests' AWS call recorder)
        runpy.run_path(preload, run_name="__wsgate_preload__")
    sys.path.insert(0, source_dir)
    os.chdir(source_dir)
    function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "wsgate")

    loaded: dict[str, Callable[..., Any] | BaseException] = {}

    def target(kind: str) -> Callable[..., Any]:
        spec = handler_spec if kind == "invoke" else authorizer_spec
        if spec is None:
            raise RuntimeError("no authorizer_handler is configured")
        if spec not in loaded:
            try:
                loaded[spec] = load_callable(spec)
            except BaseException as exc:
                loaded[spec] = exc
        value = loaded[spec]
        if isinstance(value, BaseException):
            raise value
        return value

    load_error = None
    try:
        target("invoke")
    except BaseException as exc:
        load_error = "".join(_user_traceback(exc))
    if os.environ.get("WSGATE_LOCAL_METRICS") != "1":
        _silence_metrics()
    _write(out, {"ready": True, "loadError": load_error})

    while True:
        request = _read(inp)
        if request is None:
            return
        kind = request.get("kind", "invoke")
        name = function_name if kind == "invoke" else function_name + "-authorizer"
        context = LambdaContext(
            request.get("requestId") or str(uuid.uuid4()), int(request["timeoutMs"]), name
        )
        try:
            result = target(kind)(request["event"], context)
            reply: dict[str, Any] = {"result": result}
        except Exception as exc:
            reply = _error(exc)  # the gateway prints the traceback in its log
        sys.stdout.flush()
        sys.stderr.flush()
        _write(out, reply)


if __name__ == "__main__":
    main(sys.argv[1:])
