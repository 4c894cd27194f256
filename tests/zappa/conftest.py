"""Run Zappa 0.63's own WebSocket tests against ``wsgate.compat.zappa``.

The test module is Zappa's, unedited (``zappa_upstream.py`` fetches it, pinned and hash-checked).
The only adaptation is an import mapping: ``zappa``, ``zappa.websocket`` and ``zappa.handler``
name the compat module, as they would for a user who swapped the package. Tests of parts of
Zappa that wsgate replaces rather than reimplements (its CLI, its CloudFormation generator) are
deselected by name below, each with its reason; every other test must pass.
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Iterator

import pytest
import zappa_upstream
from wsgate.compat import zappa as compat

UPSTREAM = zappa_upstream.ensure()
TEST_FILE = "upstream/tests/test_websocket.py"

# Only the test module is collected; the others are imported by it by name.
collect_ignore = [
    str(UPSTREAM / name) for name in zappa_upstream.FILES if not name.endswith("/test_websocket.py")
]

_CFN = "Zappa's CloudFormation generator (zappa.core); wsgate's Terraform module does this"
_SCAN = "Zappa CLI's deploy-time import scan; wsgate names the module in WSGATE_ZAPPA_MODULE"
_IAM = "Zappa CLI's IAM assembly; wsgate's policies are iam.tf, tested in tests/terraform"

#: test name -> why it does not apply to wsgate (one line each).
DESELECTED = {
    "TestWebSocketCFTemplate::test_websocket_resources_created": _CFN,
    "TestWebSocketCFTemplate::test_no_websocket_resources_when_disabled": _CFN,
    "TestWebSocketCFTemplate::test_websocket_lambda_qualifier_is_applied": _CFN,
    "TestDetectWebSocketUsage::test_detects_from_import": _SCAN,
    "TestDetectWebSocketUsage::test_detects_import_module": _SCAN,
    "TestDetectWebSocketUsage::test_detects_nested_module": _SCAN,
    "TestDetectWebSocketUsage::test_no_detection_without_import": _SCAN,
    "TestDetectWebSocketUsage::test_string_mention_not_detected": _SCAN,
    "TestWebSocketIAMPermissions::test_websocket_adds_manage_connections_permission": _IAM,
    "TestWebSocketIAMPermissions::test_websocket_appends_to_existing_permissions": _IAM,
    "TestWebSocketIAMPermissions::test_no_websocket_no_permission_added": _IAM,
}


def _map_zappa_onto_compat() -> None:
    package = types.ModuleType("zappa")
    package.__path__ = []  # a package, so ``import zappa.websocket`` works
    package.websocket = compat  # type: ignore[attr-defined]
    package.handler = compat  # type: ignore[attr-defined]
    sys.modules.update({"zappa": package, "zappa.websocket": compat, "zappa.handler": compat})


_map_zappa_onto_compat()
if str(UPSTREAM) not in sys.path:
    sys.path.insert(0, str(UPSTREAM))  # ``tests.test_websocket_settings`` and friends


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = [item for item in items if item.nodeid.split("::")[0].endswith(TEST_FILE)]
    if not here:
        return
    found = set()
    keep, drop = [], []
    for item in items:
        name = "::".join(item.nodeid.split("::")[1:])
        if item in here and name in DESELECTED:
            found.add(name)
            drop.append(item)
        else:
            keep.append(item)
    missing = set(DESELECTED) - found
    if missing:
        raise pytest.UsageError(f"Zappa's test file no longer has {sorted(missing)}")
    config.hook.pytest_deselected(items=drop)
    items[:] = keep


@pytest.fixture(autouse=True)
def _zappa_environment() -> Iterator[None]:
    """Zappa's tests assume Zappa's environment: no wsgate endpoint or table, and they set
    ``STAGE``/``REQUEST_DOMAIN_NAME`` as Zappa's handler does; those stay in this directory."""
    saved = dict(os.environ)
    for name in ("WSGATE_ENDPOINT", "WSGATE_TABLE", "WSGATE_ZAPPA_MODULE"):
        os.environ.pop(name, None)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(autouse=True, scope="module")
def _fresh_registry() -> Iterator[None]:
    compat._reset()
    yield
    compat._reset()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if terminalreporter.stats.get("deselected"):
        terminalreporter.section("Zappa's tests not run, and why")
        for name, reason in DESELECTED.items():
            terminalreporter.line(f"{name}: {reason}")
