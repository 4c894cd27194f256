"""The Lambda package the module builds: contents, dependencies, reproducibility, limits.

Each test writes a small root module into a temporary directory (a symlink there points at
this repository, the module's source) and runs the real terraform on it offline. The zip
checked is the one the applied function names in the state: what Lambda would receive.
"""

from __future__ import annotations

import base64
import hashlib
import marshal
import os
import shutil
import struct
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tfoffline import Terraform, TerraformError

REPO_ROOT = Path(__file__).resolve().parents[2]
PUBLIC_KEY = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEF\n-----END PUBLIC KEY-----\n"

MAIN_TF = """
terraform {
  required_providers {
    aws      = { source = "hashicorp/aws", version = ">= 6.0, < 7.0" }
    external = { source = "hashicorp/external", version = ">= 2.3, < 3.0" }
  }
}
provider "aws" {
  region = "us-east-1"
}
variable "architecture" {
  type    = string
  default = "arm64"
}
variable "runtime" {
  type    = string
  default = "python3.12"
}
variable "compile_bytecode" {
  type    = bool
  default = false
}
variable "requirements_file" {
  type    = string
  default = "requirements.txt"
}
variable "s3_bucket" {
  type    = string
  default = null
}
variable "create_runtime_layer" {
  type    = bool
  default = false
}
module "ws" {
  source            = "./wsgate"
  name              = "pkg"
  source_dir        = "${path.module}/src"
  architecture      = var.architecture
  runtime           = var.runtime
  compile_bytecode  = var.compile_bytecode
  requirements_file = var.requirements_file
  s3_bucket         = var.s3_bucket

  create_runtime_layer = var.create_runtime_layer
}
output "runtime_layer_arn" {
  value = module.ws.runtime_layer_arn
}
output "package" {
  value = module.ws.package
}
"""

#: Packaged byte for byte (none of them is UTF-8 text).
BINARY_FILES = {
    "assets/logo.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
    "lib/native.so": b"\x7fELF\x02\x01\x01" + bytes(range(255, -1, -1)) * 4,
    "data/table.bin": bytes([0xFF, 0xFE, 0x00, 0x80]) * 300,
}
#: Left out by the default source_excludes.
EXCLUDED_FILES = {
    "tests/helper.py": b"x = 1\n",
    "test_app.py": b"def test(): pass\n",
    ".venv/lib/python3.12/site-packages/foo.py": b"\n",
    "__pycache__/app.cpython-312.pyc": b"\x00" * 16,
    ".env": b"SECRET=1\n",
    "terraform.tfstate": b"{}",
}
APP = b"from wsgate import App\n\napp = App()\n"


def write_app(
    root: Path,
    *,
    requirements: str | None = "PyJWT==2.15.1\n",
    extra: dict[str, bytes] | None = None,
    umask: int = 0o022,
    mtime: float | None = None,
) -> Path:
    """A root module at ``root`` whose source_dir holds code, binary files and junk."""
    old = os.umask(umask)
    try:
        root.mkdir(parents=True, exist_ok=True)
        (root / "main.tf").write_text(MAIN_TF)
        (root / "wsgate").symlink_to(REPO_ROOT)
        files = {"app.py": APP, **BINARY_FILES, **EXCLUDED_FILES, **(extra or {})}
        if requirements is not None:
            files["requirements.txt"] = requirements.encode()
        for rel, data in files.items():
            path = root / "src" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        (root / "src" / "lib" / "native.so").chmod(0o777 & ~umask)
    finally:
        os.umask(old)
    if mtime is not None:
        for path in (root / "src").rglob("*"):
            os.utime(path, (mtime, mtime))
    return root


@pytest.fixture
def app_config(tmp_path: Path) -> Iterator[Callable[..., Terraform]]:
    made: list[Terraform] = []

    def make(name: str = "app", **kw: Any) -> Terraform:
        tf = Terraform(write_app(tmp_path / name, **kw))
        made.append(tf)
        return tf

    yield make
    for tf in made:
        tf.cleanup()


def applied_zip(tf: Terraform, address: str = "module.ws.aws_lambda_function.dispatcher") -> Path:
    """The zip the applied function names (relative paths are relative to the root module)."""
    for res in tf.state()["values"]["root_module"]["child_modules"][0]["resources"]:
        if res["address"] == address:
            return tf.workdir / res["values"]["filename"]
    raise KeyError(address)


def b64sha256(path: Path) -> str:
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


def elf_machine(data: bytes) -> int:
    assert data[:4] == b"\x7fELF"
    return int(struct.unpack_from("<H", data, 18)[0])


ELF_MACHINE = {"arm64": 183, "x86_64": 62}  # EM_AARCH64, EM_X86_64


# -- contents --------------------------------------------------------------------------------


def test_zip_holds_runtime_code_binary_files_and_dependencies_but_no_junk(app_config):
    tf = app_config()
    out = tf.apply()
    path = applied_zip(tf)
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        assert {"wsgate/__init__.py", "wsgate/app.py", "app.py", "requirements.txt"} <= names
        for rel, data in BINARY_FILES.items():
            assert zf.read(rel) == data, rel
        assert zf.read("app.py") == APP
        # PyJWT from requirements.txt, installed at the zip's root where Lambda imports it
        assert "jwt/__init__.py" in names
        assert [n for n in names if n.startswith("pyjwt-2.15.1.dist-info/")]
        for rel in EXCLUDED_FILES:
            assert rel not in names
        assert not [n for n in names if n.startswith(("tests/", ".venv/", "bin/", "__pycache__"))]
        assert not [n for n in names if n.endswith(".pyc")]  # compile_bytecode = false
        infos = {i.filename: i for i in zf.infolist()}
        modes = {n: (i.external_attr >> 16) & 0o777 for n, i in infos.items()}
    assert (infos["lib/native.so"].external_attr >> 16) & 0o777 == 0o755
    assert (infos["app.py"].external_attr >> 16) & 0o777 == 0o644
    assert set(modes.values()) <= {0o644, 0o755}
    assert {i.date_time for i in infos.values()} == {(1980, 1, 1, 0, 0, 0)}
    assert list(infos) == sorted(infos)
    assert out["package"]["source_code_hash"] == b64sha256(path)
    assert out["package"]["size"] == path.stat().st_size


def test_file_contents_never_enter_plan_or_state(app_config):
    tf = app_config()
    tf.apply()
    state = (tf.workdir / "terraform.tfstate").read_text()
    plan = str(tf.plan())
    for text in (state, plan):
        assert "from wsgate import App" not in text
        assert "PyJWT==2.15.1" not in text
        assert base64.b64encode(BINARY_FILES["data/table.bin"][:48]).decode() not in text


@pytest.mark.parametrize("architecture", ["arm64", "x86_64"])
def test_authorizer_example_ships_compiled_wheels_for_its_architecture(
    terraform_config, architecture
):
    tf = terraform_config("examples/authorizer")
    tf.apply(variables={"jwt_public_key": PUBLIC_KEY, "architecture": architecture})
    for function in ("dispatcher", "authorizer[0]"):
        path = applied_zip(tf, f"module.ws.aws_lambda_function.{function}")
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            assert {"auth.py", "app.py", "wsgate/auth.py", "jwt/__init__.py"} <= names
            rust = zf.read("cryptography/hazmat/bindings/_rust.abi3.so")
            cffi = [n for n in names if n.startswith("_cffi_backend.cpython-312-")]
        assert elf_machine(rust) == ELF_MACHINE[architecture]
        machine = {"arm64": "aarch64", "x86_64": "x86_64"}[architecture]
        assert cffi == [f"_cffi_backend.cpython-312-{machine}-linux-gnu.so"]


def test_runtime_layer_holds_wsgate_alone_under_python(app_config):
    tf = app_config()
    variables = {"create_runtime_layer": True, "runtime": "python3.11", "compile_bytecode": True}
    out = tf.apply(variables=variables)
    assert out["runtime_layer_arn"] == "arn:aws:lambda:us-east-1:123456789012:layer:pkg-wsgate:1"
    layer = applied_zip(tf, "module.ws.aws_lambda_layer_version.runtime[0]")
    with zipfile.ZipFile(layer) as zf:
        names = set(zf.namelist())
        pyc = zf.read("python/wsgate/__pycache__/app.cpython-311.pyc")
    assert "python/wsgate/__init__.py" in names
    assert {n.split("/")[0] for n in names} == {"python"}
    assert {n.split("/")[1] for n in names} == {"wsgate"}  # no user code, no requirements
    assert marshal.loads(pyc[16:]).co_filename == "/opt/python/wsgate/app.py"
    changes = tf.plan(variables=variables)["resource_changes"]
    assert [r["address"] for r in changes if r["change"]["actions"] != ["no-op"]] == []


# -- reproducibility -------------------------------------------------------------------------


def test_same_app_in_two_directories_gives_the_same_bytes(app_config):
    # Different umask, mtimes, directory and working copy; compiled .pyc included.
    first = app_config("one", umask=0o022, mtime=1_000_000_000)
    second = app_config("two", umask=0o077, mtime=1_700_000_000)
    variables = {"runtime": "python3.11", "compile_bytecode": True}
    a, b = first.apply(variables=variables), second.apply(variables=variables)
    assert a["package"]["source_code_hash"] == b["package"]["source_code_hash"]
    assert a["package"]["filename"] == b["package"]["filename"]
    assert applied_zip(first).read_bytes() == applied_zip(second).read_bytes()
    assert first.workdir.resolve() != second.workdir.resolve()


def test_unchanged_app_plans_no_changes_and_a_changed_file_updates_the_functions(app_config):
    tf = app_config()
    first = tf.apply()
    plan = tf.plan()
    assert [
        r["address"] for r in plan["resource_changes"] if r["change"]["actions"] != ["no-op"]
    ] == []
    (tf.source / "src" / "assets" / "logo.png").write_bytes(b"\x89PNG new")
    plan = tf.plan()
    changed = {
        r["address"]: r["change"]["actions"]
        for r in plan["resource_changes"]
        if r["change"]["actions"] != ["no-op"]
    }
    assert sorted(changed["module.ws.terraform_data.package"]) == ["create", "delete"]
    assert changed["module.ws.aws_lambda_function.dispatcher"] == ["update"]
    second = tf.apply()
    assert second["package"]["source_code_hash"] != first["package"]["source_code_hash"]
    with zipfile.ZipFile(applied_zip(tf)) as zf:
        assert zf.read("assets/logo.png") == b"\x89PNG new"


def test_saved_plan_applies_from_a_fresh_working_copy(app_config, tmp_path):
    planner = app_config()
    plan_file = tmp_path / "ci.tfplan"
    planner.init()
    planner.run("plan", "-input=false", "-no-color", f"-out={plan_file}")
    planned = planner.run("show", "-json", str(plan_file)).stdout
    # Another job: the same configuration, no build/ directory, no state.
    applier = Terraform(planner.source)
    try:
        applier.init()
        assert not (applier.workdir / "build").exists()
        applier.run("apply", "-input=false", "-no-color", str(plan_file))
        path = applied_zip(applier)
        assert path.is_file()
        assert b64sha256(path) in planned
    finally:
        applier.cleanup()


def test_saved_plan_refuses_a_package_that_changed_since_the_plan(app_config, tmp_path):
    planner = app_config()
    plan_file = tmp_path / "ci.tfplan"
    planner.init()
    planner.run("plan", "-input=false", "-no-color", f"-out={plan_file}")
    (planner.source / "src" / "app.py").write_bytes(APP + b"# edited after the plan\n")
    applier = Terraform(planner.source)
    try:
        applier.init()
        with pytest.raises(TerraformError) as failed:
            applier.run("apply", "-input=false", "-no-color", str(plan_file))
        message = " ".join(str(failed.value).split())
        assert "is not the one the plan was made with" in message
        assert "Run terraform plan again where you apply" in message
    finally:
        applier.cleanup()


# -- bytecode --------------------------------------------------------------------------------


def test_bytecode_is_compiled_for_the_runtime_in_unchecked_hash_mode(app_config):
    tf = app_config()
    tf.apply(variables={"runtime": "python3.11", "compile_bytecode": True})
    with zipfile.ZipFile(applied_zip(tf)) as zf:
        names = set(zf.namelist())
        pyc = zf.read("wsgate/__pycache__/app.cpython-311.pyc")
        assert "__pycache__/app.cpython-311.pyc" in names
        assert "jwt/__pycache__/api_jwt.cpython-311.pyc" in names
        assert "tests/__pycache__/helper.cpython-311.pyc" not in names
    import importlib.util

    assert pyc[:4] == importlib.util.MAGIC_NUMBER  # this interpreter is 3.11
    (flags,) = struct.unpack_from("<I", pyc, 4)
    assert flags == 0b01  # hash-based, source never checked (PEP 552)
    code = marshal.loads(pyc[16:])
    assert code.co_filename == "/var/task/wsgate/app.py"


def test_required_bytecode_without_a_matching_interpreter_fails_the_plan(app_config):
    if shutil.which("python3.13") and os.system("python3.13 -c pass 2>/dev/null") == 0:
        pytest.skip("python3.13 is installed here: the plan would succeed")
    tf = app_config()
    with pytest.raises(TerraformError) as failed:
        tf.plan(variables={"runtime": "python3.13", "compile_bytecode": True})
    assert "compile_bytecode = true needs a Python 3.13 interpreter" in str(failed.value)


# -- errors ----------------------------------------------------------------------------------


def test_a_requirement_without_a_wheel_names_the_package_and_platform(app_config):
    # python-ldap publishes only a source distribution (it compiles against OpenLDAP).
    tf = app_config(requirements="python-ldap==3.4.4\n")
    with pytest.raises(TerraformError) as failed:
        tf.plan(variables={"architecture": "x86_64"})
    message = " ".join(str(failed.value).split())
    assert "no wheel of python-ldap==3.4.4 fits Lambda x86_64" in message
    assert "python3.12" in message and "manylinux x86_64" in message


def test_requirements_file_null_installs_nothing(app_config):
    tf = app_config(requirements="python-ldap==3.4.4\n")
    tf.apply(variables={"requirements_file": None})
    with zipfile.ZipFile(applied_zip(tf)) as zf:
        assert not [n for n in zf.namelist() if "ldap" in n or "dist-info" in n]


def test_missing_requirements_file_that_was_asked_for_fails_the_plan(app_config):
    tf = app_config()
    with pytest.raises(TerraformError) as failed:
        tf.plan(variables={"requirements_file": "deps/prod.txt"})
    assert "requirements_file 'deps/prod.txt' does not exist" in " ".join(str(failed.value).split())


def test_package_above_lambdas_50_mb_upload_limit_fails_the_plan(app_config):
    noise = hashlib.shake_256(b"incompressible").digest(51 * 1024 * 1024)
    tf = app_config(requirements=None, extra={"data/noise.bin": noise})
    with pytest.raises(TerraformError) as failed:
        tf.plan()
    message = " ".join(str(failed.value).split())
    assert "MB zipped; Lambda takes at most 50 MB (52428800 bytes) uploaded directly" in message


def test_package_above_50_mb_goes_through_s3_when_a_bucket_is_given(app_config):
    noise = hashlib.shake_256(b"incompressible").digest(51 * 1024 * 1024)
    tf = app_config(requirements=None, extra={"data/noise.bin": noise})
    out = tf.apply(variables={"s3_bucket": "my-artifacts"})
    resources = {
        r["address"]: r["values"]
        for r in tf.state()["values"]["root_module"]["child_modules"][0]["resources"]
    }
    obj = resources["module.ws.aws_s3_object.package[0]"]
    function = resources["module.ws.aws_lambda_function.dispatcher"]
    assert obj["bucket"] == "my-artifacts"
    assert obj["key"] == "wsgate/" + Path(out["package"]["filename"]).name
    assert obj["etag"] == hashlib.md5((tf.workdir / obj["source"]).read_bytes()).hexdigest()
    assert (function["s3_bucket"], function["s3_key"]) == ("my-artifacts", obj["key"])
    assert function["filename"] is None
    assert function["source_code_hash"] == out["package"]["source_code_hash"]
    assert out["package"]["size"] > 50 * 1024 * 1024


def test_package_above_lambdas_250_mb_unzipped_limit_fails_the_plan(app_config):
    zeros = bytes(251 * 1024 * 1024)  # compresses to well under 50 MB
    tf = app_config(requirements=None, extra={"data/zeros.bin": zeros})
    with pytest.raises(TerraformError) as failed:
        tf.plan()
    message = " ".join(str(failed.value).split())
    assert "MB unzipped; Lambda allows at most 250 MB (262144000 bytes)" in message
