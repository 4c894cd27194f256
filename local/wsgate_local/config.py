"""Gateway settings, read from the same place as the deployment: the example's ``main.tf``.

The ``module`` block whose ``source`` is this repository (a local path to it, or any source
naming ``wsgate``) gives the routes, stage, authorizer and environment; CLI flags override them.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import os
import re
from collections.abc import Mapping
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
    #: The function's memory in MB (the module's ``memory_size``, default 256): the worker is
    #: killed when its resident memory goes over it, as Lambda kills the function.
    memory_size: int = 256
    #: The functions' own ``timeout`` and ``authorizer_timeout`` in seconds (the module's
    #: defaults): Lambda ends an invocation there, whatever API Gateway's integration timeout.
    timeout_s: float = 29.0
    authorizer_timeout_s: float = 29.0
    #: The stage's default route throttling (``throttling_burst_limit``/``_rate_limit``, the
    #: module's defaults): a token bucket per route, ``$connect`` included.
    throttling_burst_limit: int = 500
    throttling_rate_limit: float = 1000.0
    environment: dict[str, str] = field(default_factory=dict)
    #: The module's ``fanout_threshold`` and ``fanout_shard_size`` (its defaults): the workers
    #: get them as ``WSGATE_FANOUT_THRESHOLD`` and ``WSGATE_FANOUT_SHARD_SIZE``, as the module
    #: sets them on the deployed functions.
    fanout_threshold: int = 1000
    fanout_shard_size: int = 1000
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


def find_module_block(
    main_tf: Path,
    missing: set[str] | None = None,
    variables: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The attributes of the wsgate ``module`` block in ``main_tf``, with ``${var.x}`` resolved
    as Terraform would (see :func:`variable_values`; names left unresolved are added to
    ``missing``). An argument the module does not declare raises ``ConfigError``."""
    if not main_tf.is_file():
        raise ConfigError(f"{main_tf}: no such file; point `wsgate local` at an example directory")
    data = _parse(main_tf)
    candidates: list[tuple[str, dict[str, Any]]] = []
    for entry in data.get("module", []) or []:
        for label, block in entry.items():
            if isinstance(block, dict) and _is_wsgate_source(block.get("source"), main_tf.parent):
                candidates.append((label, block))
    if not candidates:
        raise ConfigError(
            f"{main_tf}: no `module` block with `source` pointing at wsgate; add one such as "
            f'module "ws" {{ source = "../.." name = "app" source_dir = "${{path.module}}/src" }}'
        )
    label, block = candidates[0]
    check_arguments(main_tf, label, block)
    values = variable_values(main_tf.parent, data, variables)
    return _substitute(block, values, missing if missing is not None else set())  # type: ignore[no-any-return]


_VAR = re.compile(r"\$\{\s*var\.([A-Za-z_][A-Za-z0-9_-]*)\s*\}")


def _declared_variables(base: Path, main: dict[str, Any]) -> dict[str, Any]:
    """The root module's ``variable`` blocks (name -> block), from every ``*.tf`` in ``base``."""
    declared: dict[str, Any] = {}
    for path in sorted(base.glob("*.tf")):
        data = main if path.name == "main.tf" else _parse(path)
        for entry in data.get("variable", []) or []:
            for name, block in entry.items():
                declared[name] = block if isinstance(block, dict) else {}
    return declared


def _tfvars_files(base: Path) -> list[Path]:
    """The variable files Terraform loads by itself, in its order (later ones win)."""
    auto = sorted(
        (*base.glob("*.auto.tfvars"), *base.glob("*.auto.tfvars.json")), key=lambda p: p.name
    )
    fixed = [base / "terraform.tfvars", base / "terraform.tfvars.json"]
    return [p for p in fixed if p.is_file()] + [p for p in auto if p.is_file()]


def _read_tfvars(path: Path) -> dict[str, Any]:
    if path.suffix == ".json":
        try:
            data = json.loads(path.read_text())
        except ValueError as exc:
            raise ConfigError(f"{path}: not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a JSON object of variable values")
        return data
    return {k: v for k, v in _parse(path).items() if not k.startswith("__")}


def variable_values(
    base: Path, main: dict[str, Any], explicit: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Root-module variable values, taken as Terraform takes them: the declared ``default``,
    then ``TF_VAR_<name>``, then ``terraform.tfvars``, ``terraform.tfvars.json`` and
    ``*.auto.tfvars(.json)`` in lexical order, then ``explicit`` (``--var``), later sources
    winning. Source: Terraform's "Variable Definition Precedence",
    https://developer.hashicorp.com/terraform/language/values/variables#variable-definition-precedence
    """
    declared = _declared_variables(base, main)
    values: dict[str, Any] = {
        name: block["default"] for name, block in declared.items() if "default" in block
    }
    for name in declared:
        if f"TF_VAR_{name}" in os.environ:
            values[name] = os.environ[f"TF_VAR_{name}"]
    for path in _tfvars_files(base):
        for name, value in _read_tfvars(path).items():
            if name in declared:  # Terraform warns about, and ignores, undeclared ones
                values[name] = value
    for name, value in (explicit or {}).items():
        if name not in declared:
            raise ConfigError(
                f"--var {name}: the root module in {base} declares no variable {name!r}"
            )
        values[name] = value
    return values


def module_variables(main_tf: Path, label: str, source: str) -> set[str] | None:
    """The variable names the wsgate module declares, read from its ``variables.tf`` (every
    ``*.tf`` of the module directory): a local ``source``, else the directory ``terraform init``
    recorded in ``.terraform/modules/modules.json``, else this checkout. None when none is found."""
    base = main_tf.parent
    directory: Path | None = None
    if source.startswith(("./", "../", "/")):
        directory = (base / source).resolve()
    else:
        manifest = base / ".terraform" / "modules" / "modules.json"
        with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
            for module in json.loads(manifest.read_text()).get("Modules", []):
                if module.get("Key") == label and module.get("Dir"):
                    directory = (base / module["Dir"]).resolve()
        if directory is None and (REPO_ROOT / "variables.tf").is_file():
            directory = REPO_ROOT
    if directory is None or not (directory / "variables.tf").is_file():
        return None
    names: set[str] = set()
    for path in sorted(directory.glob("*.tf")):
        for entry in _parse(path).get("variable", []) or []:
            names.update(entry)
    return names


#: Arguments every module block takes besides its variables (Terraform's meta-arguments).
_META_ARGUMENTS = frozenset({"source", "version", "providers", "depends_on", "count", "for_each"})


def check_arguments(main_tf: Path, label: str, block: Mapping[str, Any]) -> None:
    """Refuse an argument the module does not declare, as ``terraform validate`` does with its
    "Unsupported argument" error (so ``rotues = [...]`` fails here rather than being ignored)."""
    declared = module_variables(main_tf, label, str(block.get("source", "")))
    if declared is None:
        return
    unknown = sorted(k for k in block if not k.startswith("__") and k not in _META_ARGUMENTS)
    unknown = [k for k in unknown if k not in declared]
    if not unknown:
        return
    lines = []
    for name in unknown:
        close = difflib.get_close_matches(name, sorted(declared), n=1)
        hint = f' Did you mean "{close[0]}"?' if close else ""
        lines.append(
            f'{main_tf}: Unsupported argument in module "{label}": an argument named '
            f'"{name}" is not expected here.{hint}'
        )
    raise ConfigError("\n".join(lines))


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


def load_config(directory: str | Path, variables: Mapping[str, Any] | None = None) -> GatewayConfig:
    """Read ``DIR/main.tf`` into a :class:`GatewayConfig` (paths resolved, defaults applied).

    ``variables`` sets root-module variables as ``terraform -var`` does. A variable the module
    block uses that still has no value raises ``ConfigError`` naming it.
    """
    base = Path(directory).resolve()
    main_tf = base / "main.tf"
    missing: set[str] = set()
    block = find_module_block(main_tf, missing, variables)
    if missing:
        names = sorted(missing)
        raise ConfigError(
            f"{main_tf}: the wsgate module block uses "
            + ", ".join(f"var.{n}" for n in names)
            + ", which has no value: set "
            + " and ".join(f"TF_VAR_{n}" for n in names)
            + f', put {names[0]} = "..." in {base / "terraform.tfvars"}, or pass --var '
            + f"{names[0]}=..."
        )
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
    if block.get("memory_size") is not None:
        try:
            kwargs["memory_size"] = int(block["memory_size"])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{main_tf}: `memory_size` must be a number of MB") from exc
    for key, field_name, kind in (
        ("timeout", "timeout_s", float),
        ("authorizer_timeout", "authorizer_timeout_s", float),
        ("throttling_burst_limit", "throttling_burst_limit", int),
        ("throttling_rate_limit", "throttling_rate_limit", float),
        ("fanout_shard_size", "fanout_shard_size", int),
    ):
        if block.get(key) is not None:
            try:
                kwargs[field_name] = kind(block[key])
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"{main_tf}: `{key}` must be a number") from exc
            if kwargs[field_name] <= 0:
                raise ConfigError(f"{main_tf}: `{key}` must be greater than 0")
    if block.get("fanout_threshold") is not None:
        try:
            kwargs["fanout_threshold"] = int(block["fanout_threshold"])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{main_tf}: `fanout_threshold` must be a whole number") from exc
        if kwargs["fanout_threshold"] < 0:
            raise ConfigError(f"{main_tf}: `fanout_threshold` must be at least 0")
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
    return GatewayConfig(**kwargs)
