"""Broadcast: ``wsgate.broadcast`` to N local clients against a sequential ``post_to_connection``
loop over the same connections, both through the local gateway's @connections API.

:func:`run` starts ``wsgate local bench/apps/fanout`` and this module's driver
(``python -m bench.broadcast ENDPOINT WS_URL --clients N``), which starts the receivers
(:mod:`bench.fanout`), times both ways of sending in alternating rounds, and checks that every
client received exactly one copy of every message.
"""

from __future__ import annotations

import argparse
import json
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

from . import gateway, procs

FANOUT_DIR = Path(__file__).resolve().parent / "apps" / "fanout"
PAYLOAD_TEXT = "x" * 40


def run(clients: int, rounds: int) -> dict[str, Any]:
    with gateway.running(FANOUT_DIR) as gw:
        argv = [
            procs.PYTHON,
            "-m",
            "bench.broadcast",
            gw.management_endpoint,
            gw.ws_url,
            "--clients",
            str(clients),
            "--rounds",
            str(rounds),
        ]
        result: dict[str, Any] = procs.run_json(argv, timeout=240 + clients * 0.2)
        return result


def _read_json_line(stream: IO[str], timeout: float) -> Any:
    ready, _, _ = select.select([stream], [], [], timeout)
    if not ready:
        raise TimeoutError(f"the receivers said nothing within {timeout:.0f} s")
    line = stream.readline()
    if not line:
        raise RuntimeError("the receivers exited early")
    return json.loads(line)


def drive(args: argparse.Namespace) -> dict[str, Any]:
    import boto3
    import wsgate

    receivers = subprocess.Popen(
        [procs.PYTHON, "-m", "bench.fanout", args.ws_url, "--clients", str(args.clients)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=procs.child_env(),
        start_new_session=True,
    )
    assert receivers.stdin is not None and receivers.stdout is not None
    try:
        t0 = time.monotonic()
        ids: list[str] = _read_json_line(receivers.stdout, 120 + args.clients * 0.1)["ids"]
        connect_s = time.monotonic() - t0

        def verify(tag: str) -> dict[str, Any]:
            assert receivers.stdin is not None and receivers.stdout is not None
            receivers.stdin.write(f"report {tag} 30\n")
            receivers.stdin.flush()
            summary: dict[str, Any] = _read_json_line(receivers.stdout, 60)
            return summary

        client = boto3.client(
            "apigatewaymanagementapi", endpoint_url=args.endpoint, region_name="us-east-1"
        )
        # both paths build their client and open their first connection before the clock runs
        client.post_to_connection(ConnectionId=ids[0], Data=json.dumps({"tag": "warm"}).encode())
        wsgate.send(ids[0], {"tag": "warm"}, endpoint=args.endpoint)

        rounds: list[dict[str, Any]] = []
        for r in range(args.rounds):
            tag = f"seq-{r}"
            data = json.dumps({"tag": tag, "text": PAYLOAD_TEXT}).encode()
            started, cpu = time.monotonic(), time.process_time()
            for cid in ids:
                client.post_to_connection(ConnectionId=cid, Data=data)
            seq_s = time.monotonic() - started
            seq_cpu = time.process_time() - cpu
            seq_check = verify(tag)

            tag = f"bcast-{r}"
            started_b, cpu = time.monotonic(), time.process_time()
            report = wsgate.broadcast(
                ids, {"tag": tag, "text": PAYLOAD_TEXT}, endpoint=args.endpoint
            )
            bcast_s = time.monotonic() - started_b
            bcast_cpu = time.process_time() - cpu
            bcast_check = verify(tag)
            rounds.append(
                {
                    "sequential_s": seq_s,
                    "sequential_all_received_s": (seq_check["last_receipt"] or started) - started,
                    "sequential_check": seq_check,
                    "sequential_cpu_ms_per_message": seq_cpu * 1000 / len(ids),
                    "broadcast_cpu_ms_per_message": bcast_cpu * 1000 / len(ids),
                    "broadcast_s": bcast_s,
                    "broadcast_all_received_s": (bcast_check["last_receipt"] or started_b)
                    - started_b,
                    "broadcast_check": bcast_check,
                    "broadcast_report": {
                        "delivered": len(report.delivered),
                        "gone": len(report.gone),
                        "failed": len(report.failed),
                        "failures": dict(list(report.failed.items())[:3]),
                    },
                }
            )
        receivers.stdin.write("quit\n")
        receivers.stdin.flush()
        receivers.wait(timeout=30)
    finally:
        procs.stop(receivers, grace=2.0)

    checks = [c for r in rounds for c in (r["sequential_check"], r["broadcast_check"])]
    return {
        "clients": args.clients,
        "connect_s": connect_s,
        "rounds": rounds,
        "sequential_s": min(r["sequential_s"] for r in rounds),
        "broadcast_s": min(r["broadcast_s"] for r in rounds),
        "sequential_all_received_s": min(r["sequential_all_received_s"] for r in rounds),
        "broadcast_all_received_s": min(r["broadcast_all_received_s"] for r in rounds),
        "every_client_exactly_one_copy": all(c["exactly_one"] == args.clients for c in checks),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("endpoint")
    parser.add_argument("ws_url")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(json.dumps(drive(args)))


if __name__ == "__main__":
    sys.exit(main())
