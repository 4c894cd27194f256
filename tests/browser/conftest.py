"""A real browser (Debian's Chromium, driven by Playwright) against the real local gateway.

No browser is downloaded: `make browser-deps` installs the `chromium` Debian package and the tests
launch it by path.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
NO_CHROMIUM = "needs Debian's Chromium at /usr/bin/chromium (`make browser-deps` installs it)"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"wsgate local exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"wsgate local did not serve {url} within 60 s:\n{log.read_text()}")


@contextlib.contextmanager
def _serve_chat(log: Path, *flags: str) -> Iterator[str]:
    """`wsgate local examples/chat` on a free port, exactly as a developer starts it."""
    if not CHROMIUM.exists():  # no gateway to start when the browser tests will skip anyway
        pytest.skip(NO_CHROMIUM)
    port = _free_port()
    wsgate = str(Path(sys.executable).with_name("wsgate"))
    command = [wsgate, "local", str(ROOT / "examples" / "chat"), "--port", str(port), *flags]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=os.environ.copy()
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(base + "/", process, log)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def chat_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The chat example behind the local gateway; yields the page's base URL
    (http://127.0.0.1:<port>); the WebSocket is at /dev."""
    with _serve_chat(tmp_path_factory.mktemp("gateway") / "wsgate-local.log") as base:
        yield base


@pytest.fixture
def impatient_gateway(tmp_path: Path) -> Iterator[str]:
    """The chat example behind a gateway that closes connections idle for 3 seconds (API
    Gateway waits 10 minutes), so the keep-alive can be seen working in a few seconds."""
    with _serve_chat(tmp_path / "wsgate-local.log", "--idle-timeout", "3") as base:
        yield base


# Module scope, not session: Playwright's sync API keeps an event loop running in the main
# thread while it is open, which would break later tests that start their own loop.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless."""
    if not CHROMIUM.exists():
        pytest.skip(NO_CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    """Opens pages, each in its own browser context (its own storage, like another person).

    Any uncaught script error on a page fails the test.
    """
    contexts: list[Any] = []
    script_errors: list[str] = []

    def open_page() -> Any:
        context = browser.new_context(viewport={"width": 1100, "height": 720})
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: script_errors.append(str(error)))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert script_errors == [], "the page threw"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
