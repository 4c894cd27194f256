"""The arithmetic of the scale section: DynamoDB read units and the projection for AWS.

Read units. DynamoDB counts a Query by the items it reads, not by what a projection returns: the
sizes of all items a page reads are added up and rounded up to the next 4 KB; a strongly
consistent read costs one read unit per 4 KB, an eventually consistent one half ("DynamoDB read
and write operations", Developer Guide: Query). An item's size is the sum of its attribute names
and values: strings by UTF-8 bytes, numbers about one byte per two significant digits plus one,
binary by raw bytes, sets by their members ("DynamoDB item sizes and formats"). A page also ends
at 1 MB of items read (Query API reference).

Projection. A Lambda function gets CPU in proportion to its memory, one vCPU at 1,769 MB ("Configure
Lambda function memory", Developer Guide), so a 256 MB function has 256/1769 = 0.145 vCPU. Each
fanned-out shard runs in an execution environment of its own, so shards do not share CPU. The
model, per sender (the inline publisher, or one shard):

    time = CPU seconds measured locally / vCPU share  +  ceil(messages / concurrency) x round trip

the two terms added: CPU and network waits are taken not to overlap, an upper bound. A fanned-out
publish adds the caller (its CPU / vCPU share, one round trip per member page read), the start
of an asynchronous invocation and a cold start (assumed figures, not measured here), and the
slowest shard, with its DynamoDB round trips (lease, checkpoints, report). The caller's pages and
the shards' sending are added although the first shards start while later pages are read.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

#: "At 1,769 MB, a function has the equivalent of one vCPU" (Lambda Developer Guide).
MB_PER_VCPU = 1769
READ_UNIT_BYTES = 4096
QUERY_PAGE_BYTES = 1024 * 1024
#: Assumed, not measured: time from an Event invocation to its handler starting on a warm
#: environment, and the extra time of a cold start of a Python function that imports boto3.
ASYNC_START_S = 0.1
COLD_START_S = 0.5


def vcpu_share(memory_mb: int) -> float:
    """The vCPU share of a function with ``memory_mb`` (linear up to one vCPU at 1,769 MB)."""
    return memory_mb / MB_PER_VCPU


def attribute_size(value: Mapping[str, Any]) -> int:
    """The size of one attribute value in DynamoDB's JSON form (``{"S": "..."}``...)."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(str(inner).encode())
    if kind == "N":
        digits = Decimal(str(inner)).normalize().as_tuple().digits
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(s).encode()) for s in inner)
    if kind == "NS":
        return sum(attribute_size({"N": n}) for n in inner)
    if kind == "L":
        return 3 + sum(attribute_size(v) + 1 for v in inner)
    if kind == "M":
        return 3 + sum(len(k.encode()) + attribute_size(v) + 1 for k, v in inner.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    """An item's size as DynamoDB counts it: attribute names plus values."""
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def query_pages(sizes: Sequence[int], first_page: int, page: int) -> list[list[int]]:
    """Item sizes split into the pages a paginated Query reads: ``first_page`` items, then
    ``page`` items each, every page also ending at 1 MB of items read."""
    pages: list[list[int]] = []
    limit, current, total = first_page, [], 0
    for size in sizes:
        if len(current) >= limit or total + size > QUERY_PAGE_BYTES:
            pages.append(current)
            limit, current, total = page, [], 0
        current.append(size)
        total += size
    if current or not pages:
        pages.append(current)
    return pages


def read_units(pages: Iterable[Sequence[int]], *, consistent: bool = True) -> float:
    """Read units of a Query read as ``pages`` (item sizes per page)."""
    units = sum(math.ceil(sum(p) / READ_UNIT_BYTES) if p else 1 for p in pages)
    return float(units if consistent else units / 2)


def sender_seconds(
    messages: int, cpu_s_per_message: float, share: float, concurrency: int, rtt_s: float
) -> float:
    """One sender's time on AWS (the module docstring's model)."""
    return messages * cpu_s_per_message / share + math.ceil(messages / concurrency) * rtt_s


def inline_on_aws(
    members: int,
    *,
    cpu_s_per_message: float,
    share: float,
    concurrency: int,
    rtt_s: float,
    pages: int,
) -> float:
    """A publish sent by one function: its member pages, then every message."""
    return pages * rtt_s + sender_seconds(members, cpu_s_per_message, share, concurrency, rtt_s)


def fanout_on_aws(
    members: int,
    *,
    shard_size: int,
    caller_cpu_s_per_member: float,
    shard_cpu_s_per_message: float,
    share: float,
    concurrency: int,
    rtt_s: float,
    pages: int,
    shard_round_trips: int,
    invoke_concurrency: int,
) -> float:
    """A fanned-out publish: the caller reads the pages and starts the shards (``Invoke`` calls
    ``invoke_concurrency`` at a time), then the slowest shard (every shard as big as
    ``shard_size``) runs on its own vCPU share."""
    shards = math.ceil(members / shard_size)
    caller = (
        members * caller_cpu_s_per_member / share
        + pages * rtt_s
        + math.ceil(shards / invoke_concurrency) * rtt_s
    )
    shard = (
        sender_seconds(shard_size, shard_cpu_s_per_message, share, concurrency, rtt_s)
        + shard_round_trips * rtt_s
    )
    return caller + ASYNC_START_S + COLD_START_S + shard
