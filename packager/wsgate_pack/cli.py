"""Command line of the package build, as Terraform calls it.

``build.py`` (no arguments): the protocol of hashicorp/external's ``data "external"``: one
JSON object of strings on stdin (the query), one JSON object of strings on stdout (the result),
and on failure a message on stderr and a non-zero exit, which Terraform shows in the plan.

``build.py --ensure <base64sha256>``: run by a ``local-exec`` provisioner at apply time with
the same query in ``WSGATE_PACKAGE_QUERY``. It rebuilds the zip if it is missing (a saved plan
applied in a fresh checkout or on another machine) and fails unless its hash is the planned one.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from wsgate_pack.build import Request, build
from wsgate_pack.errors import BuildError


def _query(text: str) -> dict[str, str]:
    try:
        query: Any = json.loads(text or "{}")
    except ValueError as exc:
        raise BuildError(f"the build query is not JSON: {exc}") from None
    if not isinstance(query, dict):
        raise BuildError("the build query must be a JSON object")
    return {str(k): str(v) for k, v in query.items()}


def ensure(expected: str, query: dict[str, str]) -> dict[str, str]:
    result = build(Request.from_query(query))
    if result["base64sha256"] != expected:
        raise BuildError(
            f"the package built now ({result['filename']}, sha256 {result['base64sha256']}) "
            f"is not the one the plan was made with (sha256 {expected}). Something it is built "
            "from differs between plan and apply: source_dir, a requirement that is not pinned "
            "to one version (pin them with ==), or, for .pyc files, whether a Python of the "
            "runtime's version is installed. Run terraform plan again where you apply."
        )
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv[:1] == ["--ensure"] and len(argv) == 2:
            raw = os.environ.get("WSGATE_PACKAGE_QUERY")
            if raw is None:
                raise BuildError("--ensure needs the build query in WSGATE_PACKAGE_QUERY")
            result = ensure(argv[1], _query(raw))
            print(f"wsgate: {result['filename']} is the planned package ({argv[1]})")
            return 0
        if argv:
            print(__doc__, file=sys.stderr)
            return 2
        result = build(Request.from_query(_query(sys.stdin.read())))
    except BuildError as exc:
        print(f"wsgate package: {exc}", file=sys.stderr)
        return 1
    json.dump(result, sys.stdout)
    return 0
