# Every variable validation, offline. Variable validations are independent of each other, so one
# run can hold one rejected value per variable: the run passes only if *every* listed variable
# fails its validation (a value that slipped through is reported as a missing expected failure).
# Run by tests/terraform/test_module_tftest.py with the stand-in providers.

variables {
  name       = "tftest"
  source_dir = "tests/terraform/fixture/src"
}

run "defaults_plan_cleanly" {
  command = plan
}

# Characters, forms and ranges AWS rejects, one per variable.
run "first_invalid_value_of_every_variable_is_rejected" {
  command = plan
  variables {
    name                           = "bad name"
    source_dir                     = " "
    handler                        = "app"
    routes                         = ["$join"]
    two_way_routes                 = ["$disconnect"]
    route_selection_expression     = "$request.method $request.path"
    api_description                = format("%1025s", "x")
    stage_name                     = "v1.0"
    integration_timeout_ms         = 49
    throttling_burst_limit         = 5001
    throttling_rate_limit          = -1
    execution_logging_level        = "DEBUG"
    authorizer_handler             = "auth"
    authorizer_function_arn        = "arn:aws:iam::123456789012:role/x"
    authorizer_identity_sources    = ["$request.header.Authorization"]
    runtime                        = "python3.9"
    architecture                   = "arm32"
    memory_size                    = 64
    timeout                        = 901
    reserved_concurrent_executions = 0
    log_level                      = "TRACE"
    environment                    = { WSGATE_TABLE = "other" }
    layers                         = ["a", "b", "c", "d", "e", "f"]
    kms_key_arn                    = "alias/aws/dynamodb"
    log_retention_in_days          = 366
    domain_name                    = "https://ws.example.com"
    api_mapping_key                = "/chat"
    authorizer_memory_size         = 64
    authorizer_timeout             = 30
    iam_role_path                  = "roles"
    fanout_threshold               = -1
    fanout_shard_size              = 0
  }
  expect_failures = [
    var.name,
    var.source_dir,
    var.handler,
    var.routes,
    var.two_way_routes,
    var.route_selection_expression,
    var.api_description,
    var.stage_name,
    var.integration_timeout_ms,
    var.throttling_burst_limit,
    var.throttling_rate_limit,
    var.execution_logging_level,
    var.authorizer_handler,
    var.authorizer_function_arn,
    var.authorizer_identity_sources,
    var.runtime,
    var.architecture,
    var.memory_size,
    var.timeout,
    var.reserved_concurrent_executions,
    var.log_level,
    var.environment,
    var.layers,
    var.kms_key_arn,
    var.log_retention_in_days,
    var.domain_name,
    var.api_mapping_key,
    var.authorizer_memory_size,
    var.authorizer_timeout,
    var.iam_role_path,
    var.fanout_threshold,
    var.fanout_shard_size,
  ]
}

# Forms AWS accepts that a stricter check would refuse (each with its source in variables.tf).
run "values_aws_accepts_plan_cleanly" {
  command = plan
  variables {
    route_selection_expression  = "$${request.body.service}/$${request.body.action}"
    authorizer_identity_sources = ["route.request.querystring.token", "stageVariables.key", "context.requestId"]
    authorizer_function_enabled = true
    authorizer_function_arn     = "arn:aws:lambda:eu-west-1:123456789012:function:auth:live"
    runtime                     = "python3.14"
    domain_name                 = "ws.example.com"
    domain_certificate_arn      = "arn:aws:acm:us-east-1:123456789012:certificate/abcd"
    api_mapping_key             = "v1/chat$_.+!*'()-x"
    iam_role_path               = "/wsgate/realtime/"
    authorizer_memory_size      = 128
    authorizer_timeout          = 1
    fanout_threshold            = 0
    fanout_shard_size           = 5000
  }
}

run "escaped_dollar_and_version_qualified_arn_plan_cleanly" {
  command = plan
  variables {
    route_selection_expression  = "\\$request.body.action"
    authorizer_function_enabled = true
    authorizer_function_arn     = "arn:aws:lambda:eu-west-1:123456789012:function:auth:$LATEST"
  }
}

# The other edge of each range, and the other forms.
run "second_invalid_value_of_each_variable_is_rejected" {
  command = plan
  variables {
    name                           = "a123456789b123456789c123456789d123456789e12345678"
    handler                        = "app.app-handler"
    routes                         = ["send message"]
    two_way_routes                 = ["$disconnect", "$default"]
    stage_name                     = "$default"
    integration_timeout_ms         = 29001
    throttling_burst_limit         = 1.5
    throttling_rate_limit          = 10001
    authorizer_identity_sources    = ["route.request.body.token"]
    memory_size                    = 10241
    timeout                        = 0
    reserved_concurrent_executions = 2.5
    environment                    = { AWS_REGION = "eu-west-1" }
    log_retention_in_days          = -1
    api_mapping_key                = "chat/"
    route_selection_expression     = "$${request.header.x-route}"
    authorizer_function_arn        = "arn:aws:lambda:eu-west-1:123456789012:function:auth:live:extra"
    authorizer_memory_size         = 10241
    authorizer_timeout             = 0
    iam_role_path                  = "/roles"
    fanout_threshold               = 1.5
    fanout_shard_size              = 5001
  }
  expect_failures = [
    var.name,
    var.handler,
    var.routes,
    var.two_way_routes,
    var.stage_name,
    var.integration_timeout_ms,
    var.throttling_burst_limit,
    var.throttling_rate_limit,
    var.authorizer_identity_sources,
    var.memory_size,
    var.timeout,
    var.reserved_concurrent_executions,
    var.environment,
    var.log_retention_in_days,
    var.api_mapping_key,
    var.route_selection_expression,
    var.authorizer_function_arn,
    var.authorizer_memory_size,
    var.authorizer_timeout,
    var.iam_role_path,
    var.fanout_threshold,
    var.fanout_shard_size,
  ]
}

# Characters AWS leaves out of mapping keys; a variable that is not the message body.
run "third_invalid_value_of_some_variables_is_rejected" {
  command = plan
  variables {
    api_mapping_key            = "chat~v1"
    route_selection_expression = "$request.body.action $context.routeKey"
  }
  expect_failures = [
    var.api_mapping_key,
    var.route_selection_expression,
  ]
}

# A route listed twice; an environment variable name Lambda rejects; throttling limits of 0.
run "duplicates_and_bad_environment_names_are_rejected" {
  command = plan
  variables {
    routes                 = ["say", "say"]
    environment            = { "my-var" = "x" }
    throttling_burst_limit = 0
    throttling_rate_limit  = 0
  }
  expect_failures = [
    var.routes,
    var.environment,
    var.throttling_burst_limit,
    var.throttling_rate_limit,
  ]
}
