"""Generate the module's inputs and outputs tables in README.md from variables.tf and outputs.tf.

The tables live between ``<!-- BEGIN_TF_DOCS -->`` and ``<!-- END_TF_DOCS -->``; everything else in
the README is left alone. Usage::

    python tools/tfdocs.py           # rewrite the tables in README.md
    python tools/tfdocs.py --check   # exit 1 if README.md is out of date (CI, tests)

Needs python-hcl2 (in the dev extra).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import hcl2

ROOT = Path(__file__).resolve().parent.parent
BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"
_OPTIONS = hcl2.SerializationOptions(
    strip_string_quotes=True, explicit_blocks=False, with_comments=False
)


def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return dict(hcl2.load(handle, serialization_options=_OPTIONS))


def _blocks(module_dir: Path, kind: str) -> list[tuple[str, dict[str, Any]]]:
    """Every ``variable``/``output`` block of the module's ``*.tf`` files, in name order."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(module_dir.glob("*.tf")):
        for block in _load(path).get(kind, []):
            for name, body in block.items():
                found[name] = body
    return sorted(found.items())


def _unwrap(expr: str) -> str:
    """``${list(string)}`` -> ``list(string)``; HCL's ``$${`` escape -> ``${``."""
    if expr.startswith("${") and expr.endswith("}"):
        expr = expr[2:-1]
    return expr.replace("$${", "${")


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _code(text: str) -> str:
    text = _cell(text)
    fence = "``" if "`" in text else "`"
    pad = " " if "`" in text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _type(body: dict[str, Any]) -> str:
    raw = body.get("type")
    if raw is None:
        return "any"
    text = _unwrap(str(raw))
    # object({a = x, b = y}) reads better with spaces after commas
    return re.sub(r",(?=\S)", ", ", text)


def _default(body: dict[str, Any]) -> str:
    value = body["default"]
    if isinstance(value, str):
        return json.dumps(_unwrap(value), ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False)


def render(module_dir: Path = ROOT) -> str:
    """The Markdown that belongs between the markers."""
    lines = [
        "### Inputs",
        "",
        "| Name | Description | Type | Default | Required |",
        "|---|---|---|---|:---:|",
    ]
    for name, body in _blocks(module_dir, "variable"):
        required = "default" not in body
        lines.append(
            "| {name} | {desc} | {type} | {default} | {req} |".format(
                name=_code(name),
                desc=_cell(_unwrap(str(body.get("description", "")))),
                type=_code(_type(body)),
                default="n/a" if required else _code(_default(body)),
                req="yes" if required else "no",
            )
        )
    lines += ["", "### Outputs", "", "| Name | Description |", "|---|---|"]
    for name, body in _blocks(module_dir, "output"):
        lines.append(f"| {_code(name)} | {_cell(_unwrap(str(body.get('description', ''))))} |")
    return "\n".join(lines) + "\n"


def update(readme: str, tables: str) -> str:
    """``readme`` with the text between the markers replaced by ``tables``."""
    start = readme.find(BEGIN)
    end = readme.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"README.md needs {BEGIN} and {END} (in that order) around the tables")
    return readme[: start + len(BEGIN)] + "\n" + tables + readme[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if README.md is stale")
    parser.add_argument("--module", type=Path, default=ROOT, help="module directory")
    parser.add_argument("--readme", type=Path, default=None, help="README to update")
    args = parser.parse_args(argv)
    readme_path = args.readme or args.module / "README.md"
    current = readme_path.read_text(encoding="utf-8")
    wanted = update(current, render(args.module))
    if args.check:
        if current != wanted:
            print(f"{readme_path} is out of date: run python tools/tfdocs.py", file=sys.stderr)
            return 1
        return 0
    if current != wanted:
        readme_path.write_text(wanted, encoding="utf-8")
        print(f"updated {readme_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
