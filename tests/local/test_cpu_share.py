"""``--cpu-share``: each worker gets Lambda's share of a CPU for its memory, however many threads
it runs, and a held worker never keeps the gateway from stopping."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from wsgate_local import cpushare
from wsgate_local.cli import build_parser
from wsgate_local.testing import start_gateway

APP = Path(__file__).resolve().parent / "apps" / "cpu"

pytestmark = pytest.mark.skipif(not cpushare.supported(), reason="--cpu-share reads Linux's /proc")


def test_auto_is_lambdas_vcpus_for_the_memory_size() -> None:
    # 1,769 MB is one vCPU (AWS Lambda Developer Guide, "Configure Lambda function memory").
    assert cpushare.parse_share("auto", 1769) == pytest.approx(1.0)
    assert cpushare.parse_share("auto", 256) == pytest.approx(0.1447, abs=1e-4)
    assert cpushare.parse_share("AUTO", 10240) == pytest.approx(5.79, abs=0.01)
    assert cpushare.parse_share("0.5", 256) == 0.5
    assert cpushare.parse_share("off", 256) is None


@pytest.mark.parametrize("text", ["half", "0", "-1", "100"])
def test_a_bad_share_is_refused_with_what_it_takes(text: str) -> None:
    with pytest.raises(ValueError, match=r"--cpu-share"):
        cpushare.parse_share(text, 256)


def test_the_cli_takes_a_share_and_defaults_to_a_whole_core() -> None:
    assert build_parser().parse_args(["local", "."]).cpu_share == "off"
    assert build_parser().parse_args(["local", ".", "--cpu-share", "auto"]).cpu_share == "auto"


def _burn(gw, seconds: float, threads: int) -> dict:
    answer = gw.lambda_client().invoke(
        FunctionName="cpu", Payload=json.dumps({"burn": seconds, "threads": threads}).encode()
    )
    assert "FunctionError" not in answer, answer["Payload"].read()
    return json.loads(answer["Payload"].read())


@pytest.mark.parametrize("threads", [1, 3])
def test_a_held_worker_gets_its_share_and_no_more(threads: int) -> None:
    share = 0.2
    gw = start_gateway(APP, cpu_share=share, workers=1)
    try:
        used = _burn(gw, 0.4, threads)
    finally:
        gw.stop()
    assert used["cpu"] >= 0.4
    # The bucket lends at most cpushare.BURST_S ahead of the share; the clock ticks are 10 ms.
    allowed = share * used["wall"] + cpushare.BURST_S + 0.02
    assert used["cpu"] <= allowed, used


def _state(pid: int) -> str | None:
    try:
        data = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    return data[data.rindex(b")") + 2 :].split()[0].decode()


def _workers() -> set[int]:
    """This process's worker processes (every gateway's it runs: session fixtures' too)."""
    return {
        int(pid)
        for pid in os.listdir("/proc")
        if pid.isdigit()
        and b"wsgate_local.container" in _cmdline(int(pid))
        and _parent(int(pid)) == os.getpid()
    }


def test_stopping_the_gateway_ends_a_worker_it_holds_stopped() -> None:
    others = _workers()
    gw = start_gateway(APP, cpu_share=0.05, workers=1)
    try:
        gw.lambda_client().invoke(
            FunctionName="cpu", InvocationType="Event", Payload=b'{"burn": 30}'
        )
        workers = _workers() - others
        assert workers
        deadline = time.monotonic() + 20
        while not any(_state(pid) == "T" for pid in workers):
            assert time.monotonic() < deadline, "no worker was ever held (stopped)"
            time.sleep(0.005)
    finally:
        started = time.monotonic()
        gw.stop()
    assert time.monotonic() - started < 10
    assert all(_state(pid) in (None, "Z") for pid in workers)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _parent(pid: int) -> int | None:
    try:
        data = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    return int(data[data.rindex(b")") + 2 :].split()[1])
