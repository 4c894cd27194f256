"""Checks of the module's source that need no provider: formatting, checkov, generated docs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ["echo", "chat", "authorizer", "notify", "zappa-migration"]
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


def test_terraform_files_are_formatted(tmp_path):
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("needs the terraform binary on PATH")
    empty = tmp_path / "empty.tfrc"
    empty.write_text("")
    done = subprocess.run(
        [
            terraform,
            "fmt",
            "-check",
            "-recursive",
            "-list=true",
            *(p.name for p in ROOT.glob("*.tf")),
            "examples",
            "tests/terraform/fixture",
            *(
                f"tests/terraform/{p.name}"
                for p in (ROOT / "tests" / "terraform").glob("*.tftest.hcl")
            ),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "TF_CLI_CONFIG_FILE": str(empty)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.split() == [], "run `terraform fmt -recursive`"


def _checkov(target: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            str(CHECKOV),
            "-d",
            target,
            "--framework",
            "terraform",
            "--output",
            "json",
            "--compact",
            "--skip-download",  # no calls to Prisma Cloud: the run stays offline
            *extra,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


@pytest.fixture(scope="module")
def checkov_reports() -> dict[str, dict]:
    """checkov on the module alone and on the examples (which call it with concrete values)."""
    if not CHECKOV.exists():
        pytest.skip("needs checkov in .venv-checkov (`make checkov-deps` installs it)")
    runs = {
        "module": _checkov(".", "--skip-path", "examples", "--skip-path", "tests"),
        "examples": _checkov("examples"),
    }
    reports = {}
    for name, proc in runs.items():
        out, _ = proc.communicate(timeout=300)
        report = json.loads(out)
        assert not isinstance(report, list), "one framework, one report"
        reports[name] = report
    return reports


@pytest.mark.parametrize("target", ["module", "examples"])
def test_checkov_finds_no_failed_check(checkov_reports, target):
    report = checkov_reports[target]
    failed = [
        f"{check['check_id']} {check['resource']}" for check in report["results"]["failed_checks"]
    ]
    assert failed == []
    assert report["summary"]["passed"] > 30


def test_checkov_scanned_every_example(checkov_reports):
    results = checkov_reports["examples"]["results"]
    scanned = {
        check["file_path"].split("/")[1]
        for check in results["passed_checks"] + results["skipped_checks"]
        if check["file_path"].count("/") >= 2 and not check["file_path"].startswith("/../")
    }
    # Only notify declares resources of its own; the module's resources are reported under
    # their module files, once per distinct address.
    assert "notify" in scanned
    addresses = {c["resource"] for c in results["passed_checks"] + results["skipped_checks"]}
    assert "module.ws.aws_lambda_function.authorizer[0]" in addresses  # authorizer example


def test_every_checkov_skip_is_inline_and_gives_a_reason():
    skips = []
    for path in [*ROOT.glob("*.tf"), *ROOT.glob("examples/*/*.tf")]:
        for line in path.read_text().splitlines():
            if "checkov:skip" in line:
                skips.append((path.name, line.strip()))
    assert skips, "the module documents its checkov exceptions inline"
    for name, line in skips:
        assert re.fullmatch(r"#checkov:skip=CKV2?_AWS_\d+:\S.{20,}", line), (name, line)


def test_readme_inputs_and_outputs_tables_are_current():
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "tfdocs.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_tfdocs_check_fails_when_a_variable_is_added(tmp_path):
    for name in ("variables.tf", "outputs.tf", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    with (tmp_path / "variables.tf").open("a") as handle:
        handle.write('\nvariable "new_knob" {\n  description = "A new knob."\n  type = bool\n}\n')
    args = [sys.executable, str(ROOT / "tools" / "tfdocs.py"), "--module", str(tmp_path)]
    assert subprocess.run([*args, "--check"], capture_output=True).returncode == 1
    subprocess.run(args, check=True, capture_output=True)
    assert (
        "| `new_knob` | A new knob. | `bool` | n/a | yes |" in (tmp_path / "README.md").read_text()
    )
    assert subprocess.run([*args, "--check"], capture_output=True).returncode == 0


def test_runtime_validation_accepts_every_python_runtime_lambda_has_from_3_11():
    """The runtime list is Lambda's own (botocore's service model of the Lambda API, the enum the
    provider validates against), from the oldest Python the wsgate runtime supports."""
    from botocore.loaders import Loader

    enum = Loader().load_service_model("lambda", "service-2")["shapes"]["Runtime"]["enum"]
    lambda_pythons = {
        r for r in enum if re.fullmatch(r"python3\.\d+", r) and int(r.split(".")[1]) >= 11
    }
    block = (ROOT / "variables.tf").read_text().split('variable "runtime" {', 1)[1]
    condition = block.split("condition", 1)[1].split("\n", 1)[0]
    assert set(re.findall(r'"(python[0-9.]+)"', condition)) == lambda_pythons
