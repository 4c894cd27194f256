################################################################################
# HTTP API in front of the same function (optional: http_api = true)
#
# A Zappa-style app serves its Flask/Django/ASGI routes from the same Lambda as its WebSocket
# handlers. With http_api = true the module puts an API Gateway HTTP API before the dispatcher:
# one $default route, a Lambda proxy integration with payload format 2.0, a $default stage with
# the WebSocket stage's throttling, and JSON access logs. The dispatcher must answer HTTP events;
# wsgate.compat.zappa.handler hands them to the app's WSGI/ASGI application.
################################################################################

resource "aws_apigatewayv2_api" "http" {
  count = var.http_api ? 1 : 0

  name          = "${var.name}-http"
  description   = "HTTP routes of ${var.name} (served by the wsgate dispatcher)"
  protocol_type = "HTTP"
  tags          = var.tags
}

resource "aws_apigatewayv2_integration" "http" {
  count = var.http_api ? 1 : 0

  api_id                 = aws_apigatewayv2_api.http[0].id
  description            = "wsgate dispatcher ${var.name}"
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = aws_lambda_function.dispatcher.invoke_arn
  payload_format_version = "2.0"
  # HTTP APIs allow 50 ms to 30 s; the WebSocket limit (29 s) validated on the variable fits.
  timeout_milliseconds = var.integration_timeout_ms
}

resource "aws_apigatewayv2_route" "http" {
  #checkov:skip=CKV_AWS_309:The HTTP API carries the app's own routes (its Flask or Django views), which authenticate requests themselves as they did behind Zappa; API Gateway authorization would lock out its public pages.
  count = var.http_api ? 1 : 0

  api_id    = aws_apigatewayv2_api.http[0].id
  route_key = "$default"
  target    = "integrations/${aws_apigatewayv2_integration.http[0].id}"
}

resource "aws_apigatewayv2_stage" "http" {
  count = var.http_api ? 1 : 0

  api_id      = aws_apigatewayv2_api.http[0].id
  name        = "$default"
  description = "wsgate ${var.name} HTTP routes"
  # HTTP APIs deploy their $default stage on every change, so no deployment resource is needed.
  auto_deploy = true

  default_route_settings {
    # As on the WebSocket stage: both limits always set (an unset one throttles to 0).
    throttling_burst_limit   = var.throttling_burst_limit
    throttling_rate_limit    = var.throttling_rate_limit
    detailed_metrics_enabled = var.detailed_metrics_enabled
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.http[0].arn
    format          = local.http_access_log_format
  }

  tags = var.tags

  depends_on = [aws_apigatewayv2_route.http]
}

resource "aws_cloudwatch_log_group" "http" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs always encrypts log data at rest; kms_key_arn opts into a customer managed key (its key policy must allow the logs service), so a key is not forced on every user.
  count = var.http_api ? 1 : 0

  # "$default" cannot appear in a log group name, so the group is named for the API, not the stage.
  name              = "/aws/apigateway/${var.name}-http"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_permission" "http" {
  count = var.http_api ? 1 : 0

  statement_id  = "AllowHttpApiInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.dispatcher.function_name
  principal     = "apigateway.amazonaws.com"
  # The $default route of this HTTP API only ({api}/{stage}/$default, the form the console adds;
  # see aws/serverless-application-model#1860): not another API, not the WebSocket API's ARN.
  source_arn = "${aws_apigatewayv2_api.http[0].execution_arn}/*/$default"
}

locals {
  # HTTP API access log fields ($context variables for HTTP APIs), one JSON object per request.
  http_access_log_format = jsonencode({
    requestId          = "$context.requestId"
    requestTime        = "$context.requestTime"
    requestTimeEpoch   = "$context.requestTimeEpoch"
    httpMethod         = "$context.httpMethod"
    path               = "$context.path"
    routeKey           = "$context.routeKey"
    protocol           = "$context.protocol"
    status             = "$context.status"
    responseLength     = "$context.responseLength"
    sourceIp           = "$context.identity.sourceIp"
    userAgent          = "$context.identity.userAgent"
    integrationStatus  = "$context.integrationStatus"
    integrationError   = "$context.integrationErrorMessage"
    integrationLatency = "$context.integrationLatency"
    errorMessage       = "$context.error.message"
  })
}
