"""Dispatch overhead: ``wsgate.App`` against a hand-written ``if/elif`` handler, per event.

Run as ``python -m bench.dispatch OUT.json [--quick] [--xray]`` with stdout sent to /dev/null:
the App writes its per-invocation log line to stdout, as it does in Lambda, and that write is
part of what a user pays. The Lambda Python runtime does not ship ``aws_xray_sdk``, so it is
made unimportable here unless ``--xray`` asks for the SDK to be used as installed.
Both handlers do the same work (read the connection id, and the body of a message) on every
route event in ``tests/events/``; authorizer events are left out because they go to the
authorizer function, not to the App. No table is configured and nothing is sent.
"""

from __future__ import annotations

import json
import os
import sys
import time
import timeit
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "tests" / "events"


def load_events() -> dict[str, dict[str, Any]]:
    """The route events (not authorizer events) of ``tests/events``, by file stem."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(EVENTS.glob("*.json")):
        event = json.loads(path.read_text(encoding="utf-8-sig"))
        if event.get("type") == "REQUEST" or "routeKey" not in event.get("requestContext", {}):
            continue
        out[path.stem] = event
    return out


sink: list[Any] = []


def work(connection_id: str | None, body: str | None = None) -> None:
    """The handlers' shared 'business logic': touch what a handler typically reads."""
    sink.append((connection_id, body))
    if len(sink) > 1000:
        sink.clear()


def build_handwritten(message_keys: set[str]) -> Any:
    """The baseline: one function per route and an ``if/elif`` on the route key."""

    def on_connect(event: dict[str, Any]) -> None:
        work(event["requestContext"]["connectionId"])

    def on_disconnect(event: dict[str, Any]) -> None:
        work(event["requestContext"]["connectionId"])

    def on_message(event: dict[str, Any]) -> None:
        work(event["requestContext"]["connectionId"], event.get("body"))

    def on_default(event: dict[str, Any]) -> None:
        work(event["requestContext"]["connectionId"], event.get("body"))

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        key = event["requestContext"]["routeKey"]
        if key == "$connect":
            on_connect(event)
        elif key == "$disconnect":
            on_disconnect(event)
        elif key in message_keys:
            on_message(event)
        else:
            on_default(event)
        return {"statusCode": 200}

    return handler


def build_app(message_keys: set[str]) -> Any:
    from wsgate import App

    app = App()

    @app.connect
    def on_connect(ev: Any) -> None:
        work(ev.connection_id)

    @app.disconnect
    def on_disconnect(ev: Any) -> None:
        work(ev.connection_id)

    @app.default
    def on_default(ev: Any) -> None:
        work(ev.connection_id, ev.body)

    for key in sorted(message_keys - {"$default"}):

        def on_key(ev: Any) -> None:
            work(ev.connection_id, ev.body)

        app.route(key)(on_key)
    return app


def per_call(fn: Any, event: dict[str, Any], number: int, repeat: int) -> float:
    """Best-of-``repeat`` CPU seconds per call (the minimum is the least disturbed by
    neighbours; CPU time, unlike wall time, does not count the time they hold the core)."""
    timer = timeit.Timer(lambda: fn(event, None), timer=time.process_time)
    return min(timer.repeat(repeat=repeat, number=number)) / number


def measure(number: int, repeat: int, levels: tuple[str, ...]) -> dict[str, Any]:
    os.environ.pop("WSGATE_TABLE", None)
    events = load_events()
    message_keys = {
        e["requestContext"]["routeKey"]
        for e in events.values()
        if not e["requestContext"]["routeKey"].startswith("$")
        or e["requestContext"]["routeKey"] == "$default"
    }
    hand = build_handwritten(message_keys)
    app = build_app(message_keys)
    for event in events.values():  # both must accept every event before they are timed
        assert hand(event, None)["statusCode"] == 200
        status = app(event, None)["statusCode"]
        if status != 200:
            raise RuntimeError(f"App answered {status} to {event['requestContext']['routeKey']}")

    import wsgate
    from wsgate import logs

    results: dict[str, Any] = {
        "events": {},
        "number": number,
        "repeat": repeat,
        "wsgate_file": wsgate.__file__,
    }
    for level in levels:
        logs.logger.setLevel(level)
        rows = {}
        for name, event in events.items():
            base = per_call(hand, event, number, repeat)
            mine = per_call(app, event, number, repeat)
            rows[name] = {
                "route": event["requestContext"]["routeKey"],
                "handwritten_us": base * 1e6,
                "app_us": mine * 1e6,
                "added_us": (mine - base) * 1e6,
            }
        results["events"][level] = rows
    return results


def main() -> None:
    out = Path(sys.argv[1])
    quick = "--quick" in sys.argv
    if "--xray" not in sys.argv:
        sys.modules["aws_xray_sdk"] = None  # type: ignore[assignment]  # as in Lambda
    number, repeat = (1000, 3) if quick else (5000, 5)
    levels = ("INFO",) if "--xray" in sys.argv else ("INFO", "WARNING")
    out.write_text(json.dumps(measure(number, repeat, levels)))


if __name__ == "__main__":
    main()
