"""A worker held to its CPU share may be stopped (SIGSTOP) at any moment: it must still never
outlive ``wsgate local``, however the gateway ends."""

from __future__ import annotations

import re
import signal
from pathlib import Path
from typing import Any

import boto3
import pytest
from reliability_support import ROOT, running, wait_until
from wsgate_local import cpushare

APP = ROOT / "tests" / "local" / "apps" / "cpu"

pytestmark = pytest.mark.skipif(not cpushare.supported(), reason="--cpu-share reads Linux's /proc")


def _stopped(pid: int) -> bool:
    try:
        data = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return data[data.rindex(b")") + 2 :].split()[0] == b"T"


def test_held_workers_end_when_the_gateway_is_killed(gateway_process: Any) -> None:
    gateway = gateway_process(APP, "--cpu-share", "0.05", "--workers", "2")
    assert "CPU per worker       0.050 vCPU" in gateway.output()
    lambda_url = re.search(r"Lambda Invoke API\s+(\S+)", gateway.output())
    assert lambda_url is not None
    client = boto3.client(
        "lambda",
        endpoint_url=lambda_url.group(1),
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    for _ in range(2):
        client.invoke(FunctionName="cpu", InvocationType="Event", Payload=b'{"burn": 60}')
    workers = [pid for pid, cmd in gateway.children().items() if "wsgate_local.container" in cmd]
    assert len(workers) == 2
    wait_until(lambda: any(_stopped(pid) for pid in workers), 20, "a worker to be held")
    gateway.proc.send_signal(signal.SIGKILL)  # no handler of the gateway's runs
    gateway.proc.wait(10)
    wait_until(lambda: not any(running(pid) for pid in workers), 15, "the workers to exit")
