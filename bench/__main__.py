"""``python -m bench [--quick] [--out DIR] [--only SECTION ...]``: run the benchmarks, print one
table, write ``latest.json`` and ``roundtrips.png``.

Full runs write to ``bench/results/``; ``--quick`` runs (shorter, fewer clients, no
serverless-offline) write to ``.cache/bench/quick/`` unless ``--out`` says otherwise, so a quick
check never replaces the committed results.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import broadcast, coldstart, gateway, peer, procs, roundtrip, scale, scale_rows
from .report import RESULTS_DIR, Row, environment, render_table, write_chart, write_json
from .roundtrip import LARGE, SMALL, Point

SECTIONS = ("roundtrip", "peer", "broadcast", "dispatch", "coldstart", "dynamodb", "scale")
TITLES = {
    "roundtrip": "round trips",
    "peer": "peer",
    "broadcast": "broadcast",
    "dispatch": "dispatch",
    "coldstart": "cold start",
    "dynamodb": "local DynamoDB",
    "scale": "scale",
}


@dataclass(frozen=True)
class Settings:
    seconds: float
    warmup: float
    points: tuple[Point, ...]
    peer_points: tuple[Point, ...]
    peer_seconds: float
    peer_warmup: float
    broadcast_clients: int
    broadcast_rounds: int
    dispatch_args: tuple[str, ...]
    coldstart_runs: int
    boto3_runs: int
    #: The scale section: connections in one room, ids per shard, rounds, emulated latency.
    scale_clients: int = 10_000
    scale_shard_size: int = 1000
    scale_rounds: int = 2
    scale_latency_ms: float = 20.0


FULL = Settings(
    seconds=4.0,
    warmup=1.0,
    points=(
        Point(10, SMALL),
        Point(50, SMALL),
        Point(100, SMALL),
        Point(10, LARGE),
        Point(100, LARGE),
    ),
    peer_points=(Point(10, SMALL), Point(50, SMALL)),
    peer_seconds=5.0,
    peer_warmup=3.0,
    broadcast_clients=1000,
    broadcast_rounds=2,
    dispatch_args=(),
    coldstart_runs=30,
    boto3_runs=5,
)
QUICK = Settings(
    seconds=1.0,
    warmup=0.3,
    points=(Point(10, SMALL), Point(50, SMALL)),
    peer_points=(),
    peer_seconds=0.0,
    peer_warmup=0.0,
    broadcast_clients=50,
    broadcast_rounds=1,
    dispatch_args=("--quick",),
    coldstart_runs=8,
    boto3_runs=0,
    scale_clients=500,
    scale_shard_size=100,
    scale_rounds=1,
)

RPS_TARGETS = {10: 2000.0, 100: 1500.0}
P99_TARGET_MS = 100.0
PEER_TARGETS = {10: 5.0, 50: 20.0}
BROADCAST_TARGET = 8.0
DISPATCH_TARGET_US = 5.0
COLDSTART_TARGET_MS = 15.0
ZIP_TARGET_BYTES = 100 * 1024


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def size_label(payload: int) -> str:
    return "64 B" if payload == SMALL else f"{payload // 1000} KB"


def point_label(p: Point) -> str:
    return f"{p.clients} clients, {size_label(p.payload)}"


def _series(label: str, results: dict[Point, dict[str, Any]], payload: int) -> list[Any]:
    return [
        {"clients": p.clients, "rps": r["rps"], "p99_ms": r["p99_ms"]}
        for p, r in sorted(results.items(), key=lambda kv: kv[0].clients)
        if p.payload == payload
    ]


def _mean(result: dict[str, Any], key: str) -> float:
    return statistics.mean(r[key] for r in result["rounds"])


def _health(result: dict[str, Any]) -> str:
    """What went wrong during a load run, if anything (shown as a note)."""
    problems = []
    if result.get("error_count"):
        problems.append(f"{result['error_count']} clients failed ({result['errors'][0]})")
    if result.get("mismatches"):
        samples = result.get("mismatch_samples") or [{}]
        example = samples[0].get("got", "")[:70]
        problems.append(
            f"{result['mismatches']} replies were not the echo of the message sent"
            + (f" (e.g. {example})" if example else "")
        )
    return "; ".join(problems)


class Bench:
    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.rows: list[Row] = []
        self.series: dict[str, list[Any]] = {}
        self.raw: dict[str, Any] = {}

    def skip(self, section: str, name: str, reason: str, target: str = "") -> None:
        self.rows.append(Row(section, name, None, "", target=target, note=reason))

    # 1 -------------------------------------------------------------------------------------
    def roundtrip(self) -> None:
        reason = gateway.available()
        if reason:
            self.skip("round trips", "echo through wsgate local", reason)
            return
        if not (roundtrip.ECHO_DIR / "src").is_dir() or not any(
            (roundtrip.ECHO_DIR / "src").glob("*.py")
        ):
            self.skip("round trips", "echo through wsgate local", "examples/echo/src is empty")
            return
        points = list(self.s.points)
        log("round trips: bare websockets and wsgate local examples/echo, point by point")
        with roundtrip.bare_server() as b, roundtrip.wsgate_server() as w:
            res = roundtrip.interleaved([b, w], points, self.s.seconds, self.s.warmup)
        bare, mine = res[b.name], res[w.name]
        self.raw["roundtrip"] = {
            "bare": {point_label(p): r for p, r in bare.items()},
            "wsgate_local": {point_label(p): r for p, r in mine.items()},
        }
        for payload in sorted({p.payload for p in points}):
            self.series[f"bare websockets, {size_label(payload)}"] = _series("", bare, payload)
            self.series[f"wsgate local, {size_label(payload)}"] = _series("", mine, payload)
        for p in points:
            b, m = bare[p], mine[p]
            target = RPS_TARGETS.get(p.clients)
            self.rows.append(
                Row(
                    "round trips",
                    f"echo rt/s, {point_label(p)}",
                    m["rps"],
                    "rt/s",
                    baseline=b["rps"],
                    baseline_name="bare",
                    ratio=m["rps"] / b["rps"] if b["rps"] else None,
                    ratio_label="of bare",
                    target=f">= {target:,.0f} rt/s" if target else "",
                    passed=(m["rps"] >= target) if target else None,
                    note=_health(m) or _health(b),
                )
            )
            self.rows.append(
                Row(
                    "round trips",
                    f"echo p99, {point_label(p)}",
                    m["p99_ms"],
                    "ms",
                    baseline=b["p99_ms"],
                    baseline_name="bare",
                    ratio=m["p99_ms"] / b["p99_ms"] if b["p99_ms"] else None,
                    ratio_label="of bare",
                    target=f"< {P99_TARGET_MS:.0f} ms",
                    passed=m["p99_ms"] < P99_TARGET_MS,
                )
            )
            self._cpu_row("round trips", p, m, b, "bare", "gateway", "workers")

    def _cpu_row(
        self,
        section: str,
        p: Point,
        mine: dict[str, Any],
        base: dict[str, Any],
        base_name: str,
        main_name: str,
        children_name: str,
    ) -> None:
        """Server CPU per round trip: steadier than throughput when the machine is shared."""
        m, b = mine.get("server_cpu_ms_per_rt"), base.get("server_cpu_ms_per_rt")
        if m is None:
            return
        split = (
            f"{main_name} {mine['server_main_cpu_ms_per_rt']:.2f} ms + "
            f"{children_name} {mine['server_children_cpu_ms_per_rt']:.2f} ms"
        )
        self.rows.append(
            Row(
                section,
                f"server CPU/rt, {point_label(p)}",
                m,
                "ms",
                baseline=b,
                baseline_name=base_name,
                ratio=(m / b) if b else None,
                ratio_label=f"of {base_name}",
                note=f"wsgate local: {split}",
            )
        )

    # 2 -------------------------------------------------------------------------------------
    def peer(self) -> None:
        name = "wsgate local vs serverless-offline"
        if not self.s.peer_points:
            self.skip("peer", name, "not run with --quick (npm install and start take too long)")
            return
        try:
            log("peer: installing serverless@3 and serverless-offline@13 (once, with npm)")
            versions = peer.ensure_installed()
        except peer.Unavailable as exc:
            for p in self.s.peer_points:
                target = PEER_TARGETS.get(p.clients)
                self.skip("peer", f"{name}, {point_label(p)}", str(exc), f">= {target:.0f}x")
            return
        reason = gateway.available()
        if reason:
            self.skip("peer", name, reason)
            return
        log(f"peer: {versions}")
        points = list(self.s.peer_points)
        log("peer: serverless-offline and wsgate local, point by point")
        with roundtrip.peer_server() as t, roundtrip.wsgate_server() as w:
            res = roundtrip.interleaved(
                [t, w], points, self.s.peer_seconds, max(self.s.warmup, self.s.peer_warmup)
            )
        theirs, mine = res[t.name], res[w.name]
        self.raw["peer"] = {
            "versions": versions,
            "handler": "bench/peer_app/handler.py: post_to_connection back to the sender",
            "serverless_offline": {point_label(p): r for p, r in theirs.items()},
            "wsgate_local": {point_label(p): r for p, r in mine.items()},
        }
        self.series["serverless-offline, 64 B"] = _series("", theirs, SMALL)
        for p in points:
            t, m = theirs[p], mine[p]
            target = PEER_TARGETS.get(p.clients)
            ratio = m["rps"] / t["rps"] if t["rps"] else None
            self.rows.append(
                Row(
                    "peer",
                    f"echo rt/s, {point_label(p)}",
                    m["rps"],
                    "rt/s",
                    baseline=t["rps"],
                    baseline_name="sls-offline",
                    ratio=ratio,
                    ratio_label="faster",
                    target=f">= {target:.0f}x" if target else "",
                    passed=(ratio is not None and ratio >= target) if target else None,
                    note=_health(t),
                )
            )
            self.rows.append(
                Row(
                    "peer",
                    f"echo p99, {point_label(p)}",
                    m["p99_ms"],
                    "ms",
                    baseline=t["p99_ms"],
                    baseline_name="sls-offline",
                    ratio=t["p99_ms"] / m["p99_ms"] if m["p99_ms"] else None,
                    ratio_label="lower",
                )
            )
            self._cpu_row("peer", p, m, t, "sls-offline", "gateway", "workers")

    # 3 -------------------------------------------------------------------------------------
    def broadcast(self) -> None:
        n = self.s.broadcast_clients
        name = f"wsgate.broadcast to {n} clients"
        reason = gateway.available()
        if reason:
            self.skip("broadcast", name, reason, f">= {BROADCAST_TARGET:.0f}x")
            return
        log(f"broadcast: {n} clients through wsgate local")
        r = broadcast.run(n, self.s.broadcast_rounds)
        self.raw["broadcast"] = r
        ratio = r["sequential_s"] / r["broadcast_s"] if r["broadcast_s"] else None
        self.rows.append(
            Row(
                "broadcast",
                f"broadcast to {n}, call time",
                r["broadcast_s"] * 1000,
                "ms",
                baseline=r["sequential_s"] * 1000,
                baseline_name="sequential",
                ratio=ratio,
                ratio_label="faster",
                target=f">= {BROADCAST_TARGET:.0f}x",
                passed=ratio is not None and ratio >= BROADCAST_TARGET,
                note=(
                    f"best of {self.s.broadcast_rounds} alternating rounds; sender CPU per "
                    f"message: sequential {_mean(r, 'sequential_cpu_ms_per_message'):.2f} ms, "
                    f"broadcast {_mean(r, 'broadcast_cpu_ms_per_message'):.2f} ms"
                ),
            )
        )
        e2e = r["sequential_all_received_s"] / r["broadcast_all_received_s"]
        self.rows.append(
            Row(
                "broadcast",
                f"broadcast to {n}, until all have it",
                r["broadcast_all_received_s"] * 1000,
                "ms",
                baseline=r["sequential_all_received_s"] * 1000,
                baseline_name="sequential",
                ratio=e2e,
                ratio_label="faster",
            )
        )
        bad = [
            f"{c['tag']}: {c['missing']} missing, {c['duplicated']} duplicated"
            for round_ in r["rounds"]
            for c in (round_["sequential_check"], round_["broadcast_check"])
            if c["exactly_one"] != n
        ]
        self.rows.append(
            Row(
                "broadcast",
                "each client got exactly one copy",
                float(n),
                "clients",
                target="all",
                passed=r["every_client_exactly_one_copy"],
                note="; ".join(bad),
            )
        )

    # 4 -------------------------------------------------------------------------------------
    def _dispatch_run(self, *extra: str) -> dict[str, Any]:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "dispatch.json"
            subprocess.run(
                [procs.PYTHON, "-m", "bench.dispatch", str(out), *self.s.dispatch_args, *extra],
                env=procs.child_env(),
                cwd=str(procs.ROOT),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=True,
                timeout=300,
            )
            result: dict[str, Any] = json.loads(out.read_text())
            return result

    def _dispatch_row(self, label: str, events: dict[str, Any], judged: bool) -> None:
        added = [e["added_us"] for e in events.values()]
        hand = [e["handwritten_us"] for e in events.values()]
        app = [e["app_us"] for e in events.values()]
        worst = max(events.values(), key=lambda e: e["added_us"])
        self.rows.append(
            Row(
                "dispatch",
                f"added per event, {label}",
                max(added),
                "us",
                baseline=statistics.mean(hand),
                baseline_name="if/elif",
                ratio=statistics.mean(app) / statistics.mean(hand),
                ratio_label="of if/elif",
                target=f"<= {DISPATCH_TARGET_US:.0f} us" if judged else "",
                passed=max(added) <= DISPATCH_TARGET_US if judged else None,
                note=(
                    f"worst of {len(added)} events ({worst['route']}); "
                    f"mean added {statistics.mean(added):.2f} us"
                ),
            )
        )

    def dispatch(self) -> None:
        log("dispatch: App vs if/elif on tests/events")
        plain = self._dispatch_run()
        self.raw["dispatch"] = {"as_deployed": plain}
        self._dispatch_row("as deployed", plain["events"]["INFO"], True)
        self._dispatch_row("log level WARNING", plain["events"]["WARNING"], True)
        if not self.s.dispatch_args:
            log("dispatch: again with aws_xray_sdk importable")
            xray = self._dispatch_run("--xray")
            self.raw["dispatch"]["xray_sdk_importable"] = xray
            self._dispatch_row("X-Ray SDK, no segment", xray["events"]["INFO"], False)

    # 5 -------------------------------------------------------------------------------------
    def coldstart(self) -> None:
        log("cold start: fresh interpreters")
        t = coldstart.startup_times(self.s.coldstart_runs, self.s.boto3_runs)
        z = coldstart.echo_zip_size()
        self.raw["coldstart"] = {"startup": t, "zip": z}
        self.rows.append(
            Row(
                "cold start",
                "import + App(5 routes), added",
                t["added_ms"],
                "ms",
                baseline=t["baseline_ms"],
                baseline_name="python -c pass",
                ratio=t["app_ms"] / t["baseline_ms"],
                ratio_label="of bare start",
                target=f"<= {COLDSTART_TARGET_MS:.0f} ms",
                passed=t["added_ms"] <= COLDSTART_TARGET_MS,
                note=(
                    f"median of {t['runs']} fresh interpreters each, interleaved, importing from "
                    "the extracted echo zip with no .pyc (as Lambda runs it)"
                ),
            )
        )
        self.rows.append(
            Row(
                "cold start",
                "same, .pyc shipped in the zip, added",
                t["cached_added_ms"],
                "ms",
                baseline=t["added_ms"],
                baseline_name="same without .pyc",
                ratio=t["pyc_saving_ratio"],
                ratio_label="of no-.pyc cost",
                note="compile_bytecode: .pyc built for the runtime's Python, /var/task read-only",
            )
        )
        if t["boto3_added_ms"] is not None:
            self.rows.append(
                Row(
                    "cold start",
                    "import boto3, added (scale)",
                    t["boto3_added_ms"],
                    "ms",
                    baseline=t["baseline_ms"],
                    baseline_name="python -c pass",
                    ratio=t["added_ms"] / t["boto3_added_ms"] if t["boto3_added_ms"] else None,
                    ratio_label="wsgate/boto3",
                )
            )
        self.rows.append(
            Row(
                "cold start",
                "echo example zip",
                z["bytes"] / 1024,
                "KB",
                target=f"<= {ZIP_TARGET_BYTES // 1024} KB",
                passed=z["bytes"] <= ZIP_TARGET_BYTES,
                note=f"{z['files']} files: runtime + examples/echo/src, less {z['excludes_from']}",
            )
        )

    # 6 -------------------------------------------------------------------------------------
    def dynamodb(self) -> None:
        log("local DynamoDB: joins and member lists, moto in-process vs the gateway's server")
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "dynamodb.json"
            quick = ("--quick",) if self.s.dispatch_args else ()
            subprocess.run(
                [procs.PYTHON, "-m", "bench.dynamodb", str(out), *quick],
                env=procs.child_env(),
                cwd=str(procs.ROOT),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=True,
                timeout=600,
            )
            r: dict[str, Any] = json.loads(out.read_text())
        self.raw["dynamodb"] = r
        for items, pair in r["sizes"].items():
            mine, base = pair["local_server"], pair["moto_in_process"]
            for op, label in (
                ("join", "join (PutItem + TransactWriteItems)"),
                ("members", "members (Query)"),
            ):
                self.rows.append(
                    Row(
                        "local DynamoDB",
                        f"{label}, table of {int(items):,} items",
                        mine[f"{op}_ms"],
                        "ms",
                        baseline=base[f"{op}_ms"],
                        baseline_name="moto in-process",
                        ratio=base[f"{op}_ms"] / mine[f"{op}_ms"] if mine[f"{op}_ms"] else None,
                        ratio_label="faster",
                        note=(
                            f"CPU per op, caller + server: {mine[f'{op}_cpu_ms']:.2f} ms, "
                            f"moto in-process {base[f'{op}_cpu_ms']:.2f} ms; {r['ops']} ops"
                        ),
                    )
                )

    # 7 -------------------------------------------------------------------------------------
    def scale(self) -> None:
        n = self.s.scale_clients
        reason = gateway.available()
        if reason:
            self.skip("scale", f"publish to {n:,}, inline vs fanned out", reason)
            return
        log(f"scale: {n} clients in one room, {self.s.scale_latency_ms:g} ms latency")
        result = scale.run(n, self.s.scale_shard_size, self.s.scale_latency_ms, self.s.scale_rounds)
        self.raw["scale"] = result
        self.rows.extend(scale_rows.rows(result))
        log(f"scale: again, each function held to Lambda's CPU share ({n} clients)")
        held = scale.run(
            n, self.s.scale_shard_size, self.s.scale_latency_ms, rounds=1, cpu_share="auto"
        )
        self.raw["scale_held"] = held
        self.rows.extend(scale_rows.held_rows(held))


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    # SIGTERM unwinds like Ctrl+C, so every server and load generator started is stopped
    signal.signal(signal.SIGTERM, _interrupt)
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short run (under a minute)")
    parser.add_argument("--out", type=Path, help="directory for latest.json and the chart")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    args = parser.parse_args(argv)

    settings = QUICK if args.quick else FULL
    out_dir = args.out or (procs.ROOT / ".cache" / "bench" / "quick" if args.quick else RESULTS_DIR)
    bench = Bench(settings)
    started = time.monotonic()
    meta = {**environment(), "quick": args.quick, "settings": repr(settings)}
    steps: dict[str, Callable[[], None]] = {
        "roundtrip": bench.roundtrip,
        "peer": bench.peer,
        "broadcast": bench.broadcast,
        "dispatch": bench.dispatch,
        "coldstart": bench.coldstart,
        "dynamodb": bench.dynamodb,
        "scale": bench.scale,
    }
    for section in args.only or SECTIONS:
        try:
            steps[section]()
        except Exception as exc:  # one broken section must not hide the others' figures
            log(f"{section} failed: {traceback.format_exc(limit=3)}")
            reason = f"failed: {type(exc).__name__}: {exc}"[:300]
            bench.skip(TITLES[section], f"{TITLES[section]} (not measured)", reason)
    meta["seconds"] = round(time.monotonic() - started, 1)

    print(render_table(bench.rows))
    write_json(out_dir / "latest.json", bench.rows, bench.series, meta, bench.raw)
    chart = out_dir / "roundtrips.png"
    load = ", ".join(f"{x:.1f}" for x in meta["loadavg_at_start"])
    footnote = (
        f"{meta['utc']}, {meta['cpus']} CPUs, load average at start {load}; "
        f"{'quick run' if args.quick else 'full run'}, {meta['seconds']:.0f} s"
    )
    drawn = write_chart(chart, bench.series, footnote)
    print(f"\nresults: {out_dir / 'latest.json'}" + (f", chart: {chart}" if drawn else ""))
    print(f"took {meta['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
