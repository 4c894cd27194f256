"""The wsgate command: one-line errors, and send/connections/close against a running gateway."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from local_support import ROOT
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


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A machine with no AWS configuration: no AWS_* variables, a HOME without ~/.aws."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8", **extra}
    assert not any(key.startswith("AWS_") for key in env if key not in extra)
    return env


def run_clean(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """``wsgate ARGS`` from a fresh directory on a machine with no AWS configuration."""
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return subprocess.run(
        [WSGATE, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=work,
        env=clean_env(tmp_path, **extra),
    )


def test_send_connections_and_close_work_with_no_aws_configuration(recorder, tmp_path):
    gw, _ = recorder
    with gw.connect() as client:
        cid = gw.connection_ids()[-1]
        listing = run_clean(tmp_path, "connections", "--endpoint", gw.endpoint)
        assert listing.returncode == 0, listing.stderr
        assert cid in listing.stdout
        sent = run_clean(tmp_path, "send", cid, "hello from the CLI", "--endpoint", gw.url)
        assert sent.returncode == 0, sent.stderr  # the ws:// URL works too
        assert sent.stdout.strip() == f"sent 18 bytes to {cid}"
        assert client.recv() == "hello from the CLI"
        closed = run_clean(tmp_path, "close", cid, "--endpoint", gw.endpoint)
        assert closed.returncode == 0, closed.stderr
        with pytest.raises(ConnectionClosed):
            client.recv(timeout=10)
        assert client.close_code == 1000
    gone = run_clean(tmp_path, "send", cid, "too late", "--endpoint", gw.endpoint)
    assert gone.returncode == 1
    assert gone.stderr == (
        f"wsgate: error: connection {cid} is gone (it has disconnected, or never existed)\n"
    )
    closed_again = run_clean(tmp_path, "close", cid, "--endpoint", gw.endpoint)
    assert closed_again.stderr.startswith(f"wsgate: error: connection {cid} is gone")


def test_endpoint_defaults_to_wsgate_endpoint_for_every_command(recorder, tmp_path):
    gw, _ = recorder
    with gw.connect() as client:
        cid = gw.connection_ids()[-1]
        listing = run_clean(tmp_path, "connections", WSGATE_ENDPOINT=gw.endpoint)
        assert cid in listing.stdout, listing.stderr
        sent = run_clean(tmp_path, "send", cid, "via the environment", WSGATE_ENDPOINT=gw.endpoint)
        assert sent.returncode == 0, sent.stderr
        assert client.recv() == "via the environment"


def test_wrong_stage_and_no_gateway_are_readable_one_line_errors(recorder, tmp_path):
    gw, _ = recorder
    wrong_stage = gw.endpoint.rsplit("/", 1)[0] + "/prod"
    for command in (["send", "AAAAAAAAAAAAAAA=", "hi"], ["close", "AAAAAAAAAAAAAAA="]):
        result = run_clean(tmp_path, *command, "--endpoint", wrong_stage)
        assert result.returncode == 1
        assert result.stderr.startswith(f"wsgate: error: {wrong_stage} refused the call (403")
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    listing = run_clean(tmp_path, "connections", "--endpoint", wrong_stage)
    assert listing.stderr.startswith(f"wsgate: error: {wrong_stage}/@connections answered 404")
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{unused.getsockname()[1]}/dev"
    for command in (["send", "AAAAAAAAAAAAAAA=", "hi"], ["close", "AAAAAAAAAAAAAAA="]):
        result = run_clean(tmp_path, *command, "--endpoint", nobody)
        assert (
            result.stderr == f"wsgate: error: cannot reach {nobody} (is `wsgate local` running?)\n"
        )
    listing = run_clean(tmp_path, "connections", "--endpoint", nobody)
    assert listing.stderr.startswith(f"wsgate: error: cannot reach a local gateway at {nobody}")


def test_a_deployed_stage_without_credentials_or_region_is_a_one_line_error(tmp_path):
    # Nothing is sent: both checks fail before any request. The metadata service is turned off so
    # the credential chain does not wait for an EC2 instance role that this machine cannot have.
    no_imds = {"AWS_EC2_METADATA_DISABLED": "true"}
    stage = "https://abc123defg.execute-api.eu-west-1.amazonaws.com/prod"
    result = run_clean(tmp_path, "send", "AAAAAAAAAAAAAAA=", "hi", "--endpoint", stage, **no_imds)
    assert result.returncode == 1
    assert result.stderr.startswith(f"wsgate: error: no AWS credentials to call {stage}: ")
    custom = "https://ws.example.com"
    result = run_clean(tmp_path, "close", "AAAAAAAAAAAAAAA=", "--endpoint", custom, **no_imds)
    assert result.stderr.startswith(f"wsgate: error: cannot tell the AWS region of {custom}: ")
    listing = run_clean(tmp_path, "connections", "--endpoint", stage)
    assert listing.stderr.startswith(f"wsgate: error: {stage} is not a local gateway")


def test_the_old_positional_endpoint_gets_a_hint(tmp_path):
    endpoint = "http://127.0.0.1:3001/dev"
    result = run_clean(tmp_path, "send", endpoint, "AAAAAAAAAAAAAAA=", "hi")
    assert result.returncode == 1
    assert result.stderr.startswith(f"wsgate: error: {endpoint!r} looks like an endpoint: ")
    assert f"--endpoint {endpoint}" in result.stderr


def test_an_id_or_message_starting_with_a_dash_is_an_argument_not_an_option(recorder, tmp_path):
    gw, _ = recorder
    with gw.connect() as client:
        cid = gw.connection_ids()[-1]
        sent = run_clean(tmp_path, "send", "--endpoint", gw.endpoint, cid, "-1 degrees")
        assert sent.returncode == 0, sent.stderr
        assert client.recv() == "-1 degrees"
    # Generated ids may start with "-": such an id reaches the endpoint instead of argparse.
    for command in (["send", "-AAAAAAAAAAAAAA=", "hi"], ["close", "-AAAAAAAAAAAAAA="]):
        result = run_clean(tmp_path, *command, "--endpoint", gw.endpoint)
        assert result.returncode == 1
        assert result.stderr.startswith("wsgate: error: connection -AAAAAAAAAAAAAA= is gone")
