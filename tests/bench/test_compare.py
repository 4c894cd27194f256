"""``python -m bench.compare REF`` measures another revision's runtime beside the working tree.

The figures depend on the machine and are never checked; what is checked is that each runtime
is the one measured (its own ``wsgate`` package, exported from git), and how rounds are combined.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench import compare  # noqa: E402


def _run(app_us: float, hand_us: float) -> dict[str, object]:
    row = {"route": "$connect", "app_us": app_us, "handwritten_us": hand_us}
    return {"events": {"INFO": {"connect": row}}}


def test_each_event_counts_its_best_round() -> None:
    summary = compare.dispatch_summary([_run(9.0, 1.0), _run(7.0, 2.0), _run(8.0, 0.5)])
    row = summary["INFO"]["events"]["connect"]
    assert (row["app_us"], row["handwritten_us"], row["added_us"]) == (7.0, 0.5, 6.5)
    assert summary["INFO"]["worst_route"] == "$connect"


def test_a_revision_is_exported_from_git_with_its_own_wsgate(tmp_path: Path) -> None:
    runtime = compare.export("HEAD", tmp_path)
    assert (runtime.lambda_dir / "wsgate" / "__init__.py").is_file()
    assert runtime.lambda_dir.is_relative_to(tmp_path)
    assert compare.export(str(runtime.lambda_dir), tmp_path) == compare.Runtime(
        str(runtime.lambda_dir), runtime.lambda_dir.resolve()
    )


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_compare_prints_one_column_per_runtime_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "compare.json"
    command = ["-m", "bench.compare", "HEAD", "--quick", "--rounds", "1", "--out", str(out)]
    proc = subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    header = proc.stdout.splitlines()[0]
    assert "HEAD (" in header and "working tree (" in header
    doc = json.loads(out.read_text())
    assert doc["runtimes"][-1].startswith("working tree (")
    for label in doc["runtimes"]:
        assert set(doc["dispatch"][label]) == {"INFO", "WARNING"}
        for variant in ("no_pyc", "pyc"):
            row = doc["coldstart"][f"{label}|{variant}"]
            assert row["inside_cpu_ms"] > 0 and row["after_boto3_cpu_ms"] > 0
            assert doc["zip"][label][variant]["bytes"] > 0
