################################################################################
# Package: the wsgate runtime, the user's code and its dependencies in one zip
################################################################################

# packager/build.py builds the zip at plan time (the hashicorp/external protocol: JSON query on
# stdin, JSON result on stdout) and names it by its content, so the plan shows the exact
# source_code_hash that will be deployed. Only paths, sizes and hashes enter plan and state.
data "external" "package" {
  program = [var.build_python, "${path.module}/packager/build.py"]
  query   = local.package_query

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
    # Lambda quotas (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html):
    # a .zip uploaded directly through the Lambda API is at most 50 MB; larger ones go through
    # S3. Unzipped, the function's code (with its layers) is at most 250 MB either way.
    postcondition {
      condition     = local.package_in_s3 || tonumber(self.result.size) <= local.lambda_direct_upload_limit
      error_message = "The Lambda package ${self.result.filename} is ${format("%.1f", tonumber(self.result.size) / 1048576)} MB zipped; Lambda takes at most 50 MB (52428800 bytes) uploaded directly. Set s3_bucket to upload it through S3, or trim requirements.txt or source_dir (source_excludes)."
    }
    postcondition {
      condition     = tonumber(self.result.unzipped_size) <= local.lambda_unzipped_limit
      error_message = "The Lambda package ${self.result.filename} is ${format("%.1f", tonumber(self.result.unzipped_size) / 1048576)} MB unzipped; Lambda allows at most 250 MB (262144000 bytes) for a function's code and layers together. Trim requirements.txt or source_dir (source_excludes)."
    }
  }
}

# A saved plan applied in a fresh checkout (or on another machine) has the plan's data but not
# the zip. This resource is replaced whenever the functions upload code: when the package
# changes, and when the architecture does (the provider sends the zip again with a new
# architecture). Its provisioner then rebuilds the zip if it is missing and fails unless the
# bytes have the planned hash. Terraform core runs it: no provider is involved.
resource "terraform_data" "package" {
  triggers_replace = [
    data.external.package.result.filename,
    data.external.package.result.base64sha256,
    var.architecture,
  ]
  input = {
    filename         = data.external.package.result.filename
    source_code_hash = data.external.package.result.base64sha256
  }

  provisioner "local-exec" {
    interpreter = [var.build_python, "${path.module}/packager/build.py", "--ensure"]
    command     = data.external.package.result.base64sha256
    environment = {
      WSGATE_PACKAGE_QUERY = jsonencode(local.package_query)
    }
  }
}

# Above 50 MB the zip must reach Lambda through S3. The object is named by the zip's content,
# so a new package is a new object and a function update, never an overwrite in place.
resource "aws_s3_object" "package" {
  #checkov:skip=CKV_AWS_186:The object is encrypted at rest with the bucket's default encryption (SSE-S3 on every new bucket); kms_key_arn opts into a customer managed key.
  count = local.package_in_s3 ? 1 : 0

  bucket      = var.s3_bucket
  key         = "${var.s3_key_prefix}${basename(terraform_data.package.output.filename)}"
  source      = terraform_data.package.output.filename
  source_hash = data.external.package.result.base64sha256
  kms_key_id  = var.kms_key_arn
  tags        = var.tags
}

################################################################################
# Runtime layer (create_runtime_layer): wsgate alone, for functions outside source_dir
################################################################################

data "external" "layer" {
  count = var.create_runtime_layer ? 1 : 0

  program = [var.build_python, "${path.module}/packager/build.py"]
  query   = local.layer_query
}

resource "terraform_data" "layer" {
  count = var.create_runtime_layer ? 1 : 0

  triggers_replace = [data.external.layer[0].result.filename, data.external.layer[0].result.base64sha256]
  input = {
    filename         = data.external.layer[0].result.filename
    source_code_hash = data.external.layer[0].result.base64sha256
  }

  provisioner "local-exec" {
    interpreter = [var.build_python, "${path.module}/packager/build.py", "--ensure"]
    command     = data.external.layer[0].result.base64sha256
    environment = {
      WSGATE_PACKAGE_QUERY = jsonencode(local.layer_query)
    }
  }
}

resource "aws_lambda_layer_version" "runtime" {
  count = var.create_runtime_layer ? 1 : 0

  layer_name               = "${var.name}-wsgate"
  description              = "wsgate runtime for the ${var.name} WebSocket API"
  filename                 = terraform_data.layer[0].output.filename
  source_code_hash         = data.external.layer[0].result.base64sha256
  compatible_runtimes      = [var.runtime]
  compatible_architectures = [var.architecture]
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
  #checkov:skip=CKV_AWS_116:API Gateway invokes the dispatcher synchronously; only fan-out shards are asynchronous, and a shard failing all of Lambda's attempts is counted in its publish's report (shards done vs shards). A dead-letter queue is opt-in (dead_letter_target_arn): it is a queue to own and drain.
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

  filename         = local.package_in_s3 ? null : terraform_data.package.output.filename
  s3_bucket        = local.package_in_s3 ? aws_s3_object.package[0].bucket : null
  s3_key           = local.package_in_s3 ? aws_s3_object.package[0].key : null
  source_code_hash = data.external.package.result.base64sha256

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
    terraform_data.package,
    aws_cloudwatch_log_group.dispatcher,
    aws_iam_role_policy.dispatcher,
    aws_iam_role_policy_attachment.dispatcher_vpc,
  ]
}

# Fan-out shards are asynchronous invocations: Lambda's own retries (two, one then two minutes
# apart) resume a failed shard where it stopped, and an event still queued after an hour (the
# account's concurrency exhausted, say) is dropped rather than delivered that late ("Configuring
# error handling for asynchronous invocation"; MaximumEventAgeInSeconds is 60 to 21,600).
resource "aws_lambda_function_event_invoke_config" "dispatcher" {
  function_name                = aws_lambda_function.dispatcher.function_name
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 3600
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

  filename         = local.package_in_s3 ? null : terraform_data.package.output.filename
  s3_bucket        = local.package_in_s3 ? aws_s3_object.package[0].bucket : null
  s3_key           = local.package_in_s3 ? aws_s3_object.package[0].key : null
  source_code_hash = data.external.package.result.base64sha256

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
    terraform_data.package,
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
