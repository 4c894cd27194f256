"""`terraform validate` with the stand-in schema catches the mistakes the real provider would."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tfoffline import Terraform, TerraformError

# fixture directory -> (diagnostic summary, text the detail must name)
BROKEN = {
    "unknown_argument": (
        "Unsupported argument",
        'An argument named "route_selection" is not expected here',
    ),
    "argument_in_wrong_block": (
        "Unsupported argument",
        'An argument named "throttling_burst_limit" is not expected',
    ),
    "missing_required_argument": (
        "Missing required argument",
        'The argument "protocol_type" is required',
    ),
    "two_blocks_where_one_allowed": (
        "Too many ttl blocks",
        'No more than 1 "ttl" blocks are allowed',
    ),
    "undeclared_reference": (
        "Reference to undeclared resource",
        'managed resource "aws_lambda_function" "handler"',
    ),
    "archive_two_sources": (
        "archive_file: only one of source_file, source_dir, source_content or source",
        "got source_file, source_dir",
    ),
    "wrong_value_type": (
        "Incorrect attribute value type",
        'Inappropriate value for attribute "tags"',
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_config_fails_validate_with_the_right_message(
    fixture_config: Callable[[str], Terraform], case: str
) -> None:
    summary, detail = BROKEN[case]
    tf = fixture_config(f"broken/{case}")
    tf.init()
    with pytest.raises(TerraformError) as err:
        tf.validate()
    message = " ".join(str(err.value).split())
    assert summary in message
    assert detail in message
    assert "main.tf" in message


def test_valid_config_passes_validate(fixture_config: Callable[[str], Terraform]) -> None:
    result = fixture_config("valid").validate()
    assert result["valid"] is True
    assert result["error_count"] == 0
