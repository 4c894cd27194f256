"""A user's project enables the fixture with one line and tests its handler end to end."""

from __future__ import annotations

import subprocess
import sys

import boto3
import pytest
from conftest import ROOT
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
