"""Generate docs/api.md, the API reference of ``wsgate.rooms`` and ``wsgate.connections``, from
the docstrings, read with pdoc's documentation model (signatures, docstrings, in source order).

Usage::

    python tools/apidocs.py           # rewrite docs/api.md
    python tools/apidocs.py --check   # exit 1 if docs/api.md is out of date (CI, tests)

Needs pdoc (pinned in the dev extra).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pdoc
import pdoc.doc

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "api.md"

#: (module, class, the name users call it by, what it is for).
SECTIONS = [
    (
        "wsgate.store",
        "ConnectionStore",
        "wsgate.connections",
        "who is connected: one item per connection, with its identity, data and rooms",
    ),
    (
        "wsgate.rooms",
        "Rooms",
        "wsgate.rooms",
        "named groups of connections to publish to, with an optional history",
    ),
]

_LITERAL = re.compile(r"``([^`]+)``")
_ROLE = re.compile(r":(?:func|class|meth|mod|attr):`~?([^`]+)`")


def markdown(docstring: str) -> str:
    """The reStructuredText our docstrings use (````code````, ``:func:`x```, ``::`` blocks)
    as Markdown."""
    text = _ROLE.sub(r"`\1`", _LITERAL.sub(r"`\1`", docstring.strip()))
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.rstrip().endswith("::"):
            out.append(line.rstrip()[:-1].rstrip() + ":" if line.strip() != "::" else "")
            i += 1
            block: list[str] = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith("    ")):
                block.append(lines[i][4:])
                i += 1
            while block and not block[-1].strip():
                block.pop()
            out += ["", "```python", *block, "```", ""]
            continue
        out.append(line)
        i += 1
    return "\n".join(out).strip()


def render() -> str:
    parts = [
        "# API reference: rooms and connections",
        "",
        "<!-- Generated from the docstrings by tools/apidocs.py (pdoc "
        f"{pdoc.__version__}); do not edit by hand. tests/docs/test_apidocs.py checks that it is "
        "current. -->",
        "",
        "The connection store and rooms of the `wsgate` runtime. Both work from any Lambda with "
        "`WSGATE_TABLE` set (the module sets it; see the README's key layout of the table).",
    ]
    for module_name, class_name, public, purpose in SECTIONS:
        module = pdoc.doc.Module.from_name(module_name)
        cls = module.get(class_name)
        assert isinstance(cls, pdoc.doc.Class), f"{module_name}.{class_name} is not a class"
        parts += ["", f"## `{public}`: {purpose}", ""]
        parts += [
            f"`{public}` is the shared `{module_name}.{class_name}`. " + markdown(cls.docstring)
        ]
        for member in cls.own_members:
            if not isinstance(member, pdoc.doc.Function) or member.name.startswith("_"):
                continue
            signature = str(member.signature_without_self).replace("typing.", "")
            parts += ["", f"### `{public}.{member.name}`", ""]
            parts += ["```python", f"{public}.{member.name}{signature}", "```", ""]
            parts += [markdown(member.docstring) or "(undocumented)"]
    return "\n".join(parts).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is out of date")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="default docs/api.md")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.is_file() else ""
        if current != text:
            print(
                f"{args.output} is out of date with the docstrings: run python tools/apidocs.py",
                file=sys.stderr,
            )
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
