"""docs/api.md, the reference of wsgate.connections and wsgate.rooms, is generated from the
docstrings (tools/apidocs.py, with pdoc) and must match them, as the README's Terraform tables
must match variables.tf."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from pathlib import Path

# By module path: the package attribute `wsgate.rooms` is the Rooms object, not the module.
rooms_module = importlib.import_module("wsgate.rooms")
store_module = importlib.import_module("wsgate.store")

ROOT = Path(__file__).resolve().parents[2]
TOOL = [sys.executable, str(ROOT / "tools" / "apidocs.py")]


def test_api_reference_is_current_with_the_docstrings():
    result = subprocess.run([*TOOL, "--check"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_every_public_method_is_documented_with_its_docstring():
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    for public, cls in (
        ("wsgate.connections", store_module.ConnectionStore),
        ("wsgate.rooms", rooms_module.Rooms),
    ):
        for name, member in vars(cls).items():
            if name.startswith("_") or not callable(member):
                continue
            assert f"### `{public}.{name}`" in text, f"{public}.{name} is missing from docs/api.md"
            first_line = inspect.getdoc(member).splitlines()[0].replace("``", "`")
            assert first_line in text, f"{public}.{name}: its docstring is not in docs/api.md"


def test_check_fails_on_a_stale_reference_and_names_the_fix(tmp_path):
    stale = tmp_path / "api.md"
    current = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    stale.write_text(current.replace("### `wsgate.connections.all`", "### `gone`"))
    result = subprocess.run(
        [*TOOL, "--check", "--output", str(stale)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 1
    assert "out of date" in result.stderr and "python tools/apidocs.py" in result.stderr


def test_readme_key_layout_names_the_prefixes_the_store_writes():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme.split("#### The connection table's key layout", 1)[1].split("\n### ", 1)[0]
    for prefix in (
        store_module.CONNECTION_PREFIX,
        store_module.ROOM_PREFIX,
        store_module.DIRECTORY_PREFIX,
        rooms_module.HISTORY_PREFIX,
    ):
        assert f"`{prefix}<" in layout, f"{prefix} is not in the README's key layout"
    assert f"`{store_module.META_SK}`" in layout
    assert f"<0-{store_module.DIRECTORY_SHARDS - 1}>" in layout
