"""Every code block in README.md works as written.

Blocks run in a scratch project directory, in README order. An HTML comment on the line(s) just
before a block says how it is checked:

* ``<!-- file: PATH -->``: the block is written to PATH in the project before anything runs (later
  blocks use it); a Python file is also executed once, so it must import and register cleanly.
* ``<!-- env: dynamodb -->``: the block runs with a local DynamoDB (moto) holding the connection
  table, ``WSGATE_TABLE`` and ``AWS_ENDPOINT_URL_DYNAMODB`` set.
* ``<!-- pytest -->``: the block is a test module; pytest runs it in the project and it must pass.
  ``<!-- pytest: fresh machine -->`` runs it as on a new user's machine: no AWS variables, no
  ``~/.aws``, no ``PYTHONPATH`` (only the virtualenv on ``PATH``).
* ``<!-- dry-run: REASON -->``: each ``make TARGET`` line must be a target ``make -n`` accepts.
* ``<!-- norun: REASON -->``: not run (REASON says why, e.g. it needs an AWS account); shell is
  still syntax-checked and Python still compiled.

Unmarked ``python`` blocks are executed and unmarked ``sh`` blocks run with bash. ``hcl`` blocks are
parsed with python-hcl2, their ``module`` blocks checked against the module's variables and
outputs, and the ``file: main.tf`` root planned with the offline Terraform harness
(``tools/tfoffline``: the real ``terraform``, stand-in providers, no AWS).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent

_FENCE = re.compile(r"^```([\w-]*)\s*$")
_MARKER = re.compile(r"^<!--\s*([a-z-]+)\s*(?::\s*(.*?))?\s*-->$")
_KNOWN_MARKERS = {"file", "env", "pytest", "dry-run", "norun"}


def _hcl(text: str) -> dict[str, Any]:
    """HCL as plain data (bare names, no comment or block bookkeeping keys)."""
    import hcl2

    options = hcl2.SerializationOptions(
        strip_string_quotes=True, explicit_blocks=False, with_comments=False
    )
    return dict(hcl2.loads(text, serialization_options=options))


@dataclass
class Block:
    line: int
    lang: str
    code: str
    markers: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        name = self.markers.get("file", "")
        return f"line{self.line}-{self.lang}" + (f"-{name}" if name else "")


def parse_readme(text: str) -> list[Block]:
    """The fenced code blocks of ``text``, with the markers in the comments just above each."""
    blocks: list[Block] = []
    lines = text.splitlines()
    in_generated = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if "BEGIN_TF_DOCS" in line:
            in_generated = True
        elif "END_TF_DOCS" in line:
            in_generated = False
        fence = _FENCE.match(line)
        if not fence or in_generated:
            i += 1
            continue
        markers: dict[str, str] = {}
        j = i - 1
        while j >= 0 and (marker := _MARKER.match(lines[j].strip())):
            markers[marker.group(1)] = marker.group(2) or ""
            j -= 1
        end = i + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        code = "\n".join(lines[i + 1 : end]) + "\n"
        blocks.append(Block(line=i + 1, lang=fence.group(1) or "text", code=code, markers=markers))
        i = end + 1
    return blocks


BLOCKS = parse_readme(README.read_text(encoding="utf-8"))


def test_readme_starts_with_the_demo_and_test_commands() -> None:
    first = BLOCKS[0]
    commands = [line.split("#")[0].strip() for line in first.code.splitlines()]
    assert commands == ["make demo", "make test"]


def test_every_marker_is_known_and_every_skip_says_why() -> None:
    for block in BLOCKS:
        unknown = set(block.markers) - _KNOWN_MARKERS
        assert not unknown, f"README line {block.line}: unknown marker(s) {unknown}"
        for key in ("norun", "dry-run"):
            if key in block.markers:
                assert block.markers[key], f"README line {block.line}: {key} needs a reason"


def _fresh_machine_env(project: Path) -> dict[str, str]:
    """A new user's shell: the project's virtualenv on PATH, and nothing else: no AWS variables,
    no ~/.aws (HOME is empty), no PYTHONPATH. The README's test must pass as written here."""
    home = project.parent / "fresh-home"
    home.mkdir(exist_ok=True)
    return {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "HOME": str(home),
            "LANG": "C.UTF-8"}  # fmt: skip


def _project_env(project: Path) -> dict[str, str]:
    env = dict(os.environ)  # tests/conftest.py has put fake credentials and a region here
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join([str(project / "src"), str(project)])
    for key in ("WSGATE_ENDPOINT", "WSGATE_TABLE", "AWS_ENDPOINT_URL_DYNAMODB"):
        env.pop(key, None)
    return env


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch project holding every ``file:`` block of the README."""
    root = tmp_path_factory.mktemp("readme-project")
    for block in BLOCKS:
        if "file" in block.markers:
            path = root / block.markers["file"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.code, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[dict[str, str]]:
    """A local DynamoDB with the connection table, as the local gateway runs it."""
    from wsgate_local.dynamo import LocalDynamo

    local = LocalDynamo("readme-connections")
    url = local.start()
    try:
        yield {"WSGATE_TABLE": local.table_name, "AWS_ENDPOINT_URL_DYNAMODB": url}
    finally:
        local.stop()


def _run(
    args: list[str], cwd: Path, env: dict[str, str], block: Block
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    assert result.returncode == 0, (
        f"README line {block.line} ({block.lang}) failed with {result.returncode}:\n"
        f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return result


def _check_python(block: Block, project: Path, request: pytest.FixtureRequest) -> None:
    compile(block.code, f"README.md:{block.line}", "exec")
    if "norun" in block.markers:
        return
    env = _project_env(project)
    if block.markers.get("env") == "dynamodb":
        env.update(request.getfixturevalue("dynamodb"))
    if "pytest" in block.markers:
        if block.markers["pytest"] == "fresh machine":
            env = _fresh_machine_env(project)
        test_file = project / f"test_readme_line{block.line}.py"
        test_file.write_text(block.code, encoding="utf-8")
        args = [str(BIN / "pytest"), "-q", "-p", "no:cacheprovider", "--rootdir", str(project)]
        result = _run([*args, test_file.name], project, env, block)
        assert " passed" in result.stdout and " failed" not in result.stdout, result.stdout
        return
    if "file" in block.markers:
        _run([sys.executable, block.markers["file"]], project, env, block)
        return
    _run([sys.executable, "-c", block.code], project, env, block)


def _check_sh(block: Block, project: Path) -> None:
    syntax = subprocess.run(["bash", "-n"], input=block.code, capture_output=True, text=True)
    assert syntax.returncode == 0, f"README line {block.line}: {syntax.stderr}"
    if "norun" in block.markers:
        return
    if "dry-run" in block.markers:
        for line in block.code.splitlines():
            words = shlex.split(line, comments=True)
            assert words[:1] == ["make"], f"README line {block.line}: dry-run only knows make"
            _run(["make", "-n", *words[1:]], ROOT, _project_env(project), block)
        return
    _run(["bash", "-euo", "pipefail", "-c", block.code], project, _project_env(project), block)


def _check_hcl(block: Block, project: Path) -> None:
    parsed = _hcl(block.code)
    assert parsed, f"README line {block.line}: empty HCL"
    modules = [m for entry in parsed.get("module", []) for m in entry.values()]
    variables, outputs = _module_interface()
    for module in modules:
        assert "wsgate" in str(module.get("source", "")), f"README line {block.line}: source?"
        arguments = set(module) - {"source", "version", "providers", "depends_on", "count"}
        unknown = arguments - set(variables)
        assert not unknown, f"README line {block.line}: the module has no variable(s) {unknown}"
        if "fragment" not in block.markers.get("norun", ""):
            missing = {name for name, spec in variables.items() if "default" not in spec}
            missing -= arguments
            assert not missing, f"README line {block.line}: required variable(s) {missing} unset"
    used = set(re.findall(r"module\.ws\.(\w+)", block.code))
    assert used <= set(outputs), f"README line {block.line}: no output(s) {used - set(outputs)}"
    if modules and "file" in block.markers:
        _plan_offline(block, project, modules[0])


def _module_interface() -> tuple[dict[str, dict[str, object]], set[str]]:
    """The root module's variables (name -> attributes) and output names, read from its files."""
    variables: dict[str, dict[str, object]] = {}
    outputs: set[str] = set()
    for path in sorted(ROOT.glob("*.tf")):
        parsed = _hcl(path.read_text(encoding="utf-8"))
        for entry in parsed.get("variable", []):
            variables.update(entry)
        for entry in parsed.get("output", []):
            outputs.update(entry)
    return variables, outputs


_SOURCE = re.compile(r'(\bsource\s*=\s*)"[^"]*wsgate[^"]*"')


def _plan_offline(block: Block, project: Path, module: dict[str, Any]) -> None:
    """`terraform plan` of the README's root module with the stand-in providers (no AWS, no
    network), the module source pointed at this checkout. The plan must hold what the block asks
    for: a route per action, a route response per two-way route, the handler."""
    if str(ROOT / "tools") not in sys.path:
        sys.path.insert(0, str(ROOT / "tools"))
    from tfoffline import Terraform

    config = Path(tempfile.mkdtemp(prefix="readme-terraform-", dir=project.parent))
    shutil.copytree(project, config, dirs_exist_ok=True)
    try:
        tf = Terraform(config)
        tf.install.binary  # noqa: B018  (finds terraform, or says what is missing)
    except RuntimeError as exc:
        pytest.skip(f"needs terraform >= 1.6 for the offline plan: {exc}")
    try:
        # The working copy links back to `config`, so rewriting main.tf there is what it sees.
        checkout = os.path.relpath(ROOT, tf.workdir)
        main_tf = _SOURCE.sub(lambda m: f'{m.group(1)}"{checkout}"', block.code, count=1)
        (config / "main.tf").write_text(main_tf, encoding="utf-8")
        plan = tf.plan()
    finally:
        tf.cleanup()
    changes = plan["resource_changes"]

    def planned(kind: str) -> list[dict[str, Any]]:
        return [c["change"]["after"] for c in changes if c["type"] == kind]

    route_keys = {after["route_key"] for after in planned("aws_apigatewayv2_route")}
    assert route_keys == {"$connect", "$disconnect", "$default", *module.get("routes", [])}
    responses = planned("aws_apigatewayv2_route_response")
    assert len(responses) == len(module.get("two_way_routes", []))
    [function] = planned("aws_lambda_function")
    assert function["handler"] == module.get("handler", "app.app")


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_readme_code_block_works(
    block: Block, project: Path, request: pytest.FixtureRequest
) -> None:
    if block.lang == "python":
        _check_python(block, project, request)
    elif block.lang in ("sh", "bash", "console"):
        _check_sh(block, project)
    elif block.lang in ("hcl", "terraform"):
        _check_hcl(block, project)
    else:
        assert block.lang in ("text", "json"), f"README line {block.line}: unknown {block.lang!r}"
