# Every variable validation: one value AWS (or the module) would reject, expected to fail the plan
# at that variable. Run with the offline providers: see tests/terraform/test_module_tftest.py.

variables {
  name       = "tftest"
  source_dir = "tests/terraform/fixture/src"
}

run "defaults_plan_cleanly" {
  command = plan
}

run "name_with_spaces_is_rejected" {
  command = plan
  variables {
    name = "bad name"
  }
  expect_failures = [var.name]
}

run "name_longer_than_48_is_rejected" {
  command = plan
  variables {
    name = "a123456789b123456789c123456789d123456789e12345678"
  }
  expect_failures = [var.name]
}

run "empty_source_dir_is_rejected" {
  command = plan
  variables {
    source_dir = " "
  }
  expect_failures = [var.source_dir]
}

run "handler_without_attribute_is_rejected" {
  command = plan
  variables {
    handler = "app"
  }
  expect_failures = [var.handler]
}

run "custom_route_starting_with_dollar_is_rejected" {
  command = plan
  variables {
    routes = ["$join"]
  }
  expect_failures = [var.routes]
}

run "custom_route_with_whitespace_is_rejected" {
  command = plan
  variables {
    routes = ["send message"]
  }
  expect_failures = [var.routes]
}

run "duplicate_route_is_rejected" {
  command = plan
  variables {
    routes = ["say", "say"]
  }
  expect_failures = [var.routes]
}

run "two_way_disconnect_is_rejected" {
  command = plan
  variables {
    two_way_routes = ["$disconnect"]
  }
  expect_failures = [var.two_way_routes]
}

run "http_style_route_selection_expression_is_rejected" {
  command = plan
  variables {
    route_selection_expression = "$request.method $request.path"
  }
  expect_failures = [var.route_selection_expression]
}

run "stage_name_with_dot_is_rejected" {
  command = plan
  variables {
    stage_name = "v1.0"
  }
  expect_failures = [var.stage_name]
}

run "stage_name_default_dollar_is_rejected" {
  command = plan
  variables {
    stage_name = "$default"
  }
  expect_failures = [var.stage_name]
}

run "integration_timeout_below_50ms_is_rejected" {
  command = plan
  variables {
    integration_timeout_ms = 49
  }
  expect_failures = [var.integration_timeout_ms]
}

run "integration_timeout_above_29s_is_rejected" {
  command = plan
  variables {
    integration_timeout_ms = 29001
  }
  expect_failures = [var.integration_timeout_ms]
}

run "burst_above_account_limit_is_rejected" {
  command = plan
  variables {
    throttling_burst_limit = 5001
  }
  expect_failures = [var.throttling_burst_limit]
}

run "negative_rate_is_rejected" {
  command = plan
  variables {
    throttling_rate_limit = -1
  }
  expect_failures = [var.throttling_rate_limit]
}

run "unknown_logging_level_is_rejected" {
  command = plan
  variables {
    execution_logging_level = "DEBUG"
  }
  expect_failures = [var.execution_logging_level]
}

run "authorizer_handler_without_function_is_rejected" {
  command = plan
  variables {
    authorizer_handler = "auth"
  }
  expect_failures = [var.authorizer_handler]
}

run "authorizer_function_arn_that_is_not_a_lambda_arn_is_rejected" {
  command = plan
  variables {
    authorizer_function_arn = "arn:aws:iam::123456789012:role/x"
  }
  expect_failures = [var.authorizer_function_arn]
}

run "http_api_identity_source_is_rejected" {
  command = plan
  variables {
    authorizer_identity_sources = ["$request.header.Authorization"]
  }
  expect_failures = [var.authorizer_identity_sources]
}

run "deprecated_runtime_is_rejected" {
  command = plan
  variables {
    runtime = "python3.9"
  }
  expect_failures = [var.runtime]
}

run "unknown_architecture_is_rejected" {
  command = plan
  variables {
    architecture = "arm32"
  }
  expect_failures = [var.architecture]
}

run "memory_below_128_is_rejected" {
  command = plan
  variables {
    memory_size = 64
  }
  expect_failures = [var.memory_size]
}

run "timeout_above_900_is_rejected" {
  command = plan
  variables {
    timeout = 901
  }
  expect_failures = [var.timeout]
}

run "zero_reserved_concurrency_is_rejected" {
  command = plan
  variables {
    reserved_concurrent_executions = 0
  }
  expect_failures = [var.reserved_concurrent_executions]
}

run "unknown_log_level_is_rejected" {
  command = plan
  variables {
    log_level = "TRACE"
  }
  expect_failures = [var.log_level]
}

run "environment_overriding_wsgate_table_is_rejected" {
  command = plan
  variables {
    environment = { WSGATE_TABLE = "other" }
  }
  expect_failures = [var.environment]
}

run "environment_with_reserved_aws_name_is_rejected" {
  command = plan
  variables {
    environment = { AWS_REGION = "eu-west-1" }
  }
  expect_failures = [var.environment]
}

run "more_than_five_layers_are_rejected" {
  command = plan
  variables {
    layers = ["a", "b", "c", "d", "e", "f"]
  }
  expect_failures = [var.layers]
}

run "kms_alias_instead_of_key_arn_is_rejected" {
  command = plan
  variables {
    kms_key_arn = "alias/aws/dynamodb"
  }
  expect_failures = [var.kms_key_arn]
}

run "retention_cloudwatch_does_not_offer_is_rejected" {
  command = plan
  variables {
    log_retention_in_days = 366
  }
  expect_failures = [var.log_retention_in_days]
}

run "domain_name_with_scheme_is_rejected" {
  command = plan
  variables {
    domain_name = "https://ws.example.com"
  }
  expect_failures = [var.domain_name]
}

run "mapping_key_with_leading_slash_is_rejected" {
  command = plan
  variables {
    api_mapping_key = "/chat"
  }
  expect_failures = [var.api_mapping_key]
}

run "api_description_over_1024_characters_is_rejected" {
  command = plan
  variables {
    api_description = join("", [for i in range(1025) : "x"])
  }
  expect_failures = [var.api_description]
}
