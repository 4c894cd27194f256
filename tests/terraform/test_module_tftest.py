"""`terraform test` on the root module: every variable validation and cross-variable precondition.

The runs live in ``tests/terraform/*.tftest.hcl``; here the real ``terraform`` runs them offline
with the stand-in providers (a failing run raises with Terraform's diagnostics).
"""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TEST_FILES = sorted(p.name for p in (REPO_ROOT / "tests" / "terraform").glob("*.tftest.hcl"))


def test_every_validation_and_precondition_rejects_what_aws_would(terraform_config):
    tf = terraform_config(REPO_ROOT)
    out = tf.test("-test-directory=tests/terraform")
    for name in TEST_FILES:
        assert f"tests/terraform/{name}... pass" in out
    summary = re.search(r"Success! (\d+) passed, 0 failed", out)
    assert summary, out
    assert int(summary.group(1)) >= 10


def test_every_validated_variable_has_a_run_expecting_its_failure():
    variables = (REPO_ROOT / "variables.tf").read_text()
    validated = set()
    for block in re.split(r'\nvariable "', variables)[1:]:
        name = block.split('"', 1)[0]
        if "validation {" in block:
            validated.add(name)
    expected = set(
        re.findall(
            r"^\s+var\.(\w+),?$",
            (REPO_ROOT / "tests" / "terraform" / "validations.tftest.hcl").read_text(),
            re.M,
        )
    )
    assert validated - expected == set()
