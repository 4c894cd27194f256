"""Fixtures for Terraform tests: the real ``terraform`` with offline stand-in providers.

``terraform_config`` is a factory: ``tf = terraform_config("examples/echo")`` gives a
:class:`tfoffline.Terraform` on a private working copy, removed after the test.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"

if str(REPO_ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(REPO_ROOT / "tools"))

from tfoffline import Terraform  # noqa: E402


@pytest.fixture
def terraform_config() -> Iterator[Callable[..., Terraform]]:
    """Factory: ``terraform_config(path, **kw)`` -> an initialised-on-demand ``Terraform``."""
    made: list[Terraform] = []

    def make(config_dir: str | Path, **kw: Any) -> Terraform:
        tf = Terraform(config_dir, **kw)
        made.append(tf)
        return tf

    yield make
    for tf in made:
        tf.cleanup()


@pytest.fixture(scope="session")
def valid_applied() -> Iterator[tuple[Terraform, dict[str, Any]]]:
    """``tests/terraform/fixtures/valid`` applied once per session: (Terraform, outputs)."""
    tf = Terraform(FIXTURES / "valid")
    try:
        yield tf, tf.apply()
    finally:
        tf.cleanup()


@pytest.fixture
def fixture_config(terraform_config: Callable[..., Terraform]) -> Callable[[str], Terraform]:
    """``fixture_config("valid")`` -> ``Terraform`` for ``tests/terraform/fixtures/valid``."""
    return lambda name: terraform_config(FIXTURES / name)
