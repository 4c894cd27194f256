"""The wsgate command: one-line errors, and send/connections/close against a running gateway."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from websockets.exceptions import ConnectionClosed

WSGATE = str(Path(sys.executable).with_name("wsgate"))


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [WSGATE, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


@pytest.mark.parametrize("command", [[], ["local"], ["send"], ["connections"], ["close"]])
def test_every_command_has_help(command):
    result = run(*command, "--help")
    assert result.returncode == 0
    assert "usage: wsgate" in result.stdout


def test_missing_module_block_is_one_line_naming_the_file(tmp_path):
    (tmp_path / "main.tf").write_text("# nothing here\n")
    result = run("local", str(tmp_path), "--port", "0")
    assert result.returncode == 1
    assert result.stderr.startswith("wsgate: error: ")
    assert str(tmp_path / "main.tf") in result.stderr
    assert "Traceback" not in result.stderr


def test_handler_import_failure_shows_its_traceback_not_a_crash(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("import not_a_module_anywhere\n")
    (tmp_path / "main.tf").write_text(
        'module "ws" {\n  source = "github.com/acme/wsgate"\n  name = "broken"\n'
        '  source_dir = "${path.module}/src"\n}\n'
    )
    result = run("local", str(tmp_path), "--port", "0", "--workers", "1")
    assert result.returncode == 1
    assert result.stderr.startswith("wsgate: error: cannot import handler 'app.app'")
    assert "ModuleNotFoundError: No module named 'not_a_module_anywhere'" in result.stderr
    assert "wsgate_local" not in result.stderr  # the user's traceback, not the gateway's


def test_port_in_use_is_a_one_line_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("local", str(ROOT / "examples" / "echo"), "--port", str(port))
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == f"wsgate: error: port {port} is in use; pass --port with a free port"
    )


def test_send_connections_and_close_reach_a_running_gateway(recorder):
    gw, _ = recorder
    with gw.connect() as client:
        cid = gw.connection_ids()[-1]
        listing = run("connections", "--endpoint", gw.endpoint)
        assert listing.returncode == 0 and cid in listing.stdout
        sent = run("send", gw.url, cid, "hello from the CLI")  # the ws:// URL works too
        assert sent.returncode == 0, sent.stderr
        assert client.recv() == "hello from the CLI"
        closed = run("close", cid, "--endpoint", gw.endpoint)
        assert closed.returncode == 0, closed.stderr
        with pytest.raises(ConnectionClosed):
            client.recv(timeout=10)
        assert client.close_code == 1000
    gone = run("send", gw.endpoint, cid, "too late")
    assert gone.returncode == 1
    assert gone.stderr.startswith("wsgate: error: GoneException")
