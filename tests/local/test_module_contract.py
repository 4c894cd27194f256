"""The local gateway reads main.tf as Terraform does: variable values from the same places, and an
argument the module does not declare refused like Terraform's "Unsupported argument"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from guarded_project import guarded_project, token
from local_support import ROOT
from websockets.exceptions import InvalidStatus
from wsgate_local.config import ConfigError, load_config
from wsgate_local.testing import running_gateway

WSGATE = str(Path(sys.executable).with_name("wsgate"))
SECRET = "tfvars-secret-0123456789abcdef0123456789"


def _wsgate_local(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_VAR_")}
    return subprocess.run(
        [WSGATE, "local", str(project), "--port", "0", "--workers", "1", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_variable_without_a_value_is_refused_naming_it(tmp_path, monkeypatch):
    monkeypatch.delenv("TF_VAR_auth_secret", raising=False)
    result = _wsgate_local(guarded_project(tmp_path))
    assert result.returncode == 1
    assert result.stderr.startswith("wsgate: error: ")
    assert "var.auth_secret, which has no value: set TF_VAR_auth_secret" in result.stderr
    assert "terraform.tfvars" in result.stderr and "Traceback" not in result.stderr


def test_authorizer_secret_from_terraform_tfvars_reaches_the_function(tmp_path, monkeypatch):
    monkeypatch.delenv("TF_VAR_auth_secret", raising=False)
    project = guarded_project(tmp_path)
    (project / "terraform.tfvars").write_text(f'auth_secret = "{SECRET}"\n')
    config = load_config(project)
    assert config.environment["AUTH_SECRET"] == SECRET
    with running_gateway(project, workers=1, quiet=True) as gw:
        with gw.connect(query={"token": token("erin", SECRET)}) as client:
            client.send_json({"action": "whoami"})
            assert client.recv_json()["user"] == "erin"
        with pytest.raises(InvalidStatus) as refused:  # signed with the literal text: refused
            gw.connect(query={"token": token("erin", "${var.auth_secret}")})
        assert refused.value.response.status_code in (401, 403)


def test_variable_sources_follow_terraforms_precedence(tmp_path, monkeypatch):
    (tmp_path / "src").mkdir()
    (tmp_path / "variables.tf").write_text(
        'variable "a" { default = "default" }\nvariable "b" {}\nvariable "c" {}\n'
        'variable "d" {}\nvariable "e" {}\n'
    )
    (tmp_path / "main.tf").write_text(
        f'module "ws" {{\n  source = "{ROOT}"\n  name = "prec"\n'
        '  source_dir = "${path.module}/src"\n'
        '  environment = { A = var.a, B = var.b, C = var.c, D = var.d, E = "${var.e}-x" }\n}\n'
    )
    monkeypatch.setenv("TF_VAR_b", "env")
    monkeypatch.setenv("TF_VAR_c", "env")
    monkeypatch.setenv("TF_VAR_d", "env")
    monkeypatch.setenv("TF_VAR_e", "env")
    (tmp_path / "terraform.tfvars").write_text('c = "tfvars"\nd = "tfvars"\ne = "tfvars"\n')
    (tmp_path / "b.auto.tfvars.json").write_text(json.dumps({"d": "auto-b", "e": "auto-b"}))
    (tmp_path / "a.auto.tfvars").write_text('d = "auto-a"\nundeclared = "ignored"\n')
    config = load_config(tmp_path, variables={"e": "flag"})
    assert config.environment == {
        "A": "default",
        "B": "env",
        "C": "tfvars",
        "D": "auto-b",
        "E": "flag-x",
    }


def test_var_flag_sets_a_variable_and_an_undeclared_one_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("TF_VAR_auth_secret", raising=False)
    project = guarded_project(tmp_path)
    assert load_config(project, variables={"auth_secret": SECRET}).environment == {
        "AUTH_SECRET": SECRET
    }
    with pytest.raises(ConfigError, match="declares no variable 'auth_secrt'"):
        load_config(project, variables={"auth_secrt": SECRET})


def _project_with(tmp_path: Path, arguments: str, source: str | None = None) -> Path:
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "app.py").write_text("def app(event, context):\n    return None\n")
    (tmp_path / "main.tf").write_text(
        f'module "ws" {{\n  source = "{source or ROOT}"\n  name = "typo"\n'
        f'  source_dir = "${{path.module}}/src"\n{arguments}}}\n'
    )
    return tmp_path


def test_misspelt_module_argument_is_refused_like_terraform(tmp_path):
    project = _project_with(tmp_path, '  rotues = ["join"]\n  two_way_routes = []\n')
    result = _wsgate_local(project)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f'wsgate: error: {project / "main.tf"}: Unsupported argument in module "ws": an argument '
        'named "rotues" is not expected here. Did you mean "routes"?'
    )


def test_meta_arguments_and_every_declared_variable_are_accepted(tmp_path):
    project = _project_with(tmp_path, '  routes = ["a"]\n  depends_on = []\n  providers = {}\n')
    assert load_config(project).routes == ("a",)


def test_remote_source_is_checked_against_the_module_terraform_init_fetched(tmp_path):
    fetched = tmp_path / ".terraform" / "modules" / "ws"
    fetched.mkdir(parents=True)
    (fetched / "variables.tf").write_text(
        'variable "name" {}\nvariable "source_dir" {}\nvariable "routes" { default = [] }\n'
    )
    (tmp_path / ".terraform" / "modules" / "modules.json").write_text(
        json.dumps(
            {
                "Modules": [
                    {"Key": "", "Source": "", "Dir": "."},
                    {"Key": "ws", "Source": "git::x", "Dir": ".terraform/modules/ws"},
                ]
            }
        )
    )
    source = "git::https://example.com/acme/wsgate.git?ref=v0.1.0"
    project = _project_with(tmp_path, '  routes = ["a"]\n  stage_name = "v1"\n', source=source)
    # stage_name exists in this checkout's module, but not in the version `terraform init` fetched
    with pytest.raises(ConfigError, match='an argument named "stage_name" is not expected'):
        load_config(project)
