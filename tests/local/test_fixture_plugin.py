"""A user's project enables the fixture with one line and tests its handler end to end."""

from __future__ import annotations

import os
import subprocess
import sys

import boto3
import pytest
from local_support import ROOT
from wsgate_local.testing import running_gateway


def test_user_project_tests_its_handler_through_the_plugin(tmp_path):
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["wsgate_local.testing"]\n')
    (tmp_path / "test_my_app.py").write_text(
        "def test_echo(wsgate_gateway):\n"
        f"    gw = wsgate_gateway({str(ROOT / 'examples' / 'echo')!r})\n"
        "    with gw.connect() as client:\n"
        '        client.send_json({"n": 1})\n'
        '        assert client.recv_json() == {"n": 1}\n'
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_fixture_gateway_injects_faults_for_a_users_retry_tests():
    with running_gateway(ROOT / "examples" / "echo", quiet=True, faults="429=1.0") as gw:
        # a stock client, with botocore's own retries: every attempt meets the injected 429
        client = boto3.client("apigatewaymanagementapi", endpoint_url=gw.endpoint)
        with pytest.raises(client.exceptions.LimitExceededException):
            client.get_connection(ConnectionId="AAAAAAAAAAAAAAA=")


def _project(root, name: str, greeting: str) -> None:
    (root / name / "src").mkdir(parents=True)
    (root / name / "src" / "helper.py").write_text(f"GREETING = {greeting!r}\n")
    (root / name / "src" / "app.py").write_text(
        "import wsgate\napp = wsgate.App()\n\n\n@app.default\ndef echo(event):\n"
        "    wsgate.send(event.connection_id, event.body)\n"
    )
    (root / name / "main.tf").write_text(
        f'module "ws" {{\n  source = "{ROOT}"\n  name = "{name}"\n'
        '  source_dir = "${path.module}/src"\n}\n'
    )


def test_each_test_imports_its_own_projects_functions_on_a_clean_machine(tmp_path):
    for name, greeting in (("one", "hello from one"), ("two", "hello from two")):
        _project(tmp_path, name, greeting)
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["wsgate_local.testing"]\n')
    (tmp_path / "test_two_projects.py").write_text(
        "import sys\n\nimport wsgate\n\n\n"
        "def _check(wsgate_gateway, monkeypatch, name):\n"
        "    gw = wsgate_gateway(name)\n"
        "    for key, value in gw.env().items():\n"
        "        monkeypatch.setenv(key, value)\n"
        "    import helper\n"
        "    assert helper.GREETING == f'hello from {name}'\n"
        "    with gw.connect() as client:\n"
        "        cid = gw.connection_ids()[-1]\n"
        "        wsgate.send(cid, helper.GREETING)  # as another Lambda would\n"
        "        assert client.recv() == helper.GREETING\n\n\n"
        "def test_one(wsgate_gateway, monkeypatch):\n"
        "    _check(wsgate_gateway, monkeypatch, 'one')\n\n\n"
        "def test_two(wsgate_gateway, monkeypatch):\n"
        "    _check(wsgate_gateway, monkeypatch, 'two')\n\n\n"
        "def test_nothing_left_on_the_import_path():\n"
        "    assert 'helper' not in sys.modules\n"
        "    assert not [p for p in sys.path if p.endswith('src')]\n"
    )
    home = tmp_path / "home"
    home.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_two_projects.py"],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_running_gateway_works_where_pytest_is_not_installed():
    # The [local] extra has no pytest: a script using running_gateway() must still import.
    script = (
        "import sys\n"
        "sys.modules['pytest'] = None  # import pytest now raises ImportError\n"
        "from wsgate_local.testing import running_gateway\n"
        f"with running_gateway({str(ROOT / 'examples' / 'echo')!r}, quiet=True) as gw:\n"
        "    with gw.connect() as client:\n"
        "        client.send('ping')\n"
        "        print(client.recv())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ping"
