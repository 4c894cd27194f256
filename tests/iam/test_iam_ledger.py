"""The IAM ledger: every AWS call the runtime (and an example's own handler code) made in the
unit, local and example suites, against the policies the module and the examples write, both
ways (no call denied, no grant unused), plus parliament's lint.

The calls come from ``recorder.py`` (botocore's event hooks and the fast PostToConnection path,
in the test process and in the local gateway's workers). When this run executed the whole of
LEDGER_SUITES (``make test``), their records are used; otherwise those suites run
here first in a child pytest with a ledger directory of its own. The policies come from an
offline ``terraform apply`` of each example, read back from the state: exactly what would be
sent to IAM.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
sys.path.insert(0, str(REPO_ROOT / "tools"))
sys.path.insert(0, str(HERE))

import ledger  # noqa: E402
from tfoffline import Terraform  # noqa: E402

pytestmark = pytest.mark.slow

EXAMPLES = ["echo", "chat", "authorizer", "notify", "zappa-migration"]
#: The suites whose runtime calls make up the ledger (tests/conftest.py knows the same list).
LEDGER_SUITES = ("unit", "local", "examples")
REGION = "eu-west-1"


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    if os.environ.get("WSGATE_IAM_LEDGER_COMPLETE") == "1":
        return ledger.read_records(os.environ["WSGATE_IAM_LEDGER_DIR"])
    directory = tmp_path_factory.mktemp("ledger")
    env = {**os.environ, "WSGATE_IAM_LEDGER_DIR": str(directory)}
    env.pop("WSGATE_IAM_LEDGER_COMPLETE", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        + [f"tests/{suite}" for suite in LEDGER_SUITES],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    found = ledger.read_records(directory)
    assert found, f"the suites recorded no AWS call:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    return found


@pytest.fixture(scope="module")
def checks(records: list[dict[str, Any]]) -> list[ledger.Check]:
    return [c for r in records for c in ledger.checks_of(r)]


def _public_key_pem() -> str:
    """A fresh RSA public key in PEM form, as the authorizer example verifies tokens with."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode()


class Deployed:
    """One example applied offline: its policies and where its functions' calls go."""

    def __init__(self, name: str, tf: Terraform) -> None:
        variables: dict[str, Any] = {"region": REGION}
        if 'variable "jwt_public_key"' in (REPO_ROOT / "examples" / name / "main.tf").read_text():
            variables["jwt_public_key"] = _public_key_pem()  # a required input of that example
        tf.apply(variables=variables)
        state = tf.state()
        self.name = name
        self.policies: dict[str, str] = {}
        role_of: dict[str, str] = {}  # policy address -> role name
        tables: dict[str, str] = {}
        ws: dict[str, dict[str, Any]] = {}
        for module in _modules(state["values"]["root_module"]):
            for res in module.get("resources", []):
                values, address = res["values"], res["address"]
                if res["type"] == "aws_iam_role_policy":
                    self.policies[address] = values["policy"]
                    role_of[address] = values["role"]
                elif res["type"] == "aws_dynamodb_table":
                    tables[values["name"]] = values["arn"]
                if address.startswith("module.ws.") and res["mode"] == "managed":
                    ws[f"{res['type']}.{res['name']}"] = values
        dispatcher = ws["aws_lambda_function.dispatcher"]
        self.target = ledger.Target(
            region=REGION,
            account="123456789012",
            table_arn=ws["aws_dynamodb_table.this"]["arn"],
            execution_arn=ws["aws_apigatewayv2_api.this"]["execution_arn"],
            stage=ws["aws_apigatewayv2_stage.this"]["name"],
            example=name,
            env=tuple(sorted(dispatcher["environment"][0]["variables"].items())),
            tables=tuple(sorted(tables.items())),
            function=dispatcher["function_name"],
        )
        # Roles of functions that run the wsgate runtime against this API, with all their
        # inline policies: the dispatcher's (the module's and any the example adds, such as the
        # Zappa app's own table), and any role given the module's sender_policy_json (its
        # ManageConnections statement; the notify example's notifier).
        roles: dict[str, list[str]] = {}
        for address, role in role_of.items():
            roles.setdefault(role, []).append(address)
        dispatcher_role = ws["aws_iam_role.dispatcher"]["name"]
        self.runtime = {
            role: names
            for role, names in roles.items()
            if role == dispatcher_role or any(_sends(self.policies[a]) for a in names)
        }


def _sends(policy: str) -> bool:
    """Whether a policy is the module's sender policy (its ManageConnections statement)."""
    statements = json.loads(policy)["Statement"]
    return any(s.get("Sid") == "ManageConnections" for s in statements)


def _modules(module: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield module
    for child in module.get("child_modules", []):
        yield from _modules(child)


@pytest.fixture(scope="module")
def deployed() -> Iterator[dict[str, Deployed]]:
    made = {name: Terraform(f"examples/{name}") for name in EXAMPLES}
    try:
        yield {name: Deployed(name, tf) for name, tf in made.items()}
    finally:
        for tf in made.values():
            tf.cleanup()


def test_the_recorder_sees_every_path_to_aws(records):
    """Both ways out (botocore, the fast POST) and both places handlers run (this process, the
    local gateway's workers) must be in the ledger, or a silent recorder would pass."""
    vias = {r["via"] for r in records}
    assert vias == {"botocore", "fastsend"}
    assert len({r["pid"] for r in records}) > 1, "nothing recorded in a worker process"
    assert any(r["scope"].startswith("example:") for r in records), "no example's own call"
    operations = {r["operation"] for r in records}
    for op in ("PostToConnection", "GetConnection", "DeleteConnection", "BatchGetItem", "Invoke"):
        assert op in operations
    print(f"\nIAM ledger: {len(records)} calls recorded")
    for key, n in sorted(ledger.figures(records).items()):
        print(f"  {n:7d}  {key}")


@pytest.mark.parametrize("name", EXAMPLES)
def test_no_recorded_call_is_denied(deployed, checks, name):
    d = deployed[name]
    assert d.runtime, "no policy of a function that runs the runtime was found"
    result = ledger.evaluate(d.policies, checks, d.target, runtime_roles=d.runtime)
    assert result.denied == [], "\n".join(
        f"{policy} denies {action} on {arn}" for policy, action, arn in result.denied
    )


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_grant_is_used_by_a_recorded_call(deployed, checks, name):
    """Least privilege for the roles whose functions run the runtime (the dispatcher, senders).
    An authorizer's role is left to its example's own tests: its function's calls (the
    authorizer example's SSM read) are not told apart from the dispatcher's here."""
    d = deployed[name]
    runtime_policies = {n: d.policies[n] for names in d.runtime.values() for n in names}
    result = ledger.evaluate(runtime_policies, checks, d.target, runtime_roles=d.runtime)
    assert result.unused == [], "\n".join(
        f"{policy} grants {action} on {resource}, which no recorded call uses"
        for policy, action, resource in result.unused
    )


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_planned_policy_passes_parliament(deployed, name):
    """Unknown actions, resource types an action does not take, malformed statements. Trust
    policies are left out: parliament audits identity policies and would call a Principal-only
    statement malformed."""
    findings = {
        address: ledger.lint(doc)
        for address, doc in deployed[name].policies.items()
        if ledger.lint(doc)
    }
    assert findings == {}


def test_a_transaction_is_authorized_item_by_item():
    record = {
        "service": "dynamodb",
        "operation": "TransactWriteItems",
        "table_env": "t",
        "params": {"TransactItems": [["Update", "t"], ["Put", "t"], ["ConditionCheck", "u"]]},
    }
    assert [(c.action, c.own) for c in ledger.checks_of(record)] == [
        ("dynamodb:UpdateItem", True),
        ("dynamodb:PutItem", True),
        ("dynamodb:ConditionCheckItem", False),
    ]
    target = ledger.Target("eu-west-1", "1", "arn:aws:dynamodb:eu-west-1:1:table/t", "x", "dev")
    assert ledger.checks_of(record)[2].arn(target) == "arn:aws:dynamodb:eu-west-1:1:table/u"


def test_a_fan_out_invoke_is_checked_on_the_function_its_environment_named():
    record = {
        "service": "lambda",
        "operation": "Invoke",
        "params": {"FunctionName": "chat-dispatcher", "InvocationType": "Event"},
        "function_env_keys": ["WSGATE_FANOUT_FUNCTION"],
    }
    [check] = ledger.checks_of(record)
    target = ledger.Target(
        "eu-west-1",
        "1",
        "t",
        "x",
        "dev",
        env=(("WSGATE_FANOUT_FUNCTION", "chat"),),
        function="chat",
    )
    assert (check.action, check.arn(target)) == (
        "lambda:InvokeFunction",
        "arn:aws:lambda:eu-west-1:1:function:chat",
    )
    own = {**record, "function_env_keys": ["AWS_LAMBDA_FUNCTION_NAME"]}
    assert ledger.checks_of(own)[0].arn(target) == "arn:aws:lambda:eu-west-1:1:function:chat"
