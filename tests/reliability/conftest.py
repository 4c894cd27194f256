"""Reliability tests: the ``--soak`` switch and the ``gateway_process`` fixture.

``make test`` runs the small versions; ``make soak`` (``pytest -m soak tests/reliability
--soak``) runs the long ones, which are deselected without ``--soak``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from reliability_support import EXAMPLES, GatewayProcess


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--soak",
        action="store_true",
        default=False,
        help="run the long reliability tests (marked soak): 500 clients over 60 s and more",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "soak: a long reliability run; only with --soak")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--soak", default=False):
        return
    skipped = [item for item in items if item.get_closest_marker("soak") is not None]
    if skipped:
        config.hook.pytest_deselected(items=skipped)
        items[:] = [item for item in items if item.get_closest_marker("soak") is None]


@pytest.fixture(scope="session")
def soak(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--soak", default=False))


@pytest.fixture
def gateway_process(tmp_path: Path) -> Iterator[Any]:
    """A factory: ``gateway_process(DIR, *flags)`` starts ``wsgate local``; stopped after."""
    started: list[GatewayProcess] = []

    def start(directory: Path, *args: str, env: dict[str, str] | None = None) -> GatewayProcess:
        workdir = tmp_path / f"gateway{len(started)}"
        workdir.mkdir()
        gateway = GatewayProcess(directory, workdir, *args, env=env)
        started.append(gateway)
        return gateway

    yield start
    for gateway in reversed(started):
        gateway.stop()


@pytest.fixture(scope="session")
def chat_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    """``wsgate local examples/chat`` shared by the tests that play chat clients against it
    (each leaves the table as it found it); its console lines are kept (no ``--quiet``)."""
    gateway = GatewayProcess(
        EXAMPLES / "chat",
        tmp_path_factory.mktemp("chat"),
        "--workers",
        "2",
        "--show-metrics",
        quiet=False,
    )
    try:
        yield gateway
    finally:
        gateway.stop()
