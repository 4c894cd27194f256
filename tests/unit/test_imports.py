"""The runtime stays light: ``import wsgate`` loads no boto3, and it imports nothing but the
standard library, boto3/botocore and (guarded) aws_xray_sdk, so the Lambda zip needs nothing else.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

RUNTIME = Path(__file__).resolve().parents[2] / "lambda" / "wsgate"
ALLOWED_THIRD_PARTY = {"boto3", "botocore"}
GUARDED_ONLY = {"aws_xray_sdk"}


def modules() -> list[Path]:
    return sorted(RUNTIME.rglob("*.py"))


def imported_names(tree: ast.AST) -> list[tuple[str, ast.stmt]]:
    """Top-level package names of every absolute import in ``tree``, with the statement."""
    found: list[tuple[str, ast.stmt]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name.split(".")[0], node) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module.split(".")[0], node))
    return found


def guarded(tree: ast.AST, statement: ast.stmt) -> bool:
    """True if ``statement`` sits in a ``try`` that catches ImportError."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(statement is s for s in ast.walk(node)):
            for handler in node.handlers:
                names = ast.unparse(handler.type) if handler.type else ""
                if "ImportError" in names or "ModuleNotFoundError" in names:
                    return True
    return False


def test_the_runtime_has_modules_to_check() -> None:
    names = {p.name for p in modules()}
    assert {"app.py", "events.py", "messaging.py", "zappa.py"} <= names


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(RUNTIME)))
def test_module_imports_only_stdlib_boto3_and_guarded_xray(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for name, statement in imported_names(tree):
        if name in sys.stdlib_module_names or name in ALLOWED_THIRD_PARTY or name == "wsgate":
            continue
        if name in GUARDED_ONLY:
            assert guarded(tree, statement), f"{path.name}: import {name} must be in try/except"
            continue
        pytest.fail(f"{path.name} imports {name!r}, which the Lambda runtime does not provide")


def test_import_wsgate_loads_no_boto3() -> None:
    code = (
        "import sys, json, wsgate\n"
        "from wsgate import App, Event, Response, WebSocketHandler, handles, authorizer\n"
        "import wsgate.compat.zappa\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('boto3', 'botocore', 'aws_xray_sdk'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == []


def test_every_public_name_resolves() -> None:
    code = "import wsgate\nfor name in wsgate.__all__:\n    getattr(wsgate, name)\nprint('ok')\n"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "ok"
