"""``python -m bench --quick`` produces its table, ``latest.json`` and chart.

These tests check that the benchmark runs end to end and reports every section with a baseline,
a ratio and a pass/miss mark; they never check the figures themselves, which depend on the
machine.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.fanout import Receivers  # noqa: E402
from bench.report import Row, render_table  # noqa: E402

SECTIONS = {
    "round trips",
    "peer",
    "broadcast",
    "dispatch",
    "cold start",
    "local DynamoDB",
    "scale",
}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp("bench")
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout, out


@pytest.mark.slow
@pytest.mark.timeout(360)
def test_quick_run_prints_one_table_with_every_section(quick_run: tuple[str, Path]) -> None:
    stdout, _ = quick_run
    header = stdout.splitlines()[0].split()
    assert header == ["section", "measurement", "value", "baseline", "ratio", "target", "mark"]
    body = stdout.split("\n\n")[0].splitlines()[2:]
    # the section column is as wide as its longest name; columns are two spaces apart
    assert {re.split(r"\s{2,}", line)[0] for line in body} == SECTIONS
    # every measured row carries its mark; skipped rows say so
    for line in body:
        assert line.rstrip().endswith(("pass", "MISS", "-")), line
    assert "latest.json" in stdout


@pytest.mark.slow
@pytest.mark.timeout(360)
def test_quick_run_writes_results_json_and_chart(quick_run: tuple[str, Path]) -> None:
    _, out = quick_run
    doc = json.loads((out / "latest.json").read_text())
    rows = doc["results"]
    assert {row["section"] for row in rows} == SECTIONS
    measured = [row for row in rows if row["value"] is not None]
    assert {row["section"] for row in measured} >= {"round trips", "broadcast", "dispatch", "scale"}
    for row in measured:
        assert row["mark"] in {"pass", "MISS", "-"}
        if row["target"]:
            assert row["mark"] in {"pass", "MISS"}, row
    with_baseline = [row for row in measured if row["baseline"] is not None]
    assert with_baseline and all(row["ratio"] is not None for row in with_baseline)
    # the chart plots round trips/s and p99 for the bare server and the local gateway
    assert {"bare websockets, 64 B", "wsgate local, 64 B"} <= set(doc["series"])
    for points in doc["series"].values():
        assert len(points) >= 2 and all({"clients", "rps", "p99_ms"} <= set(p) for p in points)
    assert (out / "roundtrips.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_broadcast_check_tells_missing_and_duplicated_copies_apart() -> None:
    rx = Receivers()
    rx.n = 3
    rx.record(0, '{"tag": "b"}')
    rx.record(1, '{"tag": "b"}')
    rx.record(1, '{"tag": "b"}')
    rx.record(2, "not json")
    summary = rx.summary("b")
    assert (summary["exactly_one"], summary["duplicated"], summary["missing"]) == (1, 1, 1)


def test_a_skipped_measurement_is_shown_as_skipped_with_its_reason() -> None:
    table = render_table(
        [
            Row("peer", "echo vs peer", None, "", target=">= 5x", note="npm cannot reach it"),
            Row("cold start", "zip", 40.0, "KB", target="<= 100 KB", passed=True),
        ]
    )
    peer_line = next(line for line in table.splitlines() if line.startswith("peer"))
    assert "skipped" in peer_line and peer_line.rstrip().endswith("-")
    assert "npm cannot reach it" in table
    assert next(line for line in table.splitlines() if line.startswith("cold")).endswith("pass")
