"""The scale section's rows: what :func:`bench.scale.run` measured, and the projection for AWS
(:mod:`bench.scale_model` states the model)."""

from __future__ import annotations

import math
import statistics
from typing import Any

from . import scale_model
from .report import Row

SECTION = "scale"
#: API Gateway's integration timeout: a publish made from a WebSocket route must return by then.
INTEGRATION_TIMEOUT_S = 29.0
#: The room size the projection is also made for.
LARGE_ROOM = 100_000
#: A fanned-out publish, projected on AWS, is to be at least this many times faster than inline.
PROJECTED_TARGET = 5.0


def _best(rounds: list[dict[str, Any]], mode: str) -> dict[str, Any]:
    return min((r[mode] for r in rounds), key=lambda run: run["last_delivery_s"])


def _checks(result: dict[str, Any]) -> list[dict[str, Any]]:
    runs = [r[m] for r in result["rounds"] for m in ("inline", "fanout")] + result["warmup"]
    return [run["check"] for run in runs]


def _fanout_cpu_per_message(run: dict[str, Any]) -> float:
    return (run["caller_cpu_s"] + sum(run["shard_cpu_s"])) / max(1, sum(run["shard_ids"]))


def _moto_units(units: dict[str, Any]) -> str:
    consumed = units.get("moto_consumed_capacity_one_page") or {}
    return f"{consumed.get('CapacityUnits', 'n/a')}"


def projection(result: dict[str, Any], members: int) -> dict[str, float]:
    """Projected seconds on AWS, inline and fanned out, for a room of ``members``."""
    from wsgate._shard import CHECKPOINT_EVERY
    from wsgate.fanout import INVOKE_WORKERS
    from wsgate.messaging import DEFAULT_MAX_WORKERS

    rounds = result["rounds"]
    inline, fanned = _best(rounds, "inline"), _best(rounds, "fanout")
    n, shard_size = result["clients"], result["shard_size"]
    share = scale_model.vcpu_share(result["memory_mb"])
    rtt = result["latency_ms"] / 1000
    mean_bytes = result["read_units"]["item_bytes_mean"]
    sizes = [round(mean_bytes)] * members
    inline_pages = len(scale_model.query_pages(sizes, members + 2, shard_size))
    fanout_pages = len(scale_model.query_pages(sizes, shard_size + 1, shard_size))
    full = [
        c
        for c, k in zip(fanned["shard_cpu_s"], fanned["shard_ids"], strict=True)
        if k == shard_size
    ]
    shard_cpu = statistics.median(full or fanned["shard_cpu_s"]) / shard_size
    # The caller's CPU: reading pages grows with the members, the rest with the shards.
    page_cpu = result["pages_cpu_s"] / n
    per_shard = max(0.0, fanned["caller_cpu_s"] - result["pages_cpu_s"]) / max(1, fanned["shards"])
    shards = math.ceil(members / shard_size)
    caller_cpu_per_member = page_cpu + per_shard * shards / members
    return {
        "inline_s": scale_model.inline_on_aws(
            members,
            cpu_s_per_message=inline["caller_cpu_s"] / n,
            share=share,
            concurrency=DEFAULT_MAX_WORKERS,
            rtt_s=rtt,
            pages=inline_pages,
        ),
        "fanout_s": scale_model.fanout_on_aws(
            members,
            shard_size=shard_size,
            caller_cpu_s_per_member=caller_cpu_per_member,
            shard_cpu_s_per_message=shard_cpu,
            share=share,
            concurrency=DEFAULT_MAX_WORKERS,
            rtt_s=rtt,
            pages=fanout_pages,
            shard_round_trips=3 + math.ceil(shard_size / CHECKPOINT_EVERY),
            invoke_concurrency=INVOKE_WORKERS,
        ),
        "caller_s": (
            members * caller_cpu_per_member / share
            + fanout_pages * rtt
            + math.ceil(math.ceil(members / shard_size) / INVOKE_WORKERS) * rtt
        ),
        "share": share,
        "read_units": scale_model.read_units(
            scale_model.query_pages(sizes, shard_size + 1, shard_size)
        ),
    }


def _pair(
    title: str, inline: dict[str, Any], fanned: dict[str, Any], notes: tuple[str, str]
) -> list[Row]:
    """The inline row and the fanned-out row measured against it (time to the last delivery)."""
    name_inline, name_fanned = title.split("|")
    return [
        Row(SECTION, name_inline, inline["last_delivery_s"] * 1000, "ms", note=notes[0]),
        Row(
            SECTION,
            name_fanned,
            fanned["last_delivery_s"] * 1000,
            "ms",
            baseline=inline["last_delivery_s"] * 1000,
            baseline_name="inline",
            ratio=inline["last_delivery_s"] / fanned["last_delivery_s"],
            ratio_label="faster",
            note=notes[1],
        ),
    ]


def rows(result: dict[str, Any]) -> list[Row]:
    n, shard_size = result["clients"], result["shard_size"]
    latency = result["latency_ms"]
    rounds = result["rounds"]
    inline, fanned = _best(rounds, "inline"), _best(rounds, "fanout")
    shards = fanned.get("shards", 0)
    scale_note = (
        ""
        if n >= result["requested_clients"]
        else (
            f"{n} connections, not {result['requested_clients']}: the open-file limit is "
            f"{result['fd_limit']}"
        )
    )
    where = f"{n:,} local connections, {latency:g} ms emulated latency"
    out = _pair(
        f"publish to {n:,}, inline: until all have it|"
        f"publish to {n:,}, fanned out ({shards} shards of {shard_size:,})",
        inline,
        fanned,
        (
            (
                f"{where}; one sender, best of {len(rounds)} rounds; "
                f"{n / inline['last_delivery_s']:,.0f} messages/s; the gateway (API Gateway's "
                f"part) used {inline['gateway_cpu_s'] * 1000 / n:.2f} ms of CPU per message. "
                f"{scale_note}"
            ).strip(),
            f"{n / fanned['last_delivery_s']:,.0f} messages/s; the call returned after "
            f"{fanned['call_s'] * 1000:,.0f} ms; first shard started "
            f"{fanned['first_shard_start_s'] * 1000:,.0f} ms after it began; "
            f"{sum(fanned.get('shard_invocations') or [shards]) - shards} hand-offs to a "
            "fresh invocation; the gateway used "
            f"{fanned['gateway_cpu_s'] * 1000 / n:.2f} ms of CPU per message. Locally the "
            "shards share this machine's CPUs with the gateway, the local DynamoDB and the "
            "receivers, so only the projection below says how fan-out does on AWS",
        ),
    )
    inline_cpu = inline["caller_cpu_s"] / n
    fan_cpu = _fanout_cpu_per_message(fanned)
    out.append(
        Row(
            SECTION,
            "sender CPU per message, fanned out",
            fan_cpu * 1000,
            "ms",
            baseline=inline_cpu * 1000,
            baseline_name="inline",
            ratio=fan_cpu / inline_cpu if inline_cpu else None,
            ratio_label="of inline",
            note=(
                f"inline {1 / inline_cpu:,.0f} and fanned out {1 / fan_cpu:,.0f} messages/s per "
                "vCPU; fanned out = the caller's CPU (member pages, Invoke calls) + every "
                "shard's worker CPU, over the messages; the gateway's own CPU (it plays API "
                "Gateway) is not counted"
            ),
        )
    )
    checks = _checks(result)
    duplicated = sum(c["duplicated"] for c in checks)
    missing = sum(c["missing"] for c in checks)
    detail = ", ".join(
        f"{c['tag']}: {c['missing']} missing, {c['duplicated']} duplicated"
        for c in checks
        if c["missing"] or c["duplicated"]
    )
    for label, count in (("duplicates", duplicated), ("losses", missing)):
        out.append(
            Row(
                SECTION,
                f"{label}, all {len(checks)} publishes",
                float(count),
                "messages",
                target="0",
                passed=count == 0,
                note=detail if count else "each client counted every copy of every message",
            )
        )
    crashed = result.get("crashed")
    if crashed:
        from wsgate._shard import CHECKPOINT_EVERY as checkpoint

        check = crashed["check"]
        # The documented bound: a shard whose process dies resends the step it was in.
        bound = math.ceil(crashed.get("shards", 0) / 2) * checkpoint
        for label, count, most in (
            ("duplicates", check["duplicated"], bound),
            ("losses", check["missing"], 0),
        ):
            out.append(
                Row(
                    SECTION,
                    f"{label}, even shards crash midway once",
                    float(count),
                    "messages",
                    target=f"<= {most}" if most else "0",
                    passed=count <= most,
                    note=(
                        f"the worker of each even shard is killed "
                        f"{result.get('crash_after_s', 0.3):g} s into its first attempt; "
                        "Lambda's retry (the gateway's) resumes it from its last checkpoint, "
                        f"so up to {checkpoint} ids (wsgate._shard.CHECKPOINT_EVERY) sent "
                        f"before the crash are sent again; {crashed.get('shards', 0)} shards; "
                        f"the publish's report: {crashed.get('status')}"
                    ),
                )
            )
    units = result["read_units"]
    out.append(
        Row(
            SECTION,
            f"read units per publish to {n:,} (member query)",
            units["fanout"],
            "RCU",
            note=(
                f"{units['fanout_pages']} Query pages (projected to ids, strongly consistent) of "
                f"{units['item_bytes_mean']:.0f}-byte membership items: DynamoDB counts the items "
                "read, rounded up to 4 KB per page, not the projected answer; inline: "
                f"{units['inline']:.0f} RCU in {units['inline_pages']} page(s). Computed from the "
                "item sizes (DynamoDB's size rules): the local DynamoDB (moto) answers "
                f"ConsumedCapacity {_moto_units(units)} for any page, whatever it reads"
            ),
        )
    )
    for members in (n, LARGE_ROOM):
        p = projection(result, members)
        ratio = p["inline_s"] / p["fanout_s"]
        out.append(
            Row(
                SECTION,
                f"projected on AWS, {members:,} members, fanned out",
                p["fanout_s"] * 1000,
                "ms",
                baseline=p["inline_s"] * 1000,
                baseline_name="inline",
                ratio=ratio,
                ratio_label="faster",
                target=f">= {PROJECTED_TARGET:.0f}x",
                passed=ratio >= PROJECTED_TARGET,
                note=(
                    f"{p['share']:.3f} vCPU per function ({result['memory_mb']} MB / 1,769 MB per "
                    f"vCPU), each shard on its own; {latency:g} ms per round trip; "
                    f"{members * inline['caller_cpu_s'] / n / p['share']:,.1f} s of CPU inline "
                    f"(the integration timeout is {INTEGRATION_TIMEOUT_S:.0f} s); the caller "
                    f"returns after {p['caller_s']:.2f} s; {p['read_units']:.0f} RCU per "
                    "publish. Model: bench/scale_model.py"
                ),
            )
        )
    return out


def held_rows(result: dict[str, Any]) -> list[Row]:
    """The pass with every function held to Lambda's CPU share (``wsgate local --cpu-share
    auto``): the publish is made inside a worker, the shards run in workers, each held to
    ``memory_size`` / 1,769 MB of a vCPU; the gateway, the local DynamoDB and the receivers are
    not held (they are AWS's and the clients' parts)."""
    n, shard_size = result["clients"], result["shard_size"]
    run = result["rounds"][0]
    inline, fanned = run["inline"], run["fanout"]
    share = scale_model.vcpu_share(result["memory_mb"])
    shards = fanned.get("shards", 0)
    where = (
        f"{n:,} local connections, {result['latency_ms']:g} ms emulated latency, every function "
        f"held to {share:.3f} vCPU ({result['memory_mb']} MB; wsgate local --cpu-share auto)"
    )
    cut = (
        f"; past the {INTEGRATION_TIMEOUT_S:.0f} s a WebSocket route has, so from a route this "
        "publish would be cut off"
        if inline["call_s"] > INTEGRATION_TIMEOUT_S
        else ""
    )
    out = _pair(
        f"held to Lambda's CPU share: publish to {n:,}, inline|"
        f"held to Lambda's CPU share: publish to {n:,}, fanned out ({shards} shards)",
        inline,
        fanned,
        (
            f"{where}; the call inside the function took {inline['call_s']:,.1f} s and "
            f"{inline['caller_cpu_s']:,.1f} s of CPU{cut}",
            f"shards of {shard_size:,}; the call returned after {fanned['call_s']:,.2f} s; "
            f"first shard started {fanned['first_shard_start_s']:,.2f} s after it began; "
            f"shards' CPU {sum(fanned['shard_cpu_s']):,.1f} s in all; this machine has "
            f"{result.get('cpus') or 'its'} cores for {shards} held shards, the gateway, "
            "the local DynamoDB and the receivers",
        ),
    )
    checks = [inline["check"], fanned["check"], *(w["check"] for w in result["warmup"])]
    for label, key in (("duplicates", "duplicated"), ("losses", "missing")):
        count = sum(c[key] for c in checks)
        out.append(
            Row(
                SECTION,
                f"held to Lambda's CPU share: {label}, all {len(checks)} publishes",
                float(count),
                "messages",
                target="0",
                passed=count == 0,
                note="each client counted every copy of every message",
            )
        )
    return out
