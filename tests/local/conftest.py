"""Fixtures of the local gateway's end-to-end tests (their helpers are in local_support.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from local_support import Recorder, recorder_gateway
from wsgate_local.testing import RunningGateway, wsgate_gateway  # noqa: F401


@pytest.fixture(scope="session")
def recorder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningGateway, Recorder]]:
    gw, record = recorder_gateway(tmp_path_factory.mktemp("recorder"))
    try:
        yield gw, record
    finally:
        gw.stop()
