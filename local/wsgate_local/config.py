"""Gateway settings, read from the same place as the deployment: the example's ``main.tf``.

The ``module`` block whose ``source`` is this repository (a local path to it, or any source
naming ``wsgate``) gives the routes, stage, authorizer and environment; CLI flags override them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from wsgate.apigw import limits, selection

REPO_ROOT = Path(__file__).resolve().parents[2]


class ConfigError(Exception):
    """The configuration cannot be read; the message names the file and the fix."""


@dataclass(frozen=True)
class GatewayConfig:
    """Everything the local gateway needs to emulate one deployed module."""

    name: str
    source_dir: Path
    handler: str = "app.app"
    routes: tuple[str, ...] = ()
    two_way_routes: tuple[str, ...] = ()
    route_selection_expression: str = selection.DEFAULT_EXPRESSION
    stage_name: str = "dev"
    authorizer_handler: str | None = None
    authorizer_identity_sources: tuple[str, ...] = ("route.request.header.Authorization",)
    integration_timeout_ms: int = limits.DEFAULT_TIMEOUT_MS
    environment: dict[str, str] = field(default_factory=dict)
    #: The module always creates $connect and $default routes; these switches exist to emulate
    #: APIs that lack them (no $connect: every handshake is accepted; no $default: Forbidden).
    connect_route: bool = True
    default_route: bool = True
    static_dir: Path | None = None
    #: The module's ``http_api``: serve an HTTP API (payload 2.0) to the same handler.
    http_api: bool = False
    #: Things the user should know (e.g. a ``var.x`` with no value), printed at start.
    warnings: tuple[str, ...] = ()
    region: str = "us-east-1"
    account_id: str = "123456789012"
    #: The module's requirements_file (relative to source_dir); None: no dependencies.
    requirements_file: str | None = "requirements.txt"

    @property
    def table_name(self) -> str:
        return f"{self.name}-connections"

    @property
    def api_id(self) -> str:
        """A stable 10-character API id, as API Gateway's ids look."""
        return hashlib.sha256(self.name.encode()).hexdigest()[:10]

    @property
    def route_keys(self) -> frozenset[str]:
        return frozenset(self.routes)

    def with_overrides(self, **overrides: Any) -> GatewayConfig:
        """A copy with the given (non-None) fields replaced."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def _parse(path: Path) -> dict[str, Any]:
    import hcl2
    from hcl2 import SerializationOptions

    options = SerializationOptions(
        strip_string_quotes=True, explicit_blocks=False, with_comments=False
    )
    try:
        return hcl2.loads(path.read_text(), serialization_options=options)
    except Exception as exc:  # python-hcl2 raises several parser error types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{path}: cannot parse HCL: {first}") from exc


def _is_wsgate_source(source: Any, base: Path) -> bool:
    if not isinstance(source, str):
        return False
    if "wsgate" in source.lower():
        return True
    if source.startswith(("./", "../", "/")):
        # A local path: this checkout, or another checkout of wsgate (it carries the runtime).
        try:
            target = (base / source).resolve()
        except OSError:
            return False
        return target == REPO_ROOT or (target / "lambda" / "wsgate" / "__init__.py").is_file()
    return False


def find_module_block(main_tf: Path, missing: set[str] | None = None) -> dict[str, Any]:
    """The attributes of the wsgate ``module`` block in ``main_tf``, with ``${var.x}`` resolved
    from ``TF_VAR_x`` or the variable's default (names left unresolved are added to ``missing``)."""
    if not main_tf.is_file():
        raise ConfigError(f"{main_tf}: no such file; point `wsgate local` at an example directory")
    data = _parse(main_tf)
    variables = _variables(data)
    candidates: list[dict[str, Any]] = []
    for entry in data.get("module", []) or []:
        for block in entry.values():
            if isinstance(block, dict) and _is_wsgate_source(block.get("source"), main_tf.parent):
                candidates.append(block)
    if not candidates:
        raise ConfigError(
            f"{main_tf}: no `module` block with `source` pointing at wsgate; add one such as "
            f'module "ws" {{ source = "../.." name = "app" source_dir = "${{path.module}}/src" }}'
        )
    return _substitute(candidates[0], variables, missing if missing is not None else set())  # type: ignore[no-any-return]


_VAR = re.compile(r"\$\{\s*var\.([A-Za-z_][A-Za-z0-9_-]*)\s*\}")


def _variables(data: dict[str, Any]) -> dict[str, Any]:
    """Root-module variable values as Terraform would take them: ``TF_VAR_x``, else the default."""
    import os

    values: dict[str, Any] = {}
    for entry in data.get("variable", []) or []:
        for name, block in entry.items():
            if f"TF_VAR_{name}" in os.environ:
                values[name] = os.environ[f"TF_VAR_{name}"]
            elif isinstance(block, dict) and "default" in block:
                values[name] = block["default"]
    return values


def _substitute(value: Any, variables: dict[str, Any], missing: set[str]) -> Any:
    """Replace ``${var.x}`` references in strings (recursively in lists and maps)."""
    if isinstance(value, str):
        whole = _VAR.fullmatch(value)
        if whole and whole.group(1) in variables:
            return variables[whole.group(1)]

        def one(m: re.Match[str]) -> str:
            if m.group(1) in variables:
                return str(variables[m.group(1)])
            missing.add(m.group(1))
            return m.group(0)

        return _VAR.sub(one, value)
    if isinstance(value, list):
        return [_substitute(v, variables, missing) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, variables, missing) for k, v in value.items()}
    return value


_PATH_MODULE = re.compile(r"\$\{\s*path\.(module|root|cwd)\s*\}")


def _resolve_path(value: str, base: Path) -> Path:
    text = _PATH_MODULE.sub(lambda m: str(base if m.group(1) != "cwd" else Path.cwd()), value)
    path = Path(text)
    return path if path.is_absolute() else (base / path)


def _str_list(value: Any, key: str, main_tf: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{main_tf}: `{key}` must be a list of strings")
    return tuple(value)


def load_config(directory: str | Path) -> GatewayConfig:
    """Read ``DIR/main.tf`` into a :class:`GatewayConfig` (paths resolved, defaults applied)."""
    base = Path(directory).resolve()
    main_tf = base / "main.tf"
    missing: set[str] = set()
    block = find_module_block(main_tf, missing)
    name = block.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{main_tf}: the wsgate module block needs a `name`")
    source_dir = _resolve_path(str(block.get("source_dir", "${path.module}/src")), base)
    kwargs: dict[str, Any] = {"name": name, "source_dir": source_dir.resolve()}
    for key in ("handler", "route_selection_expression", "stage_name"):
        if isinstance(block.get(key), str):
            kwargs[key] = block[key]
    auth = block.get("authorizer_handler")
    if isinstance(auth, str) and auth and auth != "null":
        kwargs["authorizer_handler"] = auth
    kwargs["routes"] = _str_list(block.get("routes"), "routes", main_tf)
    kwargs["two_way_routes"] = _str_list(block.get("two_way_routes"), "two_way_routes", main_tf)
    if block.get("authorizer_identity_sources") is not None:
        kwargs["authorizer_identity_sources"] = _str_list(
            block["authorizer_identity_sources"], "authorizer_identity_sources", main_tf
        )
    if block.get("integration_timeout_ms") is not None:
        try:
            kwargs["integration_timeout_ms"] = int(block["integration_timeout_ms"])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{main_tf}: `integration_timeout_ms` must be a number") from exc
    if "requirements_file" in block:
        req = block["requirements_file"]
        kwargs["requirements_file"] = req if isinstance(req, str) and req != "null" else None
    env = block.get("environment")
    if isinstance(env, dict):
        kwargs["environment"] = {str(k): str(v) for k, v in env.items()}
    if block.get("http_api") in (True, "true"):
        kwargs["http_api"] = True
    static = base / "static"
    if static.is_dir():
        kwargs["static_dir"] = static
    if missing:
        kwargs["warnings"] = tuple(
            f"var.{name} has no value: set TF_VAR_{name} (left as text)" for name in sorted(missing)
        )
    return GatewayConfig(**kwargs)
