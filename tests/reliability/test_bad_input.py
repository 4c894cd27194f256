"""Bad input, case by case: what the client gets, what the logs say, and that the table is
unchanged. The chat example plays the application; ``apps/faulty`` plays a buggy handler.

Every case runs on a fresh connection and checks the table after that connection's
``$disconnect``: a bad message may cost its sender an error frame or the connection, never a
stored item, a crashed worker or a stack trace on the wire.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from reliability_support import APPS, GatewayProcess, wait_until
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

RUNTIME_ERROR_KEYS = {"type", "code", "message", "requestId"}


@pytest.fixture
def chat(chat_gateway: GatewayProcess) -> GatewayProcess:
    return chat_gateway


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    gateway = GatewayProcess(
        APPS / "faulty", tmp_path_factory.mktemp("faulty"), "--workers", "2", quiet=False
    )
    try:
        yield gateway
    finally:
        gateway.stop()


def _settle(gateway: GatewayProcess, timeout: float = 30) -> list[dict[str, Any]]:
    wait_until(lambda: not gateway.live_connections(), timeout, "the connection to close")
    wait_until(lambda: not gateway.connection_items(), timeout, "$disconnect to clean up")
    return gateway.scan()


class Outcome:
    """What one client saw: the frames it received, and the close code if it was closed."""

    def __init__(self) -> None:
        self.frames: list[str | bytes] = []
        self.close_code: int | None = None

    @property
    def json(self) -> list[Any]:
        return [json.loads(f) for f in self.frames]


def _session(
    gateway: GatewayProcess, sends: list[str | bytes], *, replies: int = 1, url: str = ""
) -> Outcome:
    """Connect, send each message, read ``replies`` frames (or until closed), close; then
    wait for the $disconnect to finish. The table must be as it was before."""
    before = gateway.scan()
    outcome = Outcome()
    with connect(url or gateway.ws_url, open_timeout=30, max_size=2**22, legacy=True) as ws:
        try:
            for data in sends:
                ws.send(data)
            for _ in range(replies):
                outcome.frames.append(ws.recv(timeout=15))
            ws.send(json.dumps({"action": "ping"}))  # still usable afterwards
            outcome.frames.append(ws.recv(timeout=15))
        except ConnectionClosed as closed:
            outcome.close_code = closed.rcvd.code if closed.rcvd else None
    assert _settle(gateway) == before
    return outcome


def _runtime_error(frame: Any, code: str) -> None:
    assert set(frame) == RUNTIME_ERROR_KEYS
    assert frame["type"] == "error" and frame["code"] == code
    assert "Traceback" not in frame["message"]


# -- messages that match no route --------------------------------------------------------------

NO_ROUTE = {
    "not JSON": "hello there",
    "a JSON array": "[1, 2, 3]",
    "a JSON string": '"join"',
    "a JSON number": "42",
    "JSON null": "null",
    "an object without action": '{"room": "lobby"}',
    "action null": '{"action": null}',
    "action a number": '{"action": 7}',
    "action an object": '{"action": {"name": "join"}}',
    "action very long": json.dumps({"action": "x" * 20_000}),
    "action $connect": '{"action": "$connect"}',
    "action $disconnect": '{"action": "$disconnect"}',
    "action with a trailing space": '{"action": "join "}',
    "an empty message": "",
    "truncated JSON": '{"action": "join", "room": "lob',
}


@pytest.mark.parametrize("body", NO_ROUTE.values(), ids=NO_ROUTE.keys())
def test_message_matching_no_route_gets_unknown_action_and_the_connection_lives_on(
    chat: GatewayProcess, body: str
) -> None:
    outcome = _session(chat, [body])
    error, pong = outcome.json
    _runtime_error(error, "unknown_action")
    assert pong == {"type": "pong"}


# -- messages for a real route, with bad fields -------------------------------------------------

BAD_FIELDS = {
    "join without room": {"action": "join"},
    "join with a path as room": {"action": "join", "room": "../../etc"},
    "join with a 65-character room": {"action": "join", "room": "r" * 65},
    "join with a numeric room": {"action": "join", "room": 5},
    "say empty text": {"action": "say", "room": "lobby", "text": ""},
    "say 4001 characters": {"action": "say", "room": "lobby", "text": "t" * 4001},
    "say in a room not joined": {"action": "say", "room": "lobby", "text": "hi"},
    "hello with a control character": {"action": "hello", "name": "eve\x00"},
    "hello with a number as name": {"action": "hello", "name": 12},
    "hello with a 33-character name": {"action": "hello", "name": "n" * 33},
    "members with no room": {"action": "members", "room": None},
}


@pytest.mark.parametrize("message", BAD_FIELDS.values(), ids=BAD_FIELDS.keys())
def test_bad_fields_get_bad_request_and_store_nothing(chat: GatewayProcess, message: Any) -> None:
    outcome = _session(chat, [json.dumps(message)])
    error, pong = outcome.json
    _runtime_error(error, "bad_request")
    assert pong == {"type": "pong"}


def test_deeply_nested_json_within_the_frame_limit_is_refused_with_bad_request(
    chat: GatewayProcess,
) -> None:
    depth = 15_000  # 30 KB of brackets: under API Gateway's 32 KB frame limit
    body = '{"action": "join", "room": ' + "[" * depth + "]" * depth + "}"
    outcome = _session(chat, [body])
    error, pong = outcome.json
    assert error["type"] == "error" and error["code"] in ("bad_request", "unknown_action")
    assert pong == {"type": "pong"}
    assert "gateway error" not in chat.output()


def test_huge_numbers_do_not_break_the_handler(chat: GatewayProcess) -> None:
    body = '{"action": "join", "room": "lobby", "n": 1e999999, "m": -1e999999}'
    outcome = _session(chat, [body, json.dumps({"action": "leave", "room": "lobby"})], replies=2)
    joined, left, pong = outcome.json
    assert joined["type"] == "joined" and left == {"type": "left", "room": "lobby"}
    assert pong == {"type": "pong"}


def test_integer_with_thousands_of_digits_gets_an_error_frame(chat: GatewayProcess) -> None:
    # Python refuses to parse integers over 4,300 digits: the message is treated as bad JSON.
    outcome = _session(chat, ['{"action": "join", "room": "lobby", "n": ' + "9" * 5000 + "}"])
    error, pong = outcome.json
    assert error["type"] == "error" and error["code"] in ("bad_request", "unknown_action")
    assert pong == {"type": "pong"}


# -- frames the gateway refuses -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [
        pytest.param(b'{"action": "ping"}', 1003, id="a binary frame"),
        pytest.param("p" * (32 * 1024 + 1), 1009, id="a frame over 32 KB"),
    ],
)
def test_refused_frames_close_the_connection_with_the_api_gateway_code(
    chat: GatewayProcess, data: str | bytes, code: int
) -> None:
    outcome = _session(chat, [data])
    assert outcome.close_code == code


def test_message_over_128_kb_in_small_frames_closes_with_1009(chat: GatewayProcess) -> None:
    before = chat.scan()
    with connect(chat.ws_url, open_timeout=30, legacy=True) as ws:
        chunk = "x" * 16 * 1024
        with pytest.raises(ConnectionClosed) as closed:
            ws.send(iter([chunk] * 9))  # 144 KB in 16 KB fragments
            ws.recv(timeout=15)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    assert _settle(chat) == before


def _raw_handshake(gateway: GatewayProcess, extra: bytes) -> bytes:
    """Send a handshake byte for byte (clients refuse to send invalid headers)."""
    host, port = gateway.ws_url.split("//")[1].split("/")[0].split(":")
    key = base64.b64encode(os.urandom(16))
    with socket.create_connection((host, int(port)), timeout=15) as sock:
        sock.sendall(
            b"GET /dev HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n" + extra + b"\r\n"
        )
        return sock.recv(200).split(b"\r\n")[0]


def _quiet_output(gateway: GatewayProcess, quiet: float = 0.5, limit: float = 15.0) -> str:
    """The gateway's console once it has printed nothing new for ``quiet`` seconds, so lines of
    an earlier test's events still on their way are not mistaken for this test's."""
    deadline = time.monotonic() + limit
    seen = gateway.output()
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = gateway.output()
        if now == seen:
            break
        seen = now
    return seen


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(b"X-Note: a\x01b\r\n", id="control character in a header"),
        pytest.param(b"X-Note: a\x7fb\r\n", id="DEL in a header"),
        pytest.param(b"Sec-WebSocket-Protocol: " + b"p" * 10_000 + b"\r\n", id="10 KB subprotocol"),
    ],
)
def test_malformed_handshake_header_is_refused_before_any_handler_runs(
    chat: GatewayProcess, header: bytes
) -> None:
    before, log_before = chat.scan(), _quiet_output(chat)
    assert _raw_handshake(chat, header).split(b" ")[1] == b"400"
    assert chat.scan() == before
    assert "$connect" not in _quiet_output(chat)[len(log_before) :]


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("eve%00", id="NUL in a query value"),
        pytest.param("eve%1b%5b31m", id="terminal escape in a query value"),
        pytest.param("n" * 40, id="query value over the name limit"),
    ],
)
def test_bad_query_value_refuses_the_handshake_with_400_and_stores_nothing(
    chat: GatewayProcess, name: str
) -> None:
    before = chat.scan()
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{chat.ws_url}?name={name}", open_timeout=30, legacy=True)
    assert refused.value.response.status_code == 400
    assert _settle(chat) == before


# -- handlers that misbehave --------------------------------------------------------------------


def test_handler_that_raises_gives_internal_error_without_its_message(
    faulty: GatewayProcess,
) -> None:
    outcome = _session(faulty, [json.dumps({"action": "raise"})], replies=1)
    error = json.loads(outcome.frames[0])
    _runtime_error(error, "internal_error")
    assert "s3cr3t" not in outcome.frames[0] and "RuntimeError" not in outcome.frames[0]
    crash = wait_until(
        lambda: [
            line
            for line in faulty.runtime_logs("ERROR")
            if line.get("requestId") == error["requestId"] and "RuntimeError" in line["message"]
        ],
        15,
        "the runtime to log the crash with its request id",
    )
    assert crash[0]["routeKey"] == "raise"


def test_handler_past_the_timeout_gets_endpoint_timed_out_and_a_fresh_worker(
    faulty: GatewayProcess,
) -> None:
    outcome = _session(faulty, [json.dumps({"action": "hang"})], replies=1)
    frame = json.loads(outcome.frames[0])
    assert frame["message"] == "Endpoint request timed out"
    assert json.loads(outcome.frames[1])["type"] == "error"  # the next message is served
    # the hung invocation runs on until the function's timeout (3 s), where Lambda ends it
    wait_until(
        lambda: "Task timed out after 3.00 seconds" in faulty.output(), 15, "the function timeout"
    )


def test_unserializable_return_value_gives_an_error_frame_not_a_crash(
    faulty: GatewayProcess,
) -> None:
    outcome = _session(faulty, [json.dumps({"action": "unserializable"})], replies=1)
    frame = json.loads(outcome.frames[0])
    assert frame.get("code") == "internal_error" or frame.get("message") == "Internal server error"
    assert "object at 0x" not in outcome.frames[0]


def test_secrets_a_handler_logs_through_the_redaction_helpers_never_reach_the_log(
    faulty: GatewayProcess,
) -> None:
    _session(faulty, [json.dumps({"action": "log_secret"})], replies=0)
    lines = wait_until(
        lambda: [line for line in faulty.runtime_logs() if line["message"].startswith("query")],
        15,
        "the handler's log line",
    )
    assert "[REDACTED]" in lines[0]["message"] and "lobby" in lines[0]["message"]
    assert "s3cr3t-do-not-log" not in faulty.errors().replace(
        # the one place the secret may appear: the crash test's exception text, in its traceback
        "database password is s3cr3t-do-not-log",
        "",
    )


# -- a crowd ------------------------------------------------------------------------------------


#: Handshakes or pings sent at once by :func:`_crowd`: within the stage's default burst of 500.
WAVE = 250


async def _crowd(url: str, count: int) -> tuple[int, int]:
    """Open ``count`` connections at once, ping on each, close them all: (opened, ponged)."""
    import asyncio

    from websockets.asyncio.client import connect as connect_async

    async def one() -> Any:
        return await connect_async(url, open_timeout=120, ping_interval=None)

    # Handshakes and pings go in waves the stage's default throttle lets through (burst 500,
    # 1,000 a second: the module's defaults, a bucket per route, $connect included): a
    # thousand at once would be throttled (429 at the handshake, as on AWS).
    opened: list[Any] = []
    for start in range(0, count, WAVE):
        wave = min(WAVE, count - start)
        opened.extend(await asyncio.gather(*(one() for _ in range(wave)), return_exceptions=True))
    live = [ws for ws in opened if not isinstance(ws, BaseException)]

    async def ping(ws: Any) -> bool:
        await ws.send('{"action": "ping"}')
        return json.loads(await asyncio.wait_for(ws.recv(), 120)) == {"type": "pong"}

    pongs: list[Any] = []
    for start in range(0, len(live), WAVE):
        wave = live[start : start + WAVE]
        pongs.extend(await asyncio.gather(*(ping(ws) for ws in wave), return_exceptions=True))
    await asyncio.gather(*(ws.close() for ws in live), return_exceptions=True)
    return len(live), sum(p is True for p in pongs)


def _open_at_once(gateway: GatewayProcess, count: int) -> None:
    import asyncio

    before = gateway.scan()
    opened, ponged = asyncio.run(_crowd(gateway.ws_url, count))
    assert (opened, ponged) == (count, count)
    assert _settle(gateway, timeout=30 + count * 0.25) == before
    assert gateway.proc.poll() is None
    for sign in ("worker crash", "integration timeout", "function timeout", "gateway error"):
        assert sign not in gateway.output()


def test_hundreds_of_connections_opened_at_once_are_all_served_and_cleaned_up(
    chat: GatewayProcess,
) -> None:
    _open_at_once(chat, 120)


@pytest.mark.soak
@pytest.mark.timeout(900)
def test_soak_1000_connections_opened_at_once(chat: GatewayProcess) -> None:
    _open_at_once(chat, 1000)
