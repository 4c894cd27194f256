################################################################################
# WebSocket API
################################################################################

resource "aws_apigatewayv2_api" "this" {
  name                       = var.name
  description                = var.api_description
  protocol_type              = "WEBSOCKET"
  route_selection_expression = var.route_selection_expression
  # Only with a custom domain: without one, the execute-api endpoint is the only way in.
  disable_execute_api_endpoint = local.custom_domain && var.disable_execute_api_endpoint
  tags                         = var.tags

  lifecycle {
    # Checks that involve more than one variable (Terraform 1.6 validations see one variable only).
    precondition {
      condition     = alltrue([for r in var.two_way_routes : contains(local.route_keys, r)])
      error_message = "Every key in two_way_routes must be $default, $connect or listed in routes."
    }
    precondition {
      condition     = !(var.authorizer_handler != null && var.authorizer_function_enabled)
      error_message = "Set authorizer_handler (the module builds the authorizer) or authorizer_function_enabled with authorizer_function_arn (an existing one), not both."
    }
    precondition {
      condition     = var.authorizer_function_enabled == (var.authorizer_function_arn != null)
      error_message = "authorizer_function_arn and authorizer_function_enabled = true go together: the boolean decides at plan time that the authorizer exists (the ARN may come from a function created in the same apply), the ARN says which function it is."
    }
    precondition {
      condition     = !var.create_route53_record || (var.domain_name != null && var.route53_zone_id != null)
      error_message = "create_route53_record needs domain_name and route53_zone_id (the hosted zone the alias record goes in)."
    }
    precondition {
      condition     = var.domain_name == null || var.domain_certificate_arn != null
      error_message = "domain_name needs domain_certificate_arn (an ACM certificate in the API's region)."
    }
    precondition {
      condition     = var.api_mapping_key == "" || var.domain_name != null
      error_message = "api_mapping_key only applies with a custom domain_name."
    }
    precondition {
      condition     = !var.disable_execute_api_endpoint || var.domain_name != null
      error_message = "disable_execute_api_endpoint needs a custom domain_name: otherwise clients would have no endpoint left."
    }
  }
}

# One Lambda proxy integration serves every route: the runtime dispatches on the route key.
resource "aws_apigatewayv2_integration" "this" {
  api_id               = aws_apigatewayv2_api.this.id
  description          = "wsgate dispatcher ${var.name}"
  integration_type     = "AWS_PROXY"
  integration_method   = "POST"
  integration_uri      = aws_lambda_function.dispatcher.invoke_arn
  timeout_milliseconds = var.integration_timeout_ms
}

resource "aws_apigatewayv2_route" "this" {
  #checkov:skip=CKV_AWS_309:WebSocket APIs authorize only on $connect (the module attaches the authorizer there when one is configured); $disconnect, $default and custom routes run on an already accepted connection and cannot carry an authorizer.
  for_each = toset(local.route_keys)

  api_id             = aws_apigatewayv2_api.this.id
  route_key          = each.key
  target             = "integrations/${aws_apigatewayv2_integration.this.id}"
  authorization_type = each.key == "$connect" && local.use_authorizer ? "CUSTOM" : "NONE"
  authorizer_id      = each.key == "$connect" && local.use_authorizer ? aws_apigatewayv2_authorizer.this[0].id : null

  # "$default" makes the route two-way: the handler's return value is sent back to the caller.
  route_response_selection_expression = contains(var.two_way_routes, each.key) ? "$default" : null
}

resource "aws_apigatewayv2_route_response" "this" {
  for_each = toset(var.two_way_routes)

  api_id             = aws_apigatewayv2_api.this.id
  route_id           = aws_apigatewayv2_route.this[each.key].id
  route_response_key = "$default"
}

################################################################################
# Authorizer ($connect only; WebSocket authorizers cannot cache, so no result TTL is set)
################################################################################

resource "aws_apigatewayv2_authorizer" "this" {
  count = local.use_authorizer ? 1 : 0

  api_id           = aws_apigatewayv2_api.this.id
  name             = "${var.name}-authorizer"
  authorizer_type  = "REQUEST"
  authorizer_uri   = local.create_authorizer ? aws_lambda_function.authorizer[0].invoke_arn : local.existing_authorizer_invoke_arn
  identity_sources = var.authorizer_identity_sources
}

locals {
  # arn:{partition}:lambda:{region}:{account}:function:{name}
  existing_authorizer_arn_parts = var.authorizer_function_arn == null ? [] : split(":", var.authorizer_function_arn)
  existing_authorizer_invoke_arn = var.authorizer_function_arn == null ? null : format(
    "arn:%s:apigateway:%s:lambda:path/2015-03-31/functions/%s/invocations",
    local.existing_authorizer_arn_parts[1], local.existing_authorizer_arn_parts[3], var.authorizer_function_arn,
  )
}

################################################################################
# Deployment and stage
################################################################################

resource "aws_apigatewayv2_deployment" "this" {
  api_id      = aws_apigatewayv2_api.this.id
  description = "wsgate ${var.name}"

  # A stage serves the deployment it points at: routes, integrations, route responses,
  # authorizers and the API-level settings that shape them only go live with a new deployment
  # (API Gateway Developer Guide, "Deploy WebSocket APIs"). disable_execute_api_endpoint is one
  # of them ("After you disable the default endpoint, you must deploy your API for the change to
  # take effect", "Disable the default endpoint for WebSocket APIs"), and so is the route
  # selection expression, which decides which of the deployed routes a message takes.
  triggers = {
    redeployment = sha1(jsonencode({
      api = [
        aws_apigatewayv2_api.this.route_selection_expression,
        aws_apigatewayv2_api.this.api_key_selection_expression,
        aws_apigatewayv2_api.this.disable_execute_api_endpoint,
      ]
      routes = {
        for key, route in aws_apigatewayv2_route.this : key => [
          route.id, route.route_key, route.target, route.authorization_type, route.authorizer_id,
          route.route_response_selection_expression, route.api_key_required,
        ]
      }
      integration = [
        aws_apigatewayv2_integration.this.id,
        aws_apigatewayv2_integration.this.integration_type,
        aws_apigatewayv2_integration.this.integration_method,
        aws_apigatewayv2_integration.this.integration_uri,
        aws_apigatewayv2_integration.this.timeout_milliseconds,
      ]
      route_responses = {
        for key, response in aws_apigatewayv2_route_response.this : key => [response.id, response.route_response_key]
      }
      authorizers = [
        for a in aws_apigatewayv2_authorizer.this : [
          a.id, a.name, a.authorizer_type, a.authorizer_uri, sort(tolist(a.identity_sources)),
        ]
      ]
    }))
  }

  depends_on = [
    aws_apigatewayv2_route.this,
    aws_apigatewayv2_integration.this,
    aws_apigatewayv2_route_response.this,
    aws_apigatewayv2_authorizer.this,
  ]

  lifecycle {
    # The stage moves to the new deployment before the old one is deleted.
    create_before_destroy = true
  }
}

resource "aws_apigatewayv2_stage" "this" {
  #checkov:skip=CKV_AWS_76:Access logs are opt-in (access_log_enabled): they need API Gateway's account-wide CloudWatch role, which a fresh account lacks and which one stack per region should own (create_api_gateway_account).
  #checkov:skip=CKV2_AWS_51:Client certificates let HTTP backends authenticate API Gateway; this API's only backend is a Lambda proxy integration, which never sees one.
  api_id        = aws_apigatewayv2_api.this.id
  name          = var.stage_name
  description   = "wsgate ${var.name} stage ${var.stage_name}"
  deployment_id = aws_apigatewayv2_deployment.this.id

  default_route_settings {
    # Both limits are always set: a route setting without them throttles everything to 0 (429s).
    throttling_burst_limit = var.throttling_burst_limit
    throttling_rate_limit  = var.throttling_rate_limit
    # Data trace would log full message bodies; it stays off.
    data_trace_enabled       = false
    detailed_metrics_enabled = var.detailed_metrics_enabled
    logging_level            = var.execution_logging_level
  }

  dynamic "access_log_settings" {
    for_each = var.access_log_enabled ? [1] : []
    content {
      destination_arn = aws_cloudwatch_log_group.access[0].arn
      format          = local.access_log_format
    }
  }

  tags = var.tags

  lifecycle {
    # API Gateway refuses a stage with access or execution logs ("BadRequestException: CloudWatch
    # Logs role ARN must be set in account settings to enable logging") until the account has a
    # CloudWatch role in this region, and a fresh account has none (API Gateway Developer Guide,
    # "Set up CloudWatch API logging using the API Gateway console": the role is an account-level
    # setting, once per Region). Saying so at plan time beats failing halfway through an apply.
    precondition {
      condition     = !local.stage_logging || var.create_api_gateway_account || var.api_gateway_cloudwatch_role_exists
      error_message = "Stage logging (access_log_enabled or execution_logging_level) needs API Gateway's account-level CloudWatch Logs role in this region, which a fresh account does not have. Set create_api_gateway_account = true to let this stack set it, or set api_gateway_cloudwatch_role_exists = true if the region already has one (`aws apigateway get-account` shows cloudwatchRoleArn)."
    }
  }

  depends_on = [
    aws_apigatewayv2_route.this,
    aws_api_gateway_account.this,
    aws_cloudwatch_log_group.execution,
  ]
}

resource "aws_cloudwatch_log_group" "access" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs always encrypts log data at rest; kms_key_arn opts into a customer managed key (its key policy must allow the logs service), so a key is not forced on every user.
  count = var.access_log_enabled ? 1 : 0

  name              = "/aws/apigateway/${var.name}/${var.stage_name}"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

# API Gateway writes execution logs to a group it names after the API id; creating it here gives
# it the module's retention and key instead of "never expire".
resource "aws_cloudwatch_log_group" "execution" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs always encrypts log data at rest; kms_key_arn opts into a customer managed key (its key policy must allow the logs service), so a key is not forced on every user.
  count = var.execution_logging_level == "OFF" ? 0 : 1

  name              = "API-Gateway-Execution-Logs_${aws_apigatewayv2_api.this.id}/${var.stage_name}"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

################################################################################
# Custom domain (optional)
################################################################################

resource "aws_apigatewayv2_domain_name" "this" {
  count = local.custom_domain ? 1 : 0

  domain_name = var.domain_name

  domain_name_configuration {
    certificate_arn = var.domain_certificate_arn
    endpoint_type   = "REGIONAL"
    security_policy = "TLS_1_2"
  }

  tags = var.tags
}

resource "aws_apigatewayv2_api_mapping" "this" {
  count = local.custom_domain ? 1 : 0

  api_id          = aws_apigatewayv2_api.this.id
  domain_name     = aws_apigatewayv2_domain_name.this[0].id
  stage           = aws_apigatewayv2_stage.this.id
  api_mapping_key = var.api_mapping_key == "" ? null : var.api_mapping_key
}

# The alias record that sends the domain to API Gateway (optional: DNS may live elsewhere).
resource "aws_route53_record" "this" {
  count = local.custom_domain && var.create_route53_record ? 1 : 0

  zone_id = var.route53_zone_id
  name    = aws_apigatewayv2_domain_name.this[0].domain_name
  type    = "A"

  alias {
    name                   = aws_apigatewayv2_domain_name.this[0].domain_name_configuration[0].target_domain_name
    zone_id                = aws_apigatewayv2_domain_name.this[0].domain_name_configuration[0].hosted_zone_id
    evaluate_target_health = false
  }
}

################################################################################
# Account-wide CloudWatch role for API Gateway (opt-in: one per account and region)
################################################################################

resource "aws_iam_role" "api_gateway_cloudwatch" {
  count = var.create_api_gateway_account ? 1 : 0

  name                 = var.iam_role_use_name_prefix ? null : "${var.name}-apigw-logs"
  name_prefix          = var.iam_role_use_name_prefix ? "${local.role_prefix}-apigw-logs-" : null
  path                 = var.iam_role_path
  permissions_boundary = var.iam_role_permissions_boundary
  description          = "Lets API Gateway write execution and access logs (account-wide setting)"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "ApiGatewayAssumeRole"
        Effect    = "Allow"
        Action    = "sts:AssumeRole"
        Principal = { Service = "apigateway.amazonaws.com" }
      },
    ]
  })
  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "api_gateway_cloudwatch" {
  count = var.create_api_gateway_account ? 1 : 0

  role       = aws_iam_role.api_gateway_cloudwatch[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

resource "aws_api_gateway_account" "this" {
  count = var.create_api_gateway_account ? 1 : 0

  cloudwatch_role_arn = aws_iam_role.api_gateway_cloudwatch[0].arn

  depends_on = [aws_iam_role_policy_attachment.api_gateway_cloudwatch]
}

################################################################################
# Connection table
################################################################################

resource "aws_dynamodb_table" "this" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest by default with an AWS owned key; set kms_key_arn to use a customer managed key.
  name         = "${var.name}-connections"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  range_key    = "sk"

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  # Items expire just past API Gateway's 2-hour connection limit, so missed disconnects clean up.
  ttl {
    attribute_name = "ttl"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  server_side_encryption {
    enabled     = var.kms_key_arn != null
    kms_key_arn = var.kms_key_arn
  }

  deletion_protection_enabled = var.deletion_protection

  tags = var.tags
}
