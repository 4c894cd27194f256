"""Running ``wsgate local`` for a benchmark, on a free port, until the block ends."""

from __future__ import annotations

import contextlib
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from . import procs

LOG_DIR = procs.ROOT / ".cache" / "bench" / "logs"


@dataclass
class Gateway:
    port: int
    stage: str
    pid: int = 0
    log: Path | None = None

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/{self.stage}"

    @property
    def management_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.stage}"

    @property
    def lambda_endpoint(self) -> str:
        """The gateway's local Lambda Invoke API."""
        return f"http://127.0.0.1:{self.port}"

    def dynamodb_url(self) -> str:
        """The local DynamoDB's URL, from the start banner in the gateway's log."""
        text = self.log.read_text() if self.log else ""
        for line in text.splitlines():
            if line.strip().startswith("DynamoDB"):
                return line.split()[1]
        raise RuntimeError(f"no DynamoDB line in the gateway's banner ({self.log})")


def available() -> str | None:
    """None when the local gateway can be started, else why not."""
    try:
        import wsgate_local.cli  # noqa: F401
    except ImportError as exc:
        return f"the local gateway is not importable ({exc})"
    return None


def command(app_dir: Path, port: int) -> list[str]:
    """``wsgate local DIR --port P``, through the console script when it is installed."""
    script = Path(sys.executable).parent / "wsgate"
    if script.exists() or shutil.which("wsgate"):
        exe = str(script) if script.exists() else "wsgate"
        return [exe, "local", str(app_dir), "--port", str(port)]
    return [
        procs.PYTHON,
        "-c",
        "import sys; from wsgate_local.cli import main; sys.exit(main())",
        "local",
        str(app_dir),
        "--port",
        str(port),
    ]


@contextlib.contextmanager
def running(
    app_dir: Path,
    *,
    stage: str = "dev",
    timeout: float = 60.0,
    args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> Iterator[Gateway]:
    """Start the local gateway on ``app_dir`` (with more ``args`` and ``env``) and yield where
    it listens."""
    port = procs.free_port()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = LOG_DIR / f"gateway-{app_dir.name}.log"
    child = procs.child_env(WSGATE_LOG_LEVEL="WARNING", **(env or {}))
    argv = [*command(app_dir, port), "--quiet", "--no-reload", *args]
    with procs.server(argv, port, env=child, timeout=timeout, log=log) as proc:
        gw = Gateway(port, stage, proc.pid, log)
        wait_until_ready(gw.ws_url, timeout)
        yield gw


def wait_until_ready(url: str, timeout: float) -> None:
    """Block until a WebSocket handshake succeeds: a port can open before the server's table
    and workers are ready, and nothing may be timed before they are."""
    from websockets.sync.client import connect

    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with connect(url, open_timeout=30, compression=None):
                return
        except Exception as exc:  # refused handshakes are expected while it starts
            last = exc
            time.sleep(0.25)
    raise TimeoutError(
        f"the local gateway did not accept a handshake within {timeout:.0f} s: {last}"
    )
