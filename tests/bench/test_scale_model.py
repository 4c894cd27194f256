"""The scale section's arithmetic: DynamoDB item sizes and read units, and the AWS projection."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench import scale_model  # noqa: E402


def test_item_size_adds_attribute_names_and_values_by_dynamodbs_rules() -> None:
    item = {
        "pk": {"S": "room#lobby"},  # 2 + 10
        "ttl": {"N": "1733240000"},  # 3 + (6 significant digits, trailing zeros trimmed: 3) + 1
        "joinedAt": {"N": "1700000000000"},  # 8 + (2 significant digits -> 1) + 1
        "flag": {"BOOL": True},  # 4 + 1
        "rooms": {"SS": ["a", "bc"]},  # 5 + 3
        "data": {"B": b"\x00\x01\x02"},  # 4 + 3
        "ü": {"S": "é"},  # 2 + 2 (UTF-8 bytes)
    }
    assert scale_model.item_size(item) == 12 + 7 + 10 + 5 + 8 + 7 + 4


def test_lists_and_maps_cost_three_bytes_and_one_per_element() -> None:
    value = {"L": [{"S": "ab"}, {"M": {"k": {"N": "7"}}}]}
    # list: 3 + (2 + 1) + map (3 + "k" 1 + number 2 + 1 + 1 element overhead)
    assert scale_model.attribute_size(value) == 3 + 3 + (3 + 1 + 2 + 1) + 1


def test_query_pages_end_at_the_limit_and_at_one_megabyte() -> None:
    pages = scale_model.query_pages([100] * 25, first_page=11, page=5)
    assert [len(p) for p in pages] == [11, 5, 5, 4]
    big = scale_model.query_pages([300_000] * 7, first_page=100, page=100)
    assert [len(p) for p in big] == [3, 3, 1]  # 3 x 300 KB fit in 1 MB, a fourth does not


def test_read_units_round_each_page_up_to_4_kb_and_halve_when_eventually_consistent() -> None:
    pages = [[4096], [1, 1], [4097]]
    assert scale_model.read_units(pages) == 1 + 1 + 2
    assert scale_model.read_units(pages, consistent=False) == 2.0


def test_a_256_mb_function_has_about_a_seventh_of_a_vcpu() -> None:
    assert scale_model.vcpu_share(1769) == 1.0
    assert scale_model.vcpu_share(256) == pytest.approx(0.1447, abs=1e-4)


def test_fanned_out_projection_is_the_caller_plus_the_slowest_shard() -> None:
    common = {"share": 0.5, "concurrency": 10, "rtt_s": 0.02}
    inline = scale_model.inline_on_aws(1000, cpu_s_per_message=0.001, pages=2, **common)
    # 2 pages + 1000 x 1 ms / 0.5 + 100 waves x 20 ms
    assert inline == pytest.approx(0.04 + 2.0 + 2.0)
    fanned = scale_model.fanout_on_aws(
        1000,
        shard_size=100,
        caller_cpu_s_per_member=0.0001,
        shard_cpu_s_per_message=0.001,
        pages=11,
        shard_round_trips=3,
        invoke_concurrency=5,
        **common,
    )
    caller = 1000 * 0.0001 / 0.5 + 11 * 0.02 + 2 * 0.02
    shard = 100 * 0.001 / 0.5 + 10 * 0.02 + 3 * 0.02
    assert fanned == pytest.approx(
        caller + scale_model.ASYNC_START_S + scale_model.COLD_START_S + shard
    )
