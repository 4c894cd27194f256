################################################################################
# Package: the wsgate runtime and the user's code in one zip
################################################################################

# Files are read with file(), so everything packaged must be UTF-8 text (Python sources, JSON,
# templates). Binary dependencies belong in a layer (var.layers); boto3 comes with the runtime.
data "archive_file" "this" {
  type             = "zip"
  output_path      = "${local.build_dir}/${var.name}.zip"
  output_file_mode = "0644"

  dynamic "source" {
    for_each = local.runtime_files
    content {
      content  = file("${local.runtime_dir}/${source.value}")
      filename = "wsgate/${source.value}"
    }
  }

  dynamic "source" {
    for_each = local.user_files
    content {
      content  = file("${var.source_dir}/${source.value}")
      filename = source.value
    }
  }

  lifecycle {
    precondition {
      condition     = length([for f in local.user_files : f if startswith(f, "wsgate/")]) == 0
      error_message = "source_dir must not contain a wsgate/ directory: the module packages the wsgate runtime under that name."
    }
    precondition {
      condition     = local.handler_found
      error_message = "handler \"${var.handler}\" names a module that is neither in source_dir (expected ${local.handler_module}.py) nor in the wsgate runtime."
    }
    precondition {
      condition     = !local.create_authorizer || local.authorizer_found
      error_message = "authorizer_handler names a module that is not in source_dir."
    }
  }
}

################################################################################
# Dispatcher: the function behind every route
################################################################################

resource "aws_cloudwatch_log_group" "dispatcher" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs always encrypts log data at rest; kms_key_arn opts into a customer managed key (its key policy must allow the logs service), so a key is not forced on every user.
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "dispatcher" {
  #checkov:skip=CKV_AWS_117:A VPC is opt-in (vpc_config): the function only calls AWS APIs, and inside a VPC it would need endpoints or NAT to reach them.
  #checkov:skip=CKV_AWS_116:API Gateway invokes the dispatcher synchronously, so a dead-letter queue never receives anything; dead_letter_target_arn is there for asynchronous use.
  #checkov:skip=CKV_AWS_272:Code signing is opt-in (code_signing_config_arn): it needs a signing profile and signed artifacts, which a zip built by Terraform does not have.
  #checkov:skip=CKV_AWS_173:Environment variables are encrypted at rest with the AWS managed key by default; set kms_key_arn to use a customer managed key. They hold no secrets.
  #checkov:skip=CKV_AWS_115:Reserved concurrency is opt-in (reserved_concurrent_executions): a new account's quota leaves nothing to reserve, and reserving takes capacity from every other function.
  function_name = var.name
  description   = "wsgate dispatcher for the ${var.name} WebSocket API"
  role          = aws_iam_role.dispatcher.arn

  runtime       = var.runtime
  handler       = var.handler
  architectures = [var.architecture]
  memory_size   = var.memory_size
  timeout       = var.timeout
  layers        = var.layers

  filename         = data.archive_file.this.output_path
  source_code_hash = data.archive_file.this.output_base64sha256

  reserved_concurrent_executions = var.reserved_concurrent_executions
  code_signing_config_arn        = var.code_signing_config_arn
  kms_key_arn                    = var.kms_key_arn

  environment {
    variables = local.dispatcher_env
  }

  tracing_config {
    mode = var.tracing_enabled ? "Active" : "PassThrough"
  }

  dynamic "vpc_config" {
    for_each = var.vpc_config == null ? [] : [var.vpc_config]
    content {
      subnet_ids         = vpc_config.value.subnet_ids
      security_group_ids = vpc_config.value.security_group_ids
    }
  }

  dynamic "dead_letter_config" {
    for_each = var.dead_letter_target_arn == null ? [] : [var.dead_letter_target_arn]
    content {
      target_arn = dead_letter_config.value
    }
  }

  tags = var.tags

  # The log group must exist (with its retention) before Lambda would create one itself.
  depends_on = [
    aws_cloudwatch_log_group.dispatcher,
    aws_iam_role_policy.dispatcher,
    aws_iam_role_policy_attachment.dispatcher_vpc,
  ]
}

# Named like the dispatcher's role, log group and permission (it was "this" before).
moved {
  from = aws_lambda_function.this
  to   = aws_lambda_function.dispatcher
}

resource "aws_lambda_permission" "dispatcher" {
  statement_id  = "AllowApiGatewayInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.dispatcher.function_name
  principal     = "apigateway.amazonaws.com"
  # Any route of this API's stage, and nothing else.
  source_arn = "${aws_apigatewayv2_api.this.execution_arn}/${var.stage_name}/*"
}

################################################################################
# Authorizer function (only when authorizer_handler is set)
################################################################################

resource "aws_cloudwatch_log_group" "authorizer" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs always encrypts log data at rest; kms_key_arn opts into a customer managed key (its key policy must allow the logs service), so a key is not forced on every user.
  count = local.create_authorizer ? 1 : 0

  name              = "/aws/lambda/${var.name}-authorizer"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "authorizer" {
  #checkov:skip=CKV_AWS_117:A VPC is opt-in (vpc_config): the function only calls AWS APIs, and inside a VPC it would need endpoints or NAT to reach them.
  #checkov:skip=CKV_AWS_116:API Gateway invokes authorizers synchronously, so a dead-letter queue would never receive anything.
  #checkov:skip=CKV_AWS_272:Code signing is opt-in (code_signing_config_arn): it needs a signing profile and signed artifacts, which a zip built by Terraform does not have.
  #checkov:skip=CKV_AWS_173:Environment variables are encrypted at rest with the AWS managed key by default; set kms_key_arn to use a customer managed key.
  #checkov:skip=CKV_AWS_115:An authorizer runs once per $connect; reserving concurrency for it would take capacity from every other function.
  count = local.create_authorizer ? 1 : 0

  function_name = "${var.name}-authorizer"
  description   = "wsgate $connect authorizer for the ${var.name} WebSocket API"
  role          = aws_iam_role.authorizer[0].arn

  runtime       = var.runtime
  handler       = var.authorizer_handler
  architectures = [var.architecture]
  memory_size   = var.authorizer_memory_size
  timeout       = var.authorizer_timeout
  layers        = var.layers

  filename         = data.archive_file.this.output_path
  source_code_hash = data.archive_file.this.output_base64sha256

  code_signing_config_arn = var.code_signing_config_arn
  kms_key_arn             = var.kms_key_arn

  environment {
    variables = local.authorizer_env
  }

  tracing_config {
    mode = var.tracing_enabled ? "Active" : "PassThrough"
  }

  dynamic "vpc_config" {
    for_each = var.vpc_config == null ? [] : [var.vpc_config]
    content {
      subnet_ids         = vpc_config.value.subnet_ids
      security_group_ids = vpc_config.value.security_group_ids
    }
  }

  tags = var.tags

  depends_on = [
    aws_cloudwatch_log_group.authorizer,
    aws_iam_role_policy.authorizer,
    aws_iam_role_policy_attachment.authorizer_vpc,
  ]
}

resource "aws_lambda_permission" "authorizer" {
  count = local.use_authorizer ? 1 : 0

  statement_id  = "AllowApiGatewayAuthorizer-${var.name}"
  action        = "lambda:InvokeFunction"
  function_name = local.create_authorizer ? aws_lambda_function.authorizer[0].function_name : var.authorizer_function_arn
  principal     = "apigateway.amazonaws.com"
  # Only this API's authorizer may call it.
  source_arn = "${aws_apigatewayv2_api.this.execution_arn}/authorizers/${aws_apigatewayv2_authorizer.this[0].id}"
}
