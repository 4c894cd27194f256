output "websocket_url" {
  description = "URL clients connect to: wss://{api-id}.execute-api.{region}.amazonaws.com/{stage}, or wss://{domain_name}/{api_mapping_key} with a custom domain."
  value       = local.websocket_url
}

output "management_endpoint" {
  description = "HTTPS endpoint of the @connections management API (the WSGATE_ENDPOINT value): the execute-api host plus the stage, or the custom domain plus the mapping's base path."
  value       = local.management_endpoint
}

output "api_id" {
  description = "ID of the WebSocket API."
  value       = aws_apigatewayv2_api.this.id
}

output "execution_arn" {
  description = "Execution ARN of the API: the prefix for IAM statements and Lambda permissions (`{execution_arn}/{stage}/POST/@connections/*`)."
  value       = aws_apigatewayv2_api.this.execution_arn
}

output "stage_name" {
  description = "Name of the deployed stage."
  value       = aws_apigatewayv2_stage.this.name
}

output "table_name" {
  description = "Name of the DynamoDB connection table (the WSGATE_TABLE value)."
  value       = aws_dynamodb_table.this.name
}

output "table_arn" {
  description = "ARN of the DynamoDB connection table."
  value       = aws_dynamodb_table.this.arn
}

output "function_name" {
  description = "Name of the dispatcher Lambda function."
  value       = aws_lambda_function.dispatcher.function_name
}

output "function_arn" {
  description = "ARN of the dispatcher Lambda function."
  value       = aws_lambda_function.dispatcher.arn
}

output "role_arn" {
  description = "ARN of the dispatcher's IAM role."
  value       = aws_iam_role.dispatcher.arn
}

output "authorizer_function_name" {
  description = "Name of the authorizer Lambda function the module built, or null."
  value       = one(aws_lambda_function.authorizer[*].function_name)
}

output "log_group_names" {
  description = "CloudWatch log groups the module created, by purpose: dispatcher, and (when present) access, authorizer and execution."
  value = merge(
    { dispatcher = aws_cloudwatch_log_group.dispatcher.name },
    var.access_log_enabled ? { access = aws_cloudwatch_log_group.access[0].name } : {},
    local.create_authorizer ? { authorizer = aws_cloudwatch_log_group.authorizer[0].name } : {},
    var.execution_logging_level == "OFF" ? {} : { execution = aws_cloudwatch_log_group.execution[0].name },
  )
}

output "env" {
  description = "Environment variables another Lambda sets to send to this API's clients with wsgate (WSGATE_ENDPOINT, WSGATE_TABLE, and the fan-out settings: WSGATE_FANOUT_FUNCTION, WSGATE_FANOUT_THRESHOLD, WSGATE_FANOUT_SHARD_SIZE)."
  value       = local.sender_env
}

output "sender_policy_json" {
  description = "IAM policy (JSON) another function's role needs to send to this API's clients, use the connection table and rooms, and fan a large publish out over the dispatcher (lambda:InvokeFunction on it only)."
  value = jsonencode({
    Version   = "2012-10-17"
    Statement = local.sender_statements
  })
}

output "domain_name_target" {
  description = "With a custom domain: the target domain name and hosted zone id for a Route 53 alias (or CNAME) record; otherwise null."
  value = local.custom_domain ? {
    target_domain_name = aws_apigatewayv2_domain_name.this[0].domain_name_configuration[0].target_domain_name
    hosted_zone_id     = aws_apigatewayv2_domain_name.this[0].domain_name_configuration[0].hosted_zone_id
  } : null
}

output "package" {
  description = "The Lambda zip the module built (wsgate runtime, source_dir and its requirements): `filename` (relative to the root module, named by its content) and `source_code_hash`, for other functions that share the code (see examples/notify). Referencing `filename` makes a function wait for the zip at apply time."
  value = {
    filename         = terraform_data.package.output.filename
    source_code_hash = data.external.package.result.base64sha256
    size             = tonumber(data.external.package.result.size)
    unzipped_size    = tonumber(data.external.package.result.unzipped_size)
  }
}

output "authorizer_role_name" {
  description = "Name of the IAM role of the authorizer function the module built, or null: attach a policy to it for what your authorizer reads (for example its signing key in SSM Parameter Store)."
  value       = one(aws_iam_role.authorizer[*].name)
}

output "runtime_layer_arn" {
  description = "With create_runtime_layer: ARN (with version) of the Lambda layer holding the wsgate runtime, for the `layers` of other functions that import wsgate; otherwise null."
  value       = one(aws_lambda_layer_version.runtime[*].arn)
}

################################################################################
# HTTP API (http.tf; null unless http_api = true)
################################################################################

output "http_api_url" {
  description = "With `http_api = true`: the HTTP API's URL (`https://{api-id}.execute-api.{region}.amazonaws.com/`), where the app's HTTP routes answer; otherwise null."
  # The $default stage is served at the API endpoint itself, with no stage in the path.
  value = var.http_api ? "${aws_apigatewayv2_api.http[0].api_endpoint}/" : null
}

output "http_api_id" {
  description = "With `http_api = true`: the HTTP API's id; otherwise null."
  value       = var.http_api ? aws_apigatewayv2_api.http[0].id : null
}

output "http_api_log_group_name" {
  description = "With `http_api = true`: the CloudWatch log group of the HTTP API's access logs; otherwise null."
  value       = var.http_api ? aws_cloudwatch_log_group.http[0].name : null
}
