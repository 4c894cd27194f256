"""Running ``wsgate local`` for a benchmark, on a free port, until the block ends."""

from __future__ import annotations

import contextlib
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from . import procs

LOG_DIR = procs.ROOT / ".cache" / "bench" / "logs"


@dataclass
class Gateway:
    port: int
    stage: str

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/{self.stage}"

    @property
    def management_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.stage}"


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
def running(app_dir: Path, *, stage: str = "dev", timeout: float = 60.0) -> Iterator[Gateway]:
    """Start the local gateway on ``app_dir`` and yield where it listens."""
    port = procs.free_port()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = LOG_DIR / f"gateway-{app_dir.name}.log"
    env = procs.child_env(WSGATE_LOG_LEVEL="WARNING")
    with procs.server(command(app_dir, port), port, env=env, timeout=timeout, log=log):
        yield Gateway(port, stage)
