"""The peer: serverless-offline's WebSocket emulation with an equivalent Python echo handler.

``serverless@3`` and ``serverless-offline@13`` are installed with ``npm install`` into
``.cache/bench/peer`` the first time (when npm can reach its registry); the service definition
and handler come from ``bench/peer_app``. serverless-offline runs Python handlers through its
python runner, a long-lived ``python3`` process per function instance; ``VIRTUAL_ENV`` puts this
project's virtualenv first on its PATH so the handler finds boto3.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from . import gateway, procs

CACHE = procs.ROOT / ".cache" / "bench" / "peer"
APP = Path(__file__).resolve().parent / "peer_app"
PACKAGES = {"serverless": "3", "serverless-offline": "13"}
INSTALL_TIMEOUT = 300


class Unavailable(Exception):
    """The peer cannot run here; the message says why."""


def _installed() -> bool:
    for name, major in PACKAGES.items():
        manifest = CACHE / "node_modules" / name / "package.json"
        try:
            version = json.loads(manifest.read_text())["version"]
        except (OSError, ValueError, KeyError):
            return False
        if version.split(".")[0] != major:
            return False
    return True


def ensure_installed() -> str:
    """Install the peer once; returns the versions in use or raises :class:`Unavailable`."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise Unavailable("node and npm are not installed")
    CACHE.mkdir(parents=True, exist_ok=True)
    if not _installed():
        specs = [f"{name}@{major}" for name, major in PACKAGES.items()]
        try:
            proc = subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", *specs],
                cwd=CACHE,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            raise Unavailable(f"npm install took over {INSTALL_TIMEOUT} s") from None
        if proc.returncode != 0 or not _installed():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise Unavailable(f"npm install failed: {tail[0][:160]}")
    for item in APP.iterdir():
        if item.is_file():
            shutil.copy2(item, CACHE / item.name)
    versions = []
    for name in PACKAGES:
        manifest = CACHE / "node_modules" / name / "package.json"
        versions.append(f"{name} {json.loads(manifest.read_text())['version']}")
    return ", ".join(versions)


@contextlib.contextmanager
def running(stage: str = "dev") -> Iterator[tuple[str, int]]:
    """Start serverless-offline and yield its WebSocket URL and process id."""
    ws_port, http_port, lambda_port = procs.free_port(), procs.free_port(), procs.free_port()
    env = procs.child_env(
        PEER_ENDPOINT=f"http://127.0.0.1:{ws_port}",
        VIRTUAL_ENV=str(procs.ROOT / ".venv"),
        SLS_TELEMETRY_DISABLED="1",
        SLS_NOTIFICATIONS_MODE="off",
        SLS_DEPRECATION_DISABLE="*",
        SERVERLESS_PLATFORM_STAGE="offline",
    )
    argv = [
        "node",
        str(CACHE / "node_modules" / "serverless" / "bin" / "serverless.js"),
        "offline",
        "start",
        "--host",
        "127.0.0.1",
        "--stage",
        stage,
        "--websocketPort",
        str(ws_port),
        "--httpPort",
        str(http_port),
        "--lambdaPort",
        str(lambda_port),
    ]
    log = procs.ROOT / ".cache" / "bench" / "logs" / "serverless-offline.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    url = f"ws://127.0.0.1:{ws_port}/{stage}"
    with procs.server(argv, ws_port, env=env, cwd=CACHE, timeout=90, log=log) as proc:
        gateway.wait_until_ready(url, 90)
        yield url, proc.pid
