"""Dispatch and cold start of the runtime at other git revisions, against the working tree.

``python -m bench.compare REF [REF ...] [--rounds N] [--out FILE]`` exports ``lambda/wsgate``
of each ``REF`` with ``git archive`` into a temporary directory, then measures every runtime
with the *same* benchmark code (this tree's ``bench/dispatch.py`` and ``bench/coldstart.py``),
in turn, round after round, so a change in the machine's load hits all of them alike:

- dispatch: one ``bench.dispatch`` child per runtime and round, best of the rounds per event;
- cold start: fresh interpreters importing wsgate from the extracted echo zip, without and with
  ``.pyc`` files, each timed by the CPU time the child used (user + system, from
  ``wait4``), which hardly depends on what the neighbours do; the wall time is kept too; and
  the same after an untimed ``import boto3``, which the first event that touches the table or
  sends does in Lambda (it loads typing, dataclasses and inspect too): what wsgate adds to a
  container that loads boto3 anyway;
- the echo example's zip, built by the module's packager from each runtime.

It prints one table and writes ``bench/results/compare.json`` (``--out`` to change it).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import coldstart, procs
from .report import RESULTS_DIR, environment

WORKING_TREE = "working tree"


@dataclass(frozen=True)
class Runtime:
    label: str
    #: The directory holding the ``wsgate`` package (what goes first on ``PYTHONPATH``).
    lambda_dir: Path


def log(message: str) -> None:
    print(f"[compare {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def export(ref: str, into: Path) -> Runtime:
    """``lambda/wsgate`` as it is at ``ref``, extracted under ``into``; a directory holding a
    ``wsgate`` package (say, an experiment outside git) is used as it is."""
    if (Path(ref) / "wsgate" / "__init__.py").is_file():
        return Runtime(ref, Path(ref).resolve())
    sha = subprocess.run(
        ["git", "rev-parse", "--short", f"{ref}^{{commit}}"],
        cwd=procs.ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", sha, "lambda/wsgate"],
        cwd=procs.ROOT,
        capture_output=True,
        check=True,
    ).stdout
    target = into / sha
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return Runtime(ref if ref.startswith(sha) else f"{ref} ({sha})", target / "lambda")


def working_tree_label() -> str:
    """``working tree (<commit>)``, with ``+`` when ``lambda/wsgate`` has uncommitted changes."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=procs.ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()

    dirty = "+" if git("status", "--porcelain", "--", "lambda/wsgate") else ""
    return f"{WORKING_TREE} ({git('rev-parse', '--short', 'HEAD')}{dirty})"


def _env(runtime: Runtime, **extra: str) -> dict[str, str]:
    env = procs.child_env(**extra)
    env["PYTHONPATH"] = os.pathsep.join([str(runtime.lambda_dir), env["PYTHONPATH"]])
    env.pop("WSGATE_TABLE", None)
    return env


# -- dispatch ----------------------------------------------------------------------------------
def dispatch_once(runtime: Runtime, quick: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "dispatch.json"
        subprocess.run(
            [procs.PYTHON, "-m", "bench.dispatch", str(out), *(["--quick"] if quick else [])],
            env=_env(runtime),
            cwd=str(procs.ROOT),
            stdout=subprocess.DEVNULL,
            check=True,
            timeout=600,
        )
        result: dict[str, Any] = json.loads(out.read_text())
    loaded_from = Path(result["wsgate_file"]).resolve()
    if runtime.lambda_dir.resolve() not in loaded_from.parents:
        raise RuntimeError(f"{runtime.label}: the child imported wsgate from {loaded_from}")
    return result


def dispatch_summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per level: the best of the rounds per event, then the mean and worst over events."""
    out: dict[str, Any] = {}
    for level in runs[0]["events"]:
        names = runs[0]["events"][level].keys()
        best = {
            name: {
                "route": runs[0]["events"][level][name]["route"],
                "app_us": min(r["events"][level][name]["app_us"] for r in runs),
                "handwritten_us": min(r["events"][level][name]["handwritten_us"] for r in runs),
            }
            for name in names
        }
        for row in best.values():
            row["added_us"] = row["app_us"] - row["handwritten_us"]
        worst = max(best.values(), key=lambda r: r["added_us"])
        out[level] = {
            "mean_app_us": statistics.mean(r["app_us"] for r in best.values()),
            "mean_added_us": statistics.mean(r["added_us"] for r in best.values()),
            "worst_added_us": worst["added_us"],
            "worst_route": worst["route"],
            "events": best,
        }
    return out


# -- cold start --------------------------------------------------------------------------------
def _run_child(code: str, env: dict[str, str]) -> tuple[float, float, float]:
    """Wall and CPU seconds (user + system) of one fresh interpreter running ``code``, and
    the CPU seconds the code itself reports on stdout (0.0 when it prints nothing)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [procs.PYTHON, "-c", code],
        env=env,
        stdout=subprocess.PIPE,
        cwd=str(procs.ROOT),
        text=True,
    )
    assert proc.stdout is not None
    printed = proc.stdout.read().strip()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"cold start child failed ({proc.returncode}): {code}")
    return wall, usage.ru_utime + usage.ru_stime, float(printed or 0.0)


#: The app's cold start timed from inside: CPU seconds of the lines after the prelude.
_SELF_TIMED = "\n".join(
    [
        coldstart.APP_WITH_FIVE_ROUTES.splitlines()[0],
        "import time; _started = time.process_time()",
        *coldstart.APP_WITH_FIVE_ROUTES.splitlines()[1:],
        "print(time.process_time() - _started)",
    ]
)
#: The same with boto3 imported first (untimed): the CPU wsgate adds to a container that loads
#: boto3 anyway. In Lambda it does: the module always sets ``WSGATE_TABLE`` and ``$connect``
#: writes the connection there, and sending uses botocore too. boto3 imports typing,
#: dataclasses and inspect itself, so these cost wsgate nothing more there.
_SELF_TIMED_AFTER_BOTO3 = "\n".join(
    [
        coldstart.APP_WITH_FIVE_ROUTES.splitlines()[0],
        "import boto3",
        *_SELF_TIMED.splitlines()[1:],
    ]
)


def extract_echo_zips(runtime: Runtime, into: Path) -> dict[str, Any]:
    """The runtime's echo zip without and with ``.pyc``, extracted; their sizes."""
    dirs = {}
    sizes = {}
    for variant, pyc in (("no_pyc", False), ("pyc", True)):
        data, files, _ = coldstart.build_echo_zip(pyc, runtime_dir=runtime.lambda_dir / "wsgate")
        where = into / variant
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            zf.extractall(where)
        dirs[variant] = where
        sizes[variant] = {"bytes": len(data), "files": files}
    return {"dirs": dirs, "sizes": sizes}


def coldstart_rounds(
    runtimes: list[Runtime], tasks: list[dict[str, Any]], rounds: int
) -> dict[str, Any]:
    """What ``import wsgate`` + ``App()`` add to ``python -c pass``, per runtime and variant.

    Each round runs, for every runtime and variant, ``python -c pass`` and then the app, so a
    baseline is measured next to the figure it is subtracted from. Two figures per time: the
    best (fastest app run less the fastest baseline run: the least disturbed by neighbours)
    and the median.
    """
    samples: dict[tuple[str, str], dict[str, list[float]]] = {}
    plan = [
        (rt, variant, str(task["dirs"][variant]))
        for rt, task in zip(runtimes, tasks, strict=True)
        for variant in ("no_pyc", "pyc")
    ]
    env = procs.child_env(PYTHONDONTWRITEBYTECODE="1")
    env.pop("WSGATE_TABLE", None)
    for _ in range(2):  # warm the page cache
        for _rt, _variant, where in plan:
            _run_child(coldstart.APP_WITH_FIVE_ROUTES.format(path=where), env)
    for _ in range(rounds):
        for rt, variant, where in plan:
            base = _run_child(coldstart.BASELINE.format(path=where), env)
            app = _run_child(_SELF_TIMED.format(path=where), env)
            after_boto3 = _run_child(_SELF_TIMED_AFTER_BOTO3.format(path=where), env)
            s = samples.setdefault((rt.label, variant), {k: [] for k in _SAMPLE_KINDS})
            values = (*base[:2], *app, after_boto3[2])
            for kind, value in zip(_SAMPLE_KINDS, values, strict=True):
                s[kind].append(value * 1000)
    out: dict[str, Any] = {}
    for (label, variant), s in samples.items():
        row: dict[str, Any] = {"samples_ms": s}
        for kind in ("cpu", "wall"):
            apps, bases = s[f"app_{kind}"], s[f"base_{kind}"]
            row[f"{kind}_added_ms"] = min(apps) - min(bases)
            row[f"{kind}_added_median_ms"] = statistics.median(apps) - statistics.median(bases)
        row["inside_cpu_ms"] = min(s["app_inside_cpu"])
        row["inside_cpu_median_ms"] = statistics.median(s["app_inside_cpu"])
        row["after_boto3_cpu_ms"] = min(s["after_boto3_inside_cpu"])
        row["after_boto3_cpu_median_ms"] = statistics.median(s["after_boto3_inside_cpu"])
        out[f"{label}|{variant}"] = row
    return out


_SAMPLE_KINDS = (
    "base_wall",
    "base_cpu",
    "app_wall",
    "app_cpu",
    "app_inside_cpu",
    "after_boto3_inside_cpu",
)


# -- table -------------------------------------------------------------------------------------
def render(runtimes: list[Runtime], result: dict[str, Any]) -> str:
    rows: list[tuple[str, list[str]]] = []

    def add(name: str, values: list[str]) -> None:
        rows.append((name, values))

    for level in result["dispatch"].get(runtimes[0].label, {}):
        label = "as deployed (INFO)" if level == "INFO" else f"log level {level}"
        add(
            f"dispatch, {label}: App per event, mean",
            [f"{result['dispatch'][r.label][level]['mean_app_us']:.2f} us" for r in runtimes],
        )
        add(
            f"dispatch, {label}: added, mean",
            [f"{result['dispatch'][r.label][level]['mean_added_us']:.2f} us" for r in runtimes],
        )
        add(
            f"dispatch, {label}: added, worst event",
            [
                f"{result['dispatch'][r.label][level]['worst_added_us']:.2f} us "
                f"({result['dispatch'][r.label][level]['worst_route']})"
                for r in runtimes
            ],
        )
    for variant, name in (("no_pyc", "no .pyc (as deployed)"), ("pyc", "with .pyc")):
        if result["coldstart"]:
            for how in ("", "_median"):
                add(
                    f"cold start, {name}: import + App() CPU, " + ("median" if how else "best"),
                    [
                        f"{result['coldstart'][f'{r.label}|{variant}'][f'inside_cpu{how}_ms']:.1f}"
                        " ms"
                        for r in runtimes
                    ],
                )
            add(
                f"cold start, {name}: import + App() after boto3's import, CPU, best",
                [
                    f"{result['coldstart'][f'{r.label}|{variant}']['after_boto3_cpu_ms']:.1f} ms"
                    for r in runtimes
                ],
            )
        for kind, how in (("cpu", ""), ("cpu", "_median"), ("wall", "")):
            if not result["coldstart"]:
                continue
            add(
                f"cold start, {name}: added {kind.upper() if kind == 'cpu' else kind}, "
                + ("median" if how else "best"),
                [
                    f"{result['coldstart'][f'{r.label}|{variant}'][f'{kind}_added{how}_ms']:.1f} ms"
                    for r in runtimes
                ],
            )
    for variant, name in (("no_pyc", "echo zip"), ("pyc", "echo zip with .pyc")):
        add(
            name,
            [f"{result['zip'][r.label][variant]['bytes'] / 1024:.1f} KB" for r in runtimes],
        )
    header = ["measurement", *(r.label for r in runtimes)]
    table = [header, *([name, *values] for name, values in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    parser.add_argument(
        "refs",
        nargs="+",
        help="git revisions (or directories holding a wsgate package) to compare with the "
        "working tree",
    )
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each measurement")
    parser.add_argument("--quick", action="store_true", help="shorter dispatch runs")
    parser.add_argument(
        "--only", nargs="+", choices=("dispatch", "coldstart"), help="measure only these"
    )
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "compare.json")
    args = parser.parse_args(argv)
    meta = {**environment(), "rounds": args.rounds, "quick": args.quick}
    with tempfile.TemporaryDirectory(prefix="wsgate-compare-") as tmp:
        root = Path(tmp)
        runtimes = [export(ref, root / "refs") for ref in args.refs]
        runtimes.append(Runtime(working_tree_label(), procs.ROOT / "lambda"))
        tasks = [extract_echo_zips(rt, root / "task" / str(i)) for i, rt in enumerate(runtimes)]
        dispatch_runs: dict[str, list[dict[str, Any]]] = {rt.label: [] for rt in runtimes}
        sections = args.only or ("dispatch", "coldstart")
        for n in range(args.rounds if "dispatch" in sections else 0):
            log(f"dispatch round {n + 1}/{args.rounds}")
            for rt in runtimes:
                dispatch_runs[rt.label].append(dispatch_once(rt, args.quick))
        cold: dict[str, Any] = {}
        if "coldstart" in sections:
            log(f"cold start: {args.rounds * 12} fresh interpreters per runtime")
            cold = coldstart_rounds(runtimes, tasks, args.rounds * 2)
    result = {
        "meta": meta,
        "runtimes": [rt.label for rt in runtimes],
        "dispatch": {
            label: dispatch_summary(runs) for label, runs in dispatch_runs.items() if runs
        },
        "coldstart": cold,
        "zip": {rt.label: task["sizes"] for rt, task in zip(runtimes, tasks, strict=True)},
    }
    table = render(runtimes, result)
    result["table"] = table.splitlines()
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nresults: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
