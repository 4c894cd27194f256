"""What `wsgate local` prints tells the truth: the start banner (routes, authorizer, warnings), one
line per event with the handler's real outcome, no metric lines unless asked for, and an
authorizer's refusal as one line with its reason."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from guarded_project import guarded_project
from local_support import ROOT
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from wscat_support import Wscat, wscat_path

APP = """
import wsgate
from wsgate import App, BadRequest

app = App()


@app.route("join")
def join(event):
    if event.json.get("bad"):
        raise BadRequest("say which room")
    wsgate.send(event.connection_id, {"joined": True})


@app.route("say")  # not in the module's routes: API Gateway sends these to $default
def say(event):
    wsgate.send(event.connection_id, "said")


@app.default
def default(event):
    wsgate.send(event.connection_id, {"default": event.route_key})
"""


class Console:
    """``wsgate local DIR --port 0 ARGS`` with its console (stdout and stderr) kept in files."""

    def __init__(self, directory: Path, workdir: Path, *args: str) -> None:
        self.out = workdir / "console.out"
        self.err = workdir / "console.err"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TF_VAR_")}
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "wsgate_local.cli", "local", str(directory), "--port", "0",
                 "--workers", "1", "--no-reload", *args],
                stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                env={**env, "PYTHONUNBUFFERED": "1"},
            )  # fmt: skip
        self.wait_for("Ctrl+C to stop", 60)
        found = re.search(r"WebSocket URL\s+(\S+)", self.text())
        assert found, self.text()
        self.ws_url = found.group(1)

    def text(self) -> str:
        return self.out.read_text() + self.err.read_text()

    def wait_for(self, needle: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        while needle not in (text := self.text()):
            assert self.proc.poll() is None, f"wsgate local exited:\n{text}"
            assert time.monotonic() < deadline, f"no {needle!r} in:\n{text}"
            time.sleep(0.05)
        return text

    def banner(self) -> str:
        return self.out.read_text().split("Ctrl+C to stop")[0]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(APP)
    (tmp_path / "main.tf").write_text(
        f'module "ws" {{\n  source = "{ROOT}"\n  name = "console"\n'
        '  source_dir = "${path.module}/src"\n  routes = ["join"]\n}\n'
    )
    return tmp_path


@pytest.fixture
def console(tmp_path: Path):
    started: list[Console] = []

    def start(directory: Path, *args: str) -> Console:
        workdir = tmp_path / f"console{len(started)}"
        workdir.mkdir()
        started.append(Console(directory, workdir, *args))
        return started[-1]

    yield start
    for c in started:
        c.stop()


def _event_lines(text: str, route: str) -> list[str]:
    return [
        line
        for line in text.splitlines()
        if re.match(rf"^\d\d:\d\d:\d\d {re.escape(route)} ", line)
    ]


@pytest.mark.skipif(not wscat_path(), reason="needs wscat: `make wscat-deps` installs it with npm")
def test_terminal_user_sees_the_missing_route_warning_and_true_access_lines(project, console):
    gateway = console(project)
    banner = gateway.banner()
    warnings = [line for line in banner.splitlines() if "warning:" in line]
    assert len(warnings) == 1, banner
    assert 'route "say" that is not in the module\'s `routes`' in warnings[0]
    assert 'add "say" to routes in main.tf' in warnings[0]
    assert re.search(r"routes\s+join\n", banner)
    with Wscat(gateway.ws_url) as wscat:
        wscat.wait_connected(lambda: bool(_event_lines(gateway.text(), "$connect")))
        # API Gateway delivers it to $default, where the runtime still finds the handler
        wscat.type(json.dumps({"action": "say"}))
        assert wscat.received() == "said"
        wscat.type(json.dumps({"action": "other"}))
        assert json.loads(wscat.received()) == {"default": "$default"}
        wscat.type(json.dumps({"action": "join", "bad": True}))
        error = json.loads(wscat.received())
        assert (error["type"], error["code"]) == ("error", "bad_request")
        wscat.type(json.dumps({"action": "join"}))
        assert json.loads(wscat.received()) == {"joined": True}
        text = gateway.wait_for(" 200 ", 15)
        deadline = time.monotonic() + 15
        while len(_event_lines(text, "join")) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
            text = gateway.text()
    refused, ok = _event_lines(text, "join")
    assert re.search(r" 400 +[\d.]+ ms  error frame: bad_request$", refused), refused
    assert re.search(r" 200 +[\d.]+ ms$", ok), ok
    # Every handler above sent a message, so the runtime counted each; none of it is shown.
    assert '"_aws"' not in text and "CloudWatchMetrics" not in text


@pytest.mark.parametrize("flags", [["--show-metrics"], ["--quiet"]], ids=["show", "quiet"])
def test_metric_lines_only_when_asked_and_quiet_means_quiet(project, console, flags):
    gateway = console(project, *flags)
    with connect(gateway.ws_url, open_timeout=30) as ws:
        ws.send(json.dumps({"action": "join"}))
        assert json.loads(ws.recv(timeout=15)) == {"joined": True}
    if flags == ["--show-metrics"]:
        text = gateway.wait_for('"_aws"')
        [line] = [line for line in text.splitlines() if '"_aws"' in line]
        metric = json.loads(line)
        assert metric["MessagesSent"] == 1 and metric["Route"] == "join"
        assert _event_lines(gateway.wait_for("$disconnect"), "join")
    else:
        time.sleep(2)  # what would have been printed by now, was not
        text = gateway.text()
        assert '"_aws"' not in text
        assert not _event_lines(text, "join") and not _event_lines(text, "$connect")
        assert "Ctrl+C to stop" in text  # the banner still is


def test_authorizer_refusal_is_one_line_with_its_reason_and_the_banner_names_it(tmp_path, console):
    gateway = console(guarded_project(tmp_path), "--var", "auth_secret=" + "k" * 40)
    banner = gateway.banner()
    assert re.search(r"authorizer\s+auth\.authorize on \$connect", banner), banner
    assert re.search(r"identity sources\s+route\.request\.querystring\.token", banner), banner
    with pytest.raises(InvalidStatus) as refused:
        connect(gateway.ws_url + "?token=mallory.forged", open_timeout=30)
    assert refused.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as missing:
        connect(gateway.ws_url, open_timeout=30)
    assert missing.value.response.status_code == 401
    text = gateway.wait_for("missing identity source")
    lines = _event_lines(text, "$connect")
    assert len(lines) == 2, text
    assert re.search(r" 401 +[\d.]+ ms  authorizer: refused: invalid token$", lines[0]), lines
    assert "missing identity source route.request.querystring.token" in lines[1]
    assert "Traceback" not in text and "Exception: Unauthorized" not in text
