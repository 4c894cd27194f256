"""Settings come from the example's main.tf module block, with clear errors when they cannot."""

from __future__ import annotations

import pytest
from local_support import RECORDER, ROOT
from wsgate_local.config import ConfigError, load_config


def test_chat_example_config_comes_from_its_module_block():
    config = load_config(ROOT / "examples" / "chat")
    assert config.name == "chat"
    assert config.source_dir == ROOT / "examples" / "chat" / "src"
    assert config.handler == "app.app"
    assert set(config.routes) == {"hello", "join", "leave", "say", "members", "ping"}
    assert config.stage_name == "dev"
    assert config.table_name == "chat-connections"
    assert config.static_dir == ROOT / "examples" / "chat" / "static"


def test_recorder_config_reads_two_way_routes_timeout_and_environment():
    config = load_config(RECORDER)
    assert config.two_way_routes == ("reply",)
    assert config.integration_timeout_ms == 1500
    assert config.environment == {"RECORDER_GREETING": "from main.tf"}
    assert config.route_selection_expression == "$request.body.action"


def test_missing_module_block_is_an_error_naming_the_file(tmp_path):
    (tmp_path / "main.tf").write_text('resource "null_resource" "x" {}\n')
    with pytest.raises(ConfigError, match=str(tmp_path / "main.tf")):
        load_config(tmp_path)


def test_missing_main_tf_is_an_error_naming_the_file(tmp_path):
    with pytest.raises(ConfigError, match=r"main\.tf"):
        load_config(tmp_path)


def test_module_from_another_source_is_not_mistaken_for_wsgate(tmp_path):
    (tmp_path / "main.tf").write_text(
        'module "vpc" {\n  source = "terraform-aws-modules/vpc/aws"\n  name = "x"\n}\n'
    )
    with pytest.raises(ConfigError, match="no `module` block"):
        load_config(tmp_path)


def test_module_sourced_by_absolute_path_to_a_checkout_is_found(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "main.tf").write_text(
        f'module "ws" {{\n  source = "{ROOT}"\n  name = "abs"\n'
        '  source_dir = "${path.module}/src"\n  routes = ["go"]\n}\n'
    )
    config = load_config(tmp_path)
    assert config.name == "abs"
    assert list(config.routes) == ["go"]


def test_local_path_to_a_directory_without_the_runtime_is_not_wsgate(tmp_path):
    (tmp_path / "other").mkdir()
    (tmp_path / "main.tf").write_text('module "m" {\n  source = "./other"\n  name = "x"\n}\n')
    with pytest.raises(ConfigError, match="no `module` block"):
        load_config(tmp_path)


def test_function_timeouts_and_throttling_come_from_the_module_block(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "main.tf").write_text(
        f'module "ws" {{\n  source = "{ROOT}"\n  name = "limits"\n'
        '  source_dir = "${path.module}/src"\n  timeout = 120\n  authorizer_timeout = 5\n'
        "  throttling_burst_limit = 20\n  throttling_rate_limit = 2.5\n}\n"
    )
    config = load_config(tmp_path)
    assert (config.timeout_s, config.authorizer_timeout_s) == (120, 5)
    assert (config.throttling_burst_limit, config.throttling_rate_limit) == (20, 2.5)


def test_module_defaults_of_timeouts_and_throttling_match_variables_tf():
    from wsgate_local.config import _parse

    declared = {
        name: block["default"]
        for entry in _parse(ROOT / "variables.tf")["variable"]
        for name, block in entry.items()
        if "default" in block
    }
    config = load_config(ROOT / "examples" / "echo")
    assert config.timeout_s == declared["timeout"]
    assert config.authorizer_timeout_s == declared["authorizer_timeout"]
    assert config.throttling_burst_limit == declared["throttling_burst_limit"]
    assert config.throttling_rate_limit == declared["throttling_rate_limit"]
