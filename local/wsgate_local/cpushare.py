"""Lambda's share of a CPU for the local workers (``wsgate local --cpu-share auto``).

Lambda gives a function CPU in proportion to its memory: 1,769 MB is the equivalent of one vCPU
(AWS Lambda Developer Guide, "Configure Lambda function memory"), so the default 256 MB gets
about 0.145 of one. On a laptop every worker would otherwise have a whole core, and code that is
CPU-bound on Lambda (a large inline broadcast, say) looks fine locally. With a share set, the
gateway holds each worker to it: a thread reads every worker's CPU time
(``/proc/<pid>/stat``, all its threads) every ``TICK_S`` and keeps a token bucket per worker that
fills at ``share`` CPU-seconds per second, up to ``BURST_S`` of credit; a worker that has used
more than its credit is stopped (``SIGSTOP``) until the bucket is full enough again
(``SIGCONT``). Over any stretch longer than a few ticks a worker gets its share and no more,
however many threads it runs: the docs put Lambda's limit as credits, "one vCPU-second of
credits per second" at 1,769 MB, and the bucket hands them out that way.

What is left out, and said so: a worker's init (importing the handler) runs at full speed, as
does any process a handler starts; the gateway, the local DynamoDB and the clients are AWS's and
the user's parts and are not held. Only Linux has ``/proc``: elsewhere :func:`supported` is
false and the CLI says so.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from dataclasses import dataclass

#: Lambda: "At 1,769 MB, a function has the equivalent of one vCPU" (Configure Lambda function
#: memory); the share grows and shrinks linearly with memory between 128 MB and 10,240 MB.
MB_PER_VCPU = 1769
#: How often every held worker's CPU time is read.
TICK_S = 0.01
#: The most CPU time a worker may use ahead of its share after a quiet spell.
BURST_S = 0.02

_TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def supported() -> bool:
    return os.path.exists(f"/proc/{os.getpid()}/stat")


def share_for_memory(memory_mb: int) -> float:
    """The vCPUs Lambda gives a function of ``memory_mb``."""
    return memory_mb / MB_PER_VCPU


def parse_share(text: str, memory_mb: int) -> float | None:
    """``--cpu-share``: ``auto`` (from ``memory_size``), ``off``, or a number of vCPUs."""
    value = text.strip().lower()
    if value in ("off", "none", ""):
        return None
    if value == "auto":
        return share_for_memory(memory_mb)
    try:
        share = float(value)
    except ValueError:
        raise ValueError(
            f"--cpu-share takes auto, off or a number of vCPUs (like 0.25), not {text!r}"
        ) from None
    if not 0.01 <= share <= 64:
        raise ValueError(f"--cpu-share {text}: give between 0.01 and 64 vCPUs")
    return share


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of every thread of ``pid``, None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            data = stat.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: count from its last ")".
    fields = data[data.rindex(b")") + 2 :].split()
    if fields[0] in (b"Z", b"X"):  # exited, not yet reaped
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS_PER_S


@dataclass
class _Held:
    pid: int
    last_cpu: float
    last_seen: float
    credit: float
    stopped: bool = False


class CpuShare:
    """Holds registered processes to ``share`` of a CPU each (see the module's docstring)."""

    def __init__(self, share: float) -> None:
        self.share = share
        self._held: dict[int, _Held] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wsgate-cpu-share", daemon=True)
        self._thread.start()

    def add(self, pid: int) -> None:
        cpu = cpu_seconds(pid)
        if cpu is None:
            return
        with self._lock:
            self._held[pid] = _Held(pid, cpu, time.monotonic(), BURST_S)

    def remove(self, pid: int) -> None:
        """Stop holding ``pid``, and let it run if it is stopped (so it can exit)."""
        with self._lock:
            held = self._held.pop(pid, None)
        if held is not None and held.stopped:
            _signal(pid, signal.SIGCONT)

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=1)
        with self._lock:
            held, self._held = list(self._held.values()), {}
        for entry in held:
            if entry.stopped:
                _signal(entry.pid, signal.SIGCONT)

    def _run(self) -> None:
        while not self._closed.wait(TICK_S):
            now = time.monotonic()
            with self._lock:
                for pid, held in list(self._held.items()):
                    cpu = cpu_seconds(pid)
                    if cpu is None:
                        del self._held[pid]
                        continue
                    earned = self.share * (now - held.last_seen)
                    held.credit = min(held.credit + earned - (cpu - held.last_cpu), BURST_S)
                    held.last_cpu, held.last_seen = cpu, now
                    if held.credit < 0 and not held.stopped:
                        held.stopped = _signal(pid, signal.SIGSTOP)
                    elif held.credit >= 0 and held.stopped:
                        _signal(pid, signal.SIGCONT)
                        held.stopped = False


def _signal(pid: int, signum: int) -> bool:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signum)
        return True
    return False
