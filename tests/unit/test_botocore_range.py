"""The direct sender's wire-equivalence tests pass on the oldest and the newest botocore it is
used with, each installed into ``.cache/botocore/<version>`` from PyPI once and reused after."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import botocore
import pytest
from wsgate import senders

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "botocore"
PIP_INSTALL = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile"]
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]


def installed(version: str) -> Path | None:
    """A directory holding botocore ``version`` (None: the running one is that version)."""
    if botocore.__version__ == version:
        return None
    target = CACHE / version
    if (target / "botocore" / "__init__.py").exists():
        return target
    done = subprocess.run(
        [*PIP_INSTALL, "--target", str(target), f"botocore=={version}"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        pytest.skip(f"needs PyPI to install botocore {version} (pip said: {done.stderr[-300:]})")
    return target


@pytest.mark.slow
@pytest.mark.parametrize("version", [senders.OLDEST_TESTED, senders.NEWEST_TESTED])
def test_wire_equivalence_holds_on_the_edges_of_the_tested_range(version: str) -> None:
    assert senders.in_tested_range(version)
    target = installed(version)
    env = {**os.environ, "WSGATE_EXPECT_BOTOCORE": version}
    paths = [str(ROOT / "lambda")] + ([str(target)] if target else [])
    env["PYTHONPATH"] = os.pathsep.join([*reversed(paths), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [*PYTEST, str(Path(__file__).with_name("test_sender_wire.py"))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "skipped" not in done.stdout


@pytest.mark.slow
def test_the_oldest_botocore_sends_lambda_calls_to_aws_endpoint_url_lambda() -> None:
    """Fan-out reaches the local gateway's Invoke API through botocore's own service-specific
    endpoint variable; the oldest botocore the runtime supports must read it."""
    target = installed(senders.OLDEST_TESTED)
    probe = (
        "import botocore, botocore.session\n"
        f"assert botocore.__version__ == {senders.OLDEST_TESTED!r}, botocore.__version__\n"
        "client = botocore.session.get_session().create_client('lambda', region_name='us-east-1')\n"
        "print(client.meta.endpoint_url)\n"
    )
    env = {**os.environ, "AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:9"}
    if target:
        env["PYTHONPATH"] = os.pathsep.join([str(target), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "http://127.0.0.1:9"
