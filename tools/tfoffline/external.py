"""Stand-in hashicorp/external: ``data "external"`` really runs the program.

The behaviour follows the provider's source (internal/provider/data_source.go, v2.4.0): the
query's null values are dropped and the rest is written to the program's stdin as one JSON
object; the program runs in ``working_dir`` (default: Terraform's working directory) without a
shell; a non-zero exit is an error that carries the program's stderr; stdout must be one JSON
object whose values are all strings, which becomes ``result``; ``id`` is always ``-``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

from tfoffline.plugin import ProviderError


def _attr(kind: str, t: Any) -> dict[str, Any]:
    a: dict[str, Any] = {"type": t, "description_kind": "plain"}
    a[kind] = True
    return a


SCHEMA: dict[str, Any] = {
    "provider": {"version": 0, "block": {"attributes": {}, "description_kind": "plain"}},
    "resource_schemas": {},
    "data_source_schemas": {
        "external": {
            "version": 0,
            "block": {
                "attributes": {
                    "program": _attr("required", ["list", "string"]),
                    "working_dir": _attr("optional", "string"),
                    "query": _attr("optional", ["map", "string"]),
                    "result": _attr("computed", ["map", "string"]),
                    "id": _attr("computed", "string"),
                },
                "description_kind": "plain",
            },
        }
    },
}


def run_program(config: dict[str, Any]) -> dict[str, str]:
    """Run the configured program with the query on stdin; its JSON object of strings."""
    program = [a for a in (config.get("program") or []) if a]
    if not program:
        raise ProviderError(
            "External Program Missing: the data source was configured without a program to execute"
        )
    workdir = config.get("working_dir") or None
    exe = program[0]
    # Go's exec.LookPath: a name with a slash is checked as given, others searched on PATH.
    found = exe if "/" in exe else shutil.which(exe)
    if not found or os.path.isdir(found) or not os.access(found, os.X_OK):
        raise ProviderError(
            "External Program Lookup Failed: the data source received an unexpected error "
            "while attempting to find the program. The program must be accessible and "
            f"executable.\nProgram: {exe}"
        )
    query = {k: v for k, v in (config.get("query") or {}).items() if v is not None}
    try:
        proc = subprocess.run(
            program,
            input=json.dumps(query).encode(),
            capture_output=True,
            cwd=workdir,
        )
    except OSError as exc:
        raise ProviderError(
            f"External Program Execution Failed\nProgram: {exe}\nState: {exc}"
        ) from None
    if proc.returncode != 0:
        stderr = proc.stderr.decode(errors="replace")
        if stderr:
            raise ProviderError(
                "External Program Execution Failed: the data source received an unexpected "
                f"error while attempting to execute the program.\n\nProgram: {exe}\n"
                f"Error Message: {stderr}\nState: exit status {proc.returncode}"
            )
        raise ProviderError(
            "External Program Execution Failed: the program was executed, however it "
            f"returned no additional error messaging.\n\nProgram: {exe}\n"
            f"State: exit status {proc.returncode}"
        )
    try:
        result = json.loads(proc.stdout)
    except ValueError as exc:
        result, problem = None, str(exc)
    else:
        problem = "not a JSON object of string values"
    if not isinstance(result, dict) or not all(isinstance(v, str) for v in result.values()):
        raise ProviderError(
            "Unexpected External Program Results: program output must be a JSON encoded map "
            f"of string keys and string values.\n\nProgram: {exe}\nResult Error: {problem}"
        )
    return result


class ExternalBehaviour:
    def schema(self) -> dict[str, Any]:
        return SCHEMA

    def configure(self, config: dict[str, Any]) -> None:
        pass

    def validate(self, kind: str, type_name: str, config: dict[str, Any]) -> list[str]:
        program = config.get("program")
        if isinstance(program, list) and len(program) == 0:
            return ["Invalid Attribute Value: program list must contain at least 1 elements"]
        return []

    def plan(
        self, type_name: str, block: dict[str, Any], prior: Any, planned: dict[str, Any]
    ) -> dict[str, Any]:
        return planned

    def apply(
        self, type_name: str, block: dict[str, Any], planned: dict[str, Any], prior: Any = None
    ) -> dict[str, Any]:
        return planned

    def read_data(
        self, type_name: str, block: dict[str, Any], config: dict[str, Any]
    ) -> dict[str, Any]:
        out = dict(config)
        out["result"] = run_program(config)
        out["id"] = "-"
        return out
