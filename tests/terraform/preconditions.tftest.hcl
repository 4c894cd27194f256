# Checks that involve more than one variable are preconditions (Terraform 1.6 validations can
# only see their own variable); each must stop the plan with its message.

variables {
  name       = "tftest"
  source_dir = "tests/terraform/fixture/src"
}

run "two_way_route_that_is_not_a_route_is_rejected" {
  command = plan
  variables {
    routes         = ["say"]
    two_way_routes = ["join"]
  }
  expect_failures = [aws_apigatewayv2_api.this]
}

run "both_kinds_of_authorizer_are_rejected" {
  command = plan
  variables {
    authorizer_handler          = "auth.check"
    authorizer_function_enabled = true
    authorizer_function_arn     = "arn:aws:lambda:us-east-1:123456789012:function:auth"
  }
  expect_failures = [aws_apigatewayv2_api.this]
}

run "custom_domain_without_certificate_is_rejected" {
  command = plan
  variables {
    domain_name = "ws.example.com"
  }
  expect_failures = [aws_apigatewayv2_api.this]
}

run "mapping_key_without_custom_domain_is_rejected" {
  command = plan
  variables {
    api_mapping_key = "chat"
  }
  expect_failures = [aws_apigatewayv2_api.this]
}

run "disabling_the_only_endpoint_is_rejected" {
  command = plan
  variables {
    disable_execute_api_endpoint = true
  }
  expect_failures = [aws_apigatewayv2_api.this]
}

run "handler_module_missing_from_source_dir_is_rejected" {
  command = plan
  variables {
    handler = "missing.app"
  }
  expect_failures = [data.external.package]
}

run "authorizer_module_missing_from_source_dir_is_rejected" {
  command = plan
  variables {
    authorizer_handler = "nowhere.check"
  }
  expect_failures = [data.external.package]
}

run "runtime_handler_in_the_wsgate_package_is_found" {
  command = plan
  variables {
    handler = "wsgate.compat.zappa.handler"
  }
}

run "stage_logging_without_the_account_cloudwatch_role_is_rejected" {
  command = plan
  variables {
    access_log_enabled = true
  }
  expect_failures = [aws_apigatewayv2_stage.this]
}

run "execution_logging_without_the_account_cloudwatch_role_is_rejected" {
  command = plan
  variables {
    execution_logging_level = "ERROR"
  }
  expect_failures = [aws_apigatewayv2_stage.this]
}

run "authorizer_arn_without_its_switch_is_rejected" {
  command = plan
  variables {
    authorizer_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:auth"
  }
  expect_failures = [aws_apigatewayv2_api.this]
}

run "authorizer_switch_without_an_arn_is_rejected" {
  command = plan
  variables {
    authorizer_function_enabled = true
  }
  expect_failures = [aws_apigatewayv2_api.this]
}

run "route53_record_without_a_zone_is_rejected" {
  command = plan
  variables {
    domain_name            = "ws.example.com"
    domain_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/abcd"
    create_route53_record  = true
  }
  expect_failures = [aws_apigatewayv2_api.this]
}
