"""The external stand-in really runs the program, with hashicorp/external's protocol and errors.

And the aws stand-in reads the file a Lambda function uploads, as the provider does on create
and on a code update, so a zip that exists only where `plan` ran fails the apply here too.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tfoffline import Terraform, TerraformError

PROVIDERS = """
terraform {
  required_providers {
    external = { source = "hashicorp/external", version = ">= 2.3, < 3.0" }
    aws      = { source = "hashicorp/aws", version = ">= 6.0, < 7.0" }
  }
}
provider "aws" {
  region = "us-east-1"
}
"""

#: Echoes its query, its working directory and its arguments back as strings.
ECHO = f"""#!{sys.executable}
import json, os, sys
query = json.load(sys.stdin)
out = {{"query": json.dumps(query, sort_keys=True), "cwd": os.getcwd()}}
out["argv"] = json.dumps(sys.argv[1:])
json.dump(out, sys.stdout)
"""


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Callable[..., Terraform]]:
    made: list[Terraform] = []

    def make(main: str, files: dict[str, str] | None = None) -> Terraform:
        d = tmp_path / f"root{len(made)}"
        d.mkdir()
        (d / "main.tf").write_text(PROVIDERS + main)
        for name, text in (files or {}).items():
            p = d / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)
            p.chmod(0o755)
        tf = Terraform(d)
        made.append(tf)
        return tf

    yield make
    for tf in made:
        tf.cleanup()


def _message(err: pytest.ExceptionInfo[TerraformError]) -> str:
    return " ".join(str(err.value).split())


def test_program_gets_the_query_on_stdin_and_its_result_becomes_result(root: Any) -> None:
    tf = root(
        """
data "external" "echo" {
  program = ["${path.module}/echo.py", "--flag", "two words"]
  query   = { b = "2", a = "1", gone = null }
}
output "result" { value = data.external.echo.result }
output "id" { value = data.external.echo.id }
""",
        {"echo.py": ECHO},
    )
    out = tf.apply()
    # null query values are dropped; arguments reach the program unchanged, no shell involved
    assert json.loads(out["result"]["query"]) == {"a": "1", "b": "2"}
    assert json.loads(out["result"]["argv"]) == ["--flag", "two words"]
    assert Path(out["result"]["cwd"]).resolve() == tf.workdir.resolve()
    assert out["id"] == "-"


def test_working_dir_is_where_the_program_runs(root: Any) -> None:
    tf = root(
        """
data "external" "echo" {
  program     = ["${abspath(path.module)}/echo.py"]
  working_dir = "${path.module}/sub"
}
output "cwd" { value = data.external.echo.result.cwd }
""",
        {"echo.py": ECHO, "sub/.keep": ""},
    )
    assert Path(tf.apply()["cwd"]).resolve() == (tf.workdir / "sub").resolve()


def test_failing_program_is_an_error_carrying_its_stderr(root: Any) -> None:
    tf = root(
        """
data "external" "fail" {
  program = ["sh", "-c", "echo 'no wheel of foo for arm64' >&2; exit 3"]
}
""",
    )
    with pytest.raises(TerraformError) as err:
        tf.plan()
    message = _message(err)
    assert "External Program Execution Failed" in message
    assert "no wheel of foo for arm64" in message


def test_output_that_is_not_a_map_of_strings_is_an_error(root: Any) -> None:
    for program in ('echo "not json"', """echo '{"n": 1}'""", "echo '[\"a\"]'"):
        tf = root(f'data "external" "bad" {{\n program = ["sh", "-c", {json.dumps(program)}]\n}}\n')
        with pytest.raises(TerraformError) as err:
            tf.plan()
        assert "Unexpected External Program Results" in _message(err), program


def test_program_that_cannot_be_found_is_an_error(root: Any) -> None:
    tf = root('data "external" "none" {\n  program = ["no-such-program-wsgate"]\n}\n')
    with pytest.raises(TerraformError) as err:
        tf.plan()
    assert "External Program Lookup Failed" in _message(err)


def test_empty_program_list_is_rejected(root: Any) -> None:
    tf = root('data "external" "none" {\n  program = []\n}\n')
    tf.init()
    with pytest.raises(TerraformError) as err:
        tf.validate()
    assert "program list must contain at least 1" in _message(err)


LAMBDA = """
resource "aws_iam_role" "r" {
  name               = "r"
  assume_role_policy = "{}"
}
resource "aws_lambda_function" "f" {
  function_name    = "f"
  role             = aws_iam_role.r.arn
  runtime          = "python3.12"
  handler          = "app.app"
  filename         = var.filename
  source_code_hash = var.hash
  memory_size      = var.memory
}
variable "filename" {
  type = string
}
variable "hash" {
  type    = string
  default = null
}
variable "memory" {
  type    = number
  default = 128
}
"""


def test_lambda_create_reads_the_zip_and_fails_when_it_is_missing(root: Any) -> None:
    tf = root(LAMBDA, {"code.zip": "zip bytes"})
    with pytest.raises(TerraformError) as err:
        tf.apply(variables={"filename": "missing.zip", "hash": "x"})
    assert "reading ZIP file (missing.zip): open missing.zip: no such file or directory" in (
        _message(err)
    )
    tf.apply(variables={"filename": "code.zip"})


def test_lambda_update_reads_the_zip_only_when_the_code_changes(root: Any) -> None:
    tf = root(LAMBDA, {"code.zip": "zip bytes", "new.zip": "new bytes"})
    tf.apply(variables={"filename": "code.zip", "hash": "h1"})
    (tf.workdir / "code.zip").unlink()
    # A configuration-only change does not upload code: the missing file does not matter.
    tf.apply(variables={"filename": "code.zip", "hash": "h1", "memory": 256})
    with pytest.raises(TerraformError) as err:
        tf.apply(variables={"filename": "code.zip", "hash": "h2", "memory": 256})
    assert "reading ZIP file (code.zip)" in _message(err)
    tf.apply(variables={"filename": "new.zip", "hash": "h3", "memory": 256})
