"""Fixtures of the unit tests: API Gateway event builders (from unit_support.py) and log capture."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from unit_support import ApiEvents
from wsgate import logs


@pytest.fixture
def apigw() -> ApiEvents:
    """Builders of API Gateway events: ``connect``, ``message(route, body)``, ``disconnect``."""
    return ApiEvents()


class LogLines(logging.Handler):
    """Collects the JSON lines the ``wsgate`` loggers write."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logs.JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def log_lines() -> Iterator[list[dict[str, Any]]]:
    """Every line logged under ``wsgate`` during the test, parsed."""
    handler = LogLines()
    logger = logging.getLogger("wsgate")
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)
