"""wscat, the terminal client a user reaches for, driven from a test (installed by
``make wscat-deps`` from ``tools/wscat``, which pins it)."""

from __future__ import annotations

import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

WSCAT = Path(__file__).resolve().parents[2] / "tools" / "wscat" / "node_modules" / ".bin" / "wscat"


def wscat_path() -> str | None:
    """The pinned wscat, else one on PATH, else None."""
    return str(WSCAT) if WSCAT.is_file() else shutil.which("wscat")


class Wscat:
    """``wscat -c URL`` with piped stdin: each line typed is sent as a text message, and each
    message received is printed on a line of its own (after readline's "> " prompt)."""

    def __init__(self, url: str, *args: str) -> None:
        binary = wscat_path()
        assert binary, "wscat is not installed (make wscat-deps)"
        self.proc = subprocess.Popen(
            [binary, "-c", url, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        self.errors: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()
        threading.Thread(target=self._pump_errors, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            text = line.rstrip("\n")
            while text.startswith("> "):
                text = text[2:]
            if text and text != ">":
                self._lines.put(text)

    def _pump_errors(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.errors.append(line.rstrip("\n"))

    def type(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def received(self, timeout: float = 10.0) -> str:
        """The next message wscat printed."""
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(
                f"wscat printed nothing in {timeout} s; stderr: {self.errors}"
            ) from None

    def wait_connected(self, is_open: Callable[[], bool], timeout: float = 30.0) -> None:
        """Wait until ``is_open()`` (e.g. the gateway logged the $connect): wscat drops what is
        typed before its socket is open."""
        deadline = time.monotonic() + timeout
        while not is_open():
            assert self.proc.poll() is None, f"wscat exited: {self.errors}"
            assert time.monotonic() < deadline, "wscat never connected"
            time.sleep(0.05)

    def close(self) -> int:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()  # end of input: wscat closes the socket and exits
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def __enter__(self) -> Wscat:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
