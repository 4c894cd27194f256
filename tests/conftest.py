"""Settings every test shares: fake AWS credentials and a fixed region, so no test can reach AWS."""

from __future__ import annotations

import os
import runpy
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVENTS_DIR = Path(__file__).resolve().parent / "events"

for key, value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}.items():
    os.environ[key] = value
# A stray profile or config file on a developer's machine must not change what the tests see.
os.environ.pop("AWS_PROFILE", None)
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull

# The IAM ledger (tests/iam): every AWS call the wsgate runtime makes during the run is recorded,
# here and in the local gateway's worker processes (which run WSGATE_LOCAL_PRELOAD first).
# tests/iam/test_iam_ledger.py runs last and reads what the run recorded.
LEDGER_RECORDER = Path(__file__).resolve().parent / "iam" / "recorder.py"
_LEDGER_OWNED = "WSGATE_IAM_LEDGER_DIR" not in os.environ
if _LEDGER_OWNED:
    os.environ["WSGATE_IAM_LEDGER_DIR"] = tempfile.mkdtemp(prefix="wsgate-iam-ledger-")
os.environ["WSGATE_LOCAL_PRELOAD"] = str(LEDGER_RECORDER)
runpy.run_path(str(LEDGER_RECORDER), run_name="__wsgate_preload__")

#: Test directories whose runtime calls make up the ledger (tests/iam/test_iam_ledger.py too).
LEDGER_SUITES = ("unit", "local", "examples")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the ledger last, and note whether this run covers the suites the ledger reads."""
    ledger = [i for i in items if i.path.name == "test_iam_ledger.py"]
    items[:] = [i for i in items if i not in ledger] + ledger
    here = Path(__file__).resolve().parent
    expected = {p for suite in LEDGER_SUITES for p in (here / suite).glob("test_*.py")}
    collected = {i.path for i in items}
    selective = (
        config.getoption("keyword") or config.getoption("markexpr") or config.getoption("deselect")
    )
    complete = bool(expected) and expected <= collected and not selective
    # Read by the ledger test: "1" when this run's records cover the whole of LEDGER_SUITES.
    os.environ["WSGATE_IAM_LEDGER_COMPLETE"] = "1" if complete else "0"


def pytest_unconfigure(config: pytest.Config) -> None:
    if _LEDGER_OWNED:
        shutil.rmtree(os.environ["WSGATE_IAM_LEDGER_DIR"], ignore_errors=True)
