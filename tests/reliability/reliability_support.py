"""Helpers of the reliability tests: ``wsgate local`` in a process of its own, and polling.

:class:`GatewayProcess` starts ``wsgate local`` exactly as a developer types it, so that its
memory can be measured apart from the test's clients, its console lines read, and the moto table
scanned from the outside through the DynamoDB URL it prints.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
APPS = Path(__file__).resolve().parent / "apps"


class GatewayProcess:
    """``wsgate local DIR --port 0 ...`` in a child process; ``stop()`` ends it."""

    def __init__(
        self,
        directory: Path,
        workdir: Path,
        *args: str,
        env: dict[str, str] | None = None,
        quiet: bool = True,
    ):
        self.out_path = workdir / "gateway.out"
        self.err_path = workdir / "gateway.err"
        command = [
            sys.executable,
            "-m",
            "wsgate_local.cli",
            "local",
            str(directory),
            "--port",
            "0",
            *(["--quiet"] if quiet else []),
            "--no-reload",
            *args,
        ]
        self._out = self.out_path.open("wb")
        self._err = self.err_path.open("wb")
        self.proc = subprocess.Popen(
            command,
            stdout=self._out,
            stderr=self._err,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"},
            cwd=ROOT,
        )
        try:
            self._wait_ready(60)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while "Ctrl+C to stop" not in self.output():
            if self.proc.poll() is not None:
                raise RuntimeError(f"wsgate local exited: {self.output()}{self.errors()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"wsgate local did not start: {self.output()}{self.errors()}")
            time.sleep(0.05)
        text = self.output()
        self.ws_url = _find(r"WebSocket URL\s+(\S+)", text)
        self.endpoint = _find(r"management endpoint\s+(\S+)", text)
        self.dynamodb_url = _find(r"DynamoDB\s+(\S+)", text)
        self.table = _find(r"\(table (\S+)\)", text)

    def output(self) -> str:
        """What the gateway printed on stdout: its banner and its console lines."""
        return self.out_path.read_text(errors="replace")

    def errors(self) -> str:
        """Its stderr, where the workers' output (the runtime's JSON logs, EMF lines) goes."""
        return self.err_path.read_text(errors="replace")

    def rss_kb(self) -> int:
        """Resident memory of the gateway process and of its DynamoDB server (not the workers,
        which are bounded by the function's ``memory_size``)."""
        pids = [self.proc.pid]
        server = self.dynamodb_server_pid()
        if server is not None:
            pids.append(server)
        return sum(_rss_kb(pid) for pid in pids)

    def children(self) -> dict[int, str]:
        """The gateway's child processes: pid -> command line."""
        found = {}
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            for pid in (task / "children").read_text().split():
                with contextlib.suppress(OSError):
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                    found[int(pid)] = cmdline.replace(b"\0", b" ").decode(errors="replace")
        return found

    def dynamodb_server_pid(self) -> int | None:
        """The process serving the local DynamoDB, a child of the gateway."""
        for pid, cmdline in self.children().items():
            if "wsgate_local.dynamo_server" in cmdline:
                return pid
        return None

    def dynamodb(self) -> Any:
        import boto3

        return boto3.client("dynamodb", endpoint_url=self.dynamodb_url, region_name="us-east-1")

    def scan(self) -> list[dict[str, Any]]:
        """Every item of the connection table (the test may Scan; the runtime never does)."""
        client = self.dynamodb()
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {"TableName": self.table}
        while True:
            answer = client.scan(**request)
            items.extend(answer.get("Items", []))
            if "LastEvaluatedKey" not in answer:
                return items
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def connection_items(self) -> list[dict[str, Any]]:
        """Connection and membership items: none may outlive its connection's $disconnect."""
        return [
            item
            for item in self.scan()
            if item["pk"]["S"].startswith("conn#") or item["sk"]["S"].startswith("conn#")
        ]

    def live_connections(self) -> list[dict[str, Any]]:
        import urllib.request

        with urllib.request.urlopen(self.endpoint + "/@connections", timeout=10) as resp:
            return json.load(resp)["connections"]  # type: ignore[no-any-return]

    def emf_totals(self) -> Counter[str]:
        """The runtime's EMF counters (MessagesSent, Retries, ...) summed over every line."""
        totals: Counter[str] = Counter()
        for line in self.errors().splitlines():
            if '"_aws"' not in line:
                continue
            with contextlib.suppress(ValueError):
                document = json.loads(line)
                for metric in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                    totals[metric["Name"]] += int(document.get(metric["Name"], 0))
        return totals

    def runtime_logs(self, level: str | None = None) -> list[dict[str, Any]]:
        """The runtime's JSON log lines (workers' stderr), optionally of one level."""
        lines = []
        for line in self.errors().splitlines():
            if not line.startswith("{") or '"_aws"' in line:
                continue
            with contextlib.suppress(ValueError):
                document = json.loads(line)
                if level is None or document.get("level") == level:
                    lines.append(document)
        return lines

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._out.close()
        self._err.close()


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc status")


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (an exited one waiting to be reaped is not)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] not in ("Z", "X")


def _find(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    if match is None:
        raise AssertionError(f"{pattern!r} not in the gateway's banner:\n{text}")
    return match.group(1)


def wait_until(predicate: Any, timeout: float, what: str, interval: float = 0.2) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)
