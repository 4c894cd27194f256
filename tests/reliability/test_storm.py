"""A storm of chat clients that join, talk, close and drop, against ``wsgate local``.

``make test`` runs 100 clients over ~15 s; ``make soak`` 500 clients over 60 s. About a third
(a fifth in the soak) join rooms and talk; the rest hold a connection and ping, because each
join and leave is a DynamoDB transaction, and moto copies the whole table for every
transaction, which bounds how many the local gateway serves a second. Afterwards:
every message reached every member that was there for the whole publish, exactly once; the
table holds no connection or membership of a closed connection; no worker crashed; and the
gateway's memory is back near where it started. Both run with ``--faults 429=0.1,500=0.05``:
one @connections call in ten is throttled and one in twenty fails, and still nothing is lost
(the runtime retries while the invocation has time) and nothing is duplicated (a ``say`` sent
again carries the same id).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from chat_storm import missing_deliveries, percentile_ms, plan, storm
from reliability_support import EXAMPLES, GatewayProcess, wait_until

CHAT = EXAMPLES / "chat"
#: API Gateway's @connections faults the storms run under: 10% throttled, 5% server errors.
FAULTS = ("--faults", "429=0.1,500=0.05")
#: Memory the gateway may keep after the storm, over its level after a warm-up round: its
#: record of closed connection ids (so late @connections calls get 410), moto's room history
#: and allocator slack (a leak of the gateway's own per-connection state would cost far more).
RSS_SLACK_KB = 48 * 1024
RSS_SLACK_PER_CLIENT_KB = 100


def _settled(gateway: GatewayProcess) -> bool:
    return not gateway.live_connections() and not gateway.connection_items()


def _run_storm(
    gateway: GatewayProcess, clients: int, seconds: float, seed: int, **shape: Any
) -> dict[str, Any]:
    # A warm-up round first, so lazy imports and first-use buffers count in the baseline.
    warmup = plan(4, 2, seed=seed + 1)
    asyncio.run(storm(gateway.ws_url, warmup, seed + 1))
    wait_until(lambda: _settled(gateway), 60, "the warm-up clients to be cleaned up")
    rss_start = gateway.rss_kb()

    planned = plan(clients, seconds, seed=seed, **shape)
    stats = asyncio.run(storm(gateway.ws_url, planned, seed))
    # Every client is gone now; $disconnect must clean up after each of them.
    settled = True
    try:
        wait_until(lambda: _settled(gateway), 60, "every $disconnect to clean up the table")
    except AssertionError:
        settled = False  # the figures below say how far it got
    rss_end = gateway.rss_kb()

    problems, owed, delivered = missing_deliveries(planned)
    joins = [t for c in planned for t in c.join_times]
    says = [t for c in planned for t in c.say_times]
    figures = {
        "clients": clients,
        "chatting in rooms": sum(not c.quiet for c in planned),
        "held at once": stats["held"],
        "closed cleanly": sum(c.ending == "close" for c in planned),
        "dropped (no close frame)": sum(c.ending != "close" for c in planned),
        "dropped right after sending": stats["dropped mid-message"],
        "messages sent (acknowledged)": sum(len(c.said) for c in planned),
        "deliveries owed": owed,
        "deliveries made": delivered,
        "says sent again (after an error or a partial sent)": sum(
            len(c.recovered) for c in planned
        ),
        "join p50/p99/max ms": [percentile_ms(joins, q) for q in (0.5, 0.99, 1.0)],
        "say p50/p99/max ms": [percentile_ms(says, q) for q in (0.5, 0.99, 1.0)],
        "cleaned up within 60 s of the last client": settled,
        "connections still open": len(gateway.live_connections()),
        "items left": len(gateway.connection_items()),
        "rss start KB": rss_start,
        "rss end KB": rss_end,
        "runtime ERROR lines": len(gateway.runtime_logs("ERROR")),
        "EMF": dict(gateway.emf_totals()),
    }
    print("\nstorm figures:", *(f"  {k}: {v}" for k, v in figures.items()), sep="\n")
    return {
        "figures": figures,
        "problems": problems,
        "failures": [f"{c.name}: {c.failure}" for c in planned if c.failure],
        "error_frames": [e for c in planned for e in c.errors],
    }


def _check(gateway: GatewayProcess, result: dict[str, Any], clients: int) -> None:
    figures = result["figures"]
    assert figures["cleaned up within 60 s of the last client"]
    assert result["failures"] == []
    assert result["problems"] == []
    assert figures["deliveries owed"] > clients / 2  # the rule was exercised, not vacuous
    assert figures["dropped (no close frame)"] >= clients * 0.2
    assert result["error_frames"] == []
    assert gateway.proc.poll() is None, "the gateway died"
    console = gateway.output()
    for sign in (
        "worker crash",
        "integration timeout",
        "function timeout",
        "gateway error",
        "Traceback",
    ):
        assert sign not in console
    slack = RSS_SLACK_KB + RSS_SLACK_PER_CLIENT_KB * clients
    assert figures["rss end KB"] <= figures["rss start KB"] + slack


def test_storm_of_clients_that_close_and_drop_loses_no_message_and_leaves_no_items(
    gateway_process: Any,
) -> None:
    gateway = gateway_process(
        CHAT, "--workers", "2", "--show-metrics", *FAULTS, "--faults-seed", "7"
    )
    result = _run_storm(gateway, clients=100, seconds=15, seed=7, chatty_share=0.35)
    _check(gateway, result, clients=100)


@pytest.mark.soak
@pytest.mark.timeout(1800)
def test_soak_500_clients_over_a_minute(gateway_process: Any) -> None:
    gateway = gateway_process(
        CHAT, "--workers", "2", "--show-metrics", *FAULTS, "--faults-seed", "11"
    )
    result = _run_storm(
        gateway, clients=500, seconds=60, seed=11, chatty_share=0.2, pause=(5.0, 10.0)
    )
    _check(gateway, result, clients=500)
