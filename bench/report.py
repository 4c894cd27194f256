"""Result rows, the printed table, ``latest.json`` and the chart."""

from __future__ import annotations

import json
import math
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass
class Row:
    """One measured figure, its baseline, and the target it is judged against."""

    section: str
    name: str
    value: float | None
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    ratio: float | None = None
    ratio_label: str = ""
    target: str = ""
    passed: bool | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def mark(self) -> str:
        if self.passed is None:
            return "-"
        return "pass" if self.passed else "MISS"


def fmt(value: float | None, unit: str = "") -> str:
    """A figure in a few significant digits, with its unit."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if abs(value) >= 1000:
        text = f"{value:,.0f}"
    elif abs(value) >= 100:
        text = f"{value:.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def render_table(rows: list[Row]) -> str:
    """One plain-text table: figure, baseline, ratio, target and a pass/miss mark per row."""
    header = ["section", "measurement", "value", "baseline", "ratio", "target", "mark"]
    lines: list[list[str]] = []
    for row in rows:
        if row.value is None:
            lines.append([row.section, row.name, "skipped", "", "", row.target, "-"])
            continue
        base = ""
        if row.baseline is not None:
            base = fmt(row.baseline, row.unit)
            if row.baseline_name:
                base = f"{base} ({row.baseline_name})"
        ratio = ""
        if row.ratio is not None:
            ratio = f"{row.ratio:.2f}x"
            if row.ratio_label:
                ratio = f"{ratio} {row.ratio_label}"
        lines.append(
            [row.section, row.name, fmt(row.value, row.unit), base, ratio, row.target, row.mark]
        )
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    out = [
        "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    for line in lines:
        out.append("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
    notes = [f"  [{r.section}] {r.name}: {r.note}" for r in rows if r.note]
    if notes:
        out.append("")
        out.append("notes:")
        out.extend(notes)
    return "\n".join(out)


def environment() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg_at_start": list(os.getloadavg()),
    }


def write_json(
    path: Path,
    rows: list[Row],
    series: dict[str, Any],
    meta: dict[str, Any],
    raw: dict[str, Any] | None = None,
) -> None:
    """Write the results atomically, so a crashed run never leaves half a file.

    ``results`` holds the table's rows, ``series`` the chart's points and ``raw`` every
    measurement as the load generators and timers reported it.
    """
    payload = {
        "meta": meta,
        "results": [{**asdict(r), "mark": r.mark} for r in rows],
        "series": series,
        "raw": raw or {},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
    tmp.replace(path)


def _style(label: str) -> tuple[str, str]:
    """Colour by server, line style by payload."""
    colour = (
        "tab:gray" if "bare" in label else ("tab:orange" if "serverless" in label else "tab:blue")
    )
    return colour, ("--" if "KB" in label else "-")


def write_chart(path: Path, series: dict[str, Any], footnote: str = "") -> bool:
    """Round trips/s and p99 latency against client count, one line per server and payload.

    ``series`` maps a label (``"wsgate local, 64 B"``) to a list of points
    ``{"clients", "rps", "p99_ms"}``. Returns False when there is nothing to draw.
    """
    lines = {k: v for k, v in series.items() if v}
    if not lines:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_rps, ax_p99) = plt.subplots(1, 2, figsize=(11, 4.4))
    for label, points in sorted(lines.items()):
        pts = sorted(points, key=lambda p: p["clients"])
        xs = [p["clients"] for p in pts]
        colour, style = _style(label)
        ax_rps.plot(xs, [p["rps"] for p in pts], style, color=colour, marker="o", label=label)
        ax_p99.plot(xs, [p["p99_ms"] for p in pts], style, color=colour, marker="o", label=label)
    ax_p99.axhline(100, color="tab:red", linewidth=0.8, linestyle=":", label="p99 target (100 ms)")
    ax_rps.set_title("Echo round trips per second (higher is better)")
    ax_rps.set_xlabel("concurrent clients")
    ax_rps.set_ylabel("round trips / s")
    ax_rps.set_yscale("log")
    ax_p99.set_title("p99 round-trip latency (lower is better)")
    ax_p99.set_xlabel("concurrent clients")
    ax_p99.set_ylabel("ms")
    ax_p99.set_yscale("log")
    for ax in (ax_rps, ax_p99):
        ax.grid(True, which="both", alpha=0.3)
    ax_rps.legend(fontsize=7, loc="best", handlelength=4)
    if footnote:
        fig.text(0.01, 0.01, footnote, fontsize=7, color="dimgray")
    fig.tight_layout(rect=(0, 0.04 if footnote else 0, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
