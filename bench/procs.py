"""Starting, waiting for and stopping the servers and load generators a benchmark needs."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds used so far by ``root`` and every live descendant (Linux
    ``/proc``); 0.0 where ``/proc`` is not there."""
    own, descendants = cpu_split(root)
    return own + descendants


def cpu_split(root: int) -> tuple[float, float]:
    """CPU seconds of ``root`` itself and of its descendants (live, or exited and reaped
    within the tree), separately."""
    proc = Path("/proc")
    if not proc.is_dir():
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        pid, ppid = int(entry.name), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        # utime + stime, plus cutime + cstime: the CPU of children that have exited and been
        # reaped moves to their parent, so a tree that recycles processes still adds up
        cpu[pid] = sum(int(v) for v in fields[11:15]) / tick
    descendants, todo = 0.0, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        descendants += cpu.get(pid, 0.0)
        todo.extend(children.get(pid, []))
    return cpu.get(root, 0.0), descendants


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen[Any] | None = None) -> None:
    """Block until something accepts TCP connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening on {port}")
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {timeout:.0f} s")


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a child process: ours, with the repo's packages importable."""
    env = dict(os.environ)
    paths = [str(ROOT), str(ROOT / "lambda"), str(ROOT / "local")]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.setdefault("AWS_ACCESS_KEY_ID", "testing")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    env.setdefault("AWS_REGION", env["AWS_DEFAULT_REGION"])
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def stop(proc: subprocess.Popen[Any], grace: float = 5.0) -> None:
    """Stop a child and everything it started (it runs in a process group of its own)."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGINT, grace), (signal.SIGTERM, 3.0), (signal.SIGKILL, 3.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def server(
    argv: Sequence[str],
    port: int,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 60.0,
    log: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server until the block ends; its output goes to ``log`` (or nowhere)."""
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        list(argv),
        env=env or child_env(),
        cwd=str(cwd or ROOT),
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_port(port, timeout, proc)
        yield proc
    finally:
        stop(proc)
        if log:
            out.close()  # type: ignore[union-attr]


def run_json(argv: Sequence[str], timeout: float, env: dict[str, str] | None = None) -> Any:
    """Run a child to completion and parse the last line it prints as JSON."""
    proc = subprocess.Popen(
        list(argv),
        env=env or child_env(),
        cwd=str(ROOT),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop(proc, grace=1.0)
        raise TimeoutError(f"{argv[1:4]} did not finish within {timeout:.0f} s") from None
    except BaseException:  # Ctrl+C: take the child down with us
        stop(proc, grace=1.0)
        raise
    lines = [line for line in out.decode().splitlines() if line.strip()]
    if proc.returncode != 0 or not lines:
        errors = [line for line in err.decode().splitlines() if line.strip()]
        last = errors[-1].strip() if errors else "no output"
        raise RuntimeError(f"{' '.join(argv[1:3])} exited {proc.returncode}: {last[:300]}")
    return json.loads(lines[-1])
