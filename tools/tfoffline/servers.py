"""Long-lived stand-in provider servers that terraform reattaches to."""

from __future__ import annotations

import atexit
import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tfoffline.install import PROVIDERS

live_servers: list[Any] = []


@atexit.register
def _stop_servers() -> None:
    for servers in list(live_servers):
        servers.stop()


class ProviderServers:
    """Long-lived stand-in provider processes that terraform reattaches to.

    Starting a Python provider costs a few hundred milliseconds and Terraform starts each
    provider several times per command; one server per working copy, handed to every command
    through ``TF_REATTACH_PROVIDERS``, removes that cost. The servers die with this process.
    """

    def __init__(self, env: Mapping[str, str], cwd: Path) -> None:
        self.procs: list[subprocess.Popen[str]] = []
        reattach: dict[str, Any] = {}
        penv = dict(env)
        penv["PYTHONPATH"] = penv["TFOFFLINE_PATH"]
        try:
            for name in PROVIDERS:
                proc = subprocess.Popen(
                    [sys.executable, "-S", "-m", "tfoffline.plugin", name, "--reattach"],
                    stdout=subprocess.PIPE,
                    stderr=None,
                    stdin=subprocess.DEVNULL,
                    env=penv,
                    cwd=cwd,
                    text=True,
                )
                self.procs.append(proc)
                assert proc.stdout is not None
                sock = proc.stdout.readline().strip()
                if not sock:
                    raise RuntimeError(
                        f"stand-in provider {name} did not start (exit {proc.wait()})"
                    )
                reattach[f"registry.terraform.io/hashicorp/{name}"] = {
                    "Protocol": "grpc",
                    "ProtocolVersion": 6,
                    "Pid": proc.pid,
                    "Test": True,
                    "Addr": {"Network": "unix", "String": sock},
                }
        except BaseException:
            self.stop()
            raise
        self.reattach = json.dumps(reattach)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        self.procs = []
