"""A pool of warm worker processes, each like one Lambda container.

Each worker runs one event at a time; the pool bounds concurrency to its size. Events travel over
the worker's pipes (no process per event). A worker that dies mid-event is replaced and the
caller learns it crashed. The caller stops waiting at the integration timeout, but the event runs
on until the function's own timeout, when the worker is killed and replaced (Lambda's timeout).
``reload()`` swaps every worker for a fresh one (busy ones once they finish), picking up new code.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import struct
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .cpushare import CpuShare

_LEN = struct.Struct(">I")
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


@dataclass(frozen=True)
class Outcome:
    """How one invocation ended: ``ok`` (with ``result``), ``error`` (the handler raised; Lambda
    reports it as a function error), ``crash`` (the process died) or ``timeout``."""

    kind: str
    result: Any = None
    error_message: str = ""
    error_type: str = ""
    trace: str = ""
    #: What the raised exception replaced, if anything (an authorizer's refusal reason).
    cause: str = ""


def function_timed_out(request_id: str, timeout_s: float) -> Outcome:
    """Lambda's error for an invocation that reached the function's ``timeout``: the sandbox is
    stopped and the invocation fails with ``Sandbox.Timedout`` (AWS Lambda Developer Guide,
    "Troubleshoot invocation issues": timeouts), its message as Lambda writes it, e.g.
    ``2020-11-10T05:46:57.874Z 160788cd-… Task timed out after 3.07 seconds``
    (alexa-samples/skill-sample-nodejs-smarthome-switch#18)."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    return Outcome(
        "error",
        error_message=f"{stamp} {request_id} Task timed out after {timeout_s:.2f} seconds",
        error_type="Sandbox.Timedout",
    )


class Worker:
    """One worker process and its pipes."""

    def __init__(
        self, proc: asyncio.subprocess.Process, generation: int, cpu: CpuShare | None = None
    ) -> None:
        self.proc = proc
        self.generation = generation
        #: What holds this worker to Lambda's share of a CPU, if anything (``--cpu-share``).
        self.cpu = cpu
        self.load_error: str | None = None
        self.dead = False

    async def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        header = await self.proc.stdout.readexactly(4)
        data = await self.proc.stdout.readexactly(_LEN.unpack(header)[0])
        return json.loads(data)  # type: ignore[no-any-return]

    async def handshake(self) -> None:
        ready = await self._read()
        self.load_error = ready.get("loadError")

    async def call(self, request: dict[str, Any], timeout_s: float) -> Outcome:
        assert self.proc.stdin is not None
        data = _dumps(request).encode()
        timed_out = False

        def on_timeout() -> None:
            # Killing the worker ends the pending read; no task per call is needed.
            nonlocal timed_out
            timed_out = True
            self.kill()

        timer = asyncio.get_running_loop().call_later(timeout_s, on_timeout)
        try:
            self.proc.stdin.write(_LEN.pack(len(data)) + data)
            reply = await self._read()
        except (asyncio.IncompleteReadError, ConnectionError, BrokenPipeError):
            self.kill()
            if timed_out:
                return function_timed_out(str(request.get("requestId", "")), timeout_s)
            code = self.proc.returncode
            return Outcome("crash", error_message=f"worker exited (status {code})")
        finally:
            timer.cancel()
        if "errorMessage" in reply:
            return Outcome(
                "error",
                error_message=str(reply.get("errorMessage")),
                error_type=str(reply.get("errorType", "")),
                trace="".join(reply.get("stackTrace") or []),
                cause=str(reply.get("errorCause") or ""),
            )
        return Outcome("ok", result=reply.get("result"))

    def hold_to_share(self) -> None:
        if self.cpu is not None:
            self.cpu.add(self.proc.pid)

    def _release_cpu(self) -> None:
        if self.cpu is not None:
            self.cpu.remove(self.proc.pid)  # a stopped process could not read its EOF

    def kill(self) -> None:
        self.dead = True
        self._release_cpu()
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()

    async def stop(self) -> None:
        """Close stdin (the worker exits at EOF), then make sure it is gone."""
        self.dead = True
        self._release_cpu()
        if self.proc.stdin is not None and not self.proc.stdin.is_closing():
            self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 2)
        except TimeoutError:
            self.kill()
            await self.proc.wait()


class WorkerPool:
    """``size`` warm workers for the handler (and authorizer) in ``source_dir``."""

    def __init__(
        self,
        source_dir: Path,
        handler: str,
        authorizer: str | None,
        env: Mapping[str, str],
        size: int,
        on_load_error: Callable[[str], None] | None = None,
        max_size: int | None = None,
        cpu: CpuShare | None = None,
    ) -> None:
        self.source_dir = source_dir
        #: Holds every worker to Lambda's share of a CPU once it has started (``--cpu-share``).
        self.cpu = cpu
        self.handler = handler
        self.authorizer = authorizer
        self.env = dict(env)
        self.size = max(1, size)
        #: How far queued asynchronous invocations may grow the pool (Lambda scales out for
        #: them; see :meth:`invoke_queued`). Workers started this way stay warm.
        self.max_size = max(self.size, max_size or self.size)
        #: Workers added beyond ``size`` (replacements of crashed or reloaded ones are 1:1).
        self._grown = 0
        self.generation = 0
        # Idle workers, most recently used last (reused first, like warm Lambda containers), and
        # callers waiting for one, served strictly in arrival order: asyncio.Queue lets a new
        # caller overtake a woken waiter, which starves some connections under load.
        self._idle: list[Worker] = []
        self._waiters: collections.deque[asyncio.Future[Worker]] = collections.deque()
        self._all: set[Worker] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        self.last_load_error: str | None = None
        self._on_load_error = on_load_error
        self._reported_generation = -1

    async def _spawn(self) -> Worker:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "wsgate_local.container",
            str(self.source_dir),
            self.handler,
            self.authorizer or "",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={**self.env, "WSGATE_LOCAL_HELD": "1"} if self.cpu is not None else self.env,
            cwd=str(self.source_dir),
        )
        worker = Worker(proc, self.generation, self.cpu)
        self._all.add(worker)
        try:
            await worker.handshake()
        except (asyncio.IncompleteReadError, ConnectionError):
            worker.kill()
            self._all.discard(worker)
            raise RuntimeError("a worker process exited while starting") from None
        worker.hold_to_share()  # after its init, which runs at full speed (see cpushare.py)
        self.last_load_error = worker.load_error
        return worker

    async def start(self) -> str | None:
        """Start every worker; returns the handler's import error (with traceback), if any."""
        workers = await asyncio.gather(*(self._spawn() for _ in range(self.size)))
        for w in workers:
            self._release(w)
        return workers[0].load_error if workers else None

    async def _acquire(self, grow: bool = False) -> Worker:
        if self._idle and not self._waiters:
            return self._idle.pop()
        if grow and self.size + self._grown < self.max_size and not self._closed:
            # One more warm worker, handed to the first caller in line (a cold start).
            self._grown += 1
            self._replace_later(None, grown=True)
        waiter: asyncio.Future[Worker] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release(waiter.result())  # handed over just as the caller gave up
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise

    def _release(self, worker: Worker) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(worker)
                return
        self._idle.append(worker)

    def _replace_later(self, old: Worker | None, grown: bool = False) -> None:
        async def run() -> None:
            if old is not None:
                self._all.discard(old)
                await old.stop()
            if self._closed:
                return
            try:
                fresh = await self._spawn()
            except (RuntimeError, OSError) as exc:
                if grown:
                    self._grown -= 1
                    sys.stderr.write(f"wsgate: cannot start another worker: {exc}\n")
                    return
                sys.stderr.write(f"wsgate: cannot start a worker: {exc}\n")
                await asyncio.sleep(1)
                self._replace_later(None)
                return
            if self._closed:
                await fresh.stop()
                return
            if (
                fresh.load_error
                and self._on_load_error is not None
                and self._reported_generation != fresh.generation
            ):
                # Once per reload: a broken edit shows up at once, not at the next event.
                self._reported_generation = fresh.generation
                self._on_load_error(fresh.load_error)
            self._release(fresh)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def invoke(
        self,
        event: dict[str, Any],
        request_id: str,
        *,
        wait_s: float,
        timeout_s: float,
        kind: str = "invoke",
        on_late: Callable[[Outcome], None] | None = None,
        queue_counts: bool = True,
    ) -> Outcome:
        """Run ``event`` through the handler (``kind="authorize"``: the authorizer).

        The caller (API Gateway) waits at most ``wait_s`` seconds, counting the wait for a free
        worker, and then gets a ``timeout`` outcome. The invocation itself is not cancelled: as
        in Lambda, it runs on until it returns or reaches the function's ``timeout_s``, and then
        ``on_late`` gets how it ended. A caller cancelled meanwhile does not stop it either.
        With ``queue_counts=False`` the wait for a worker does not count (``$disconnect``).
        """
        loop = asyncio.get_running_loop()
        if queue_counts:
            deadline = loop.time() + wait_s
            try:
                worker = await asyncio.wait_for(self._acquire(), wait_s)
            except TimeoutError:
                return Outcome(
                    "timeout", error_message="no free worker within the integration timeout"
                )
        else:  # nobody waits for the answer: the event runs once a worker is free
            worker = await self._acquire()
            deadline = loop.time() + wait_s
        request = {
            "kind": kind,
            "event": event,
            "timeoutMs": int(timeout_s * 1000),
            "requestId": request_id,
        }
        run = loop.create_task(self._run(worker, request, timeout_s))
        self._tasks.add(run)
        run.add_done_callback(self._tasks.discard)
        done, _ = await asyncio.wait({run}, timeout=max(0.0, deadline - loop.time()))
        if run in done:
            return run.result()
        if on_late is not None:

            def late(task: asyncio.Task[Outcome]) -> None:
                if not task.cancelled() and task.exception() is None:
                    on_late(task.result())

            run.add_done_callback(late)
        return Outcome("timeout", error_message="Endpoint request timed out")

    async def _run(self, worker: Worker, request: dict[str, Any], timeout_s: float) -> Outcome:
        try:
            outcome = await worker.call(request, timeout_s)
        except BaseException:
            # Cancelled mid-call (the gateway is stopping): the worker's state is unknown.
            worker.kill()
            self._replace_later(worker)
            raise
        if worker.dead or worker.generation != self.generation:
            self._replace_later(worker)
        else:
            self._release(worker)
        return outcome

    async def invoke_queued(
        self,
        event: dict[str, Any],
        request_id: str,
        *,
        max_wait_s: float,
        timeout_s: float,
        kill_after_s: float | None = None,
    ) -> Outcome | None:
        """Run an event from Lambda's asynchronous queue: wait at most ``max_wait_s`` for a
        worker (what is left of the event's maximum age; the pool grows up to ``max_size``
        meanwhile), then run it to the end or to the function's ``timeout_s``. None when no
        worker was free in time. No integration timeout applies: nobody waits for the answer.
        ``kill_after_s`` (fault injection) kills the worker that long into the run."""
        try:
            worker = await asyncio.wait_for(self._acquire(grow=True), max(0.0, max_wait_s))
        except TimeoutError:
            return None
        killer = None
        if kill_after_s is not None:
            killer = asyncio.get_running_loop().call_later(kill_after_s, worker.kill)
        request = {
            "kind": "invoke",
            "event": event,
            "timeoutMs": int(timeout_s * 1000),
            "requestId": request_id,
        }
        try:
            return await self._run(worker, request, timeout_s)
        finally:
            if killer is not None:
                killer.cancel()

    def reload(self) -> None:
        """Replace every worker with one that imports the code afresh."""
        self.generation += 1
        while self._idle:
            self._replace_later(self._idle.pop())

    async def close(self) -> None:
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*(w.stop() for w in list(self._all)), return_exceptions=True)
        self._all.clear()
