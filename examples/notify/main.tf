terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0, < 7.0"
    }
    external = {
      source  = "hashicorp/external"
      version = ">= 2.3, < 3.0"
    }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  description = "AWS Region to deploy to."
  type        = string
  default     = "us-east-1"
}

variable "schedule_expression" {
  description = "When the notifier runs (EventBridge schedule expression)."
  type        = string
  default     = "rate(1 minute)"
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = { example = "wsgate-notify" }
}

# The WebSocket API: clients subscribe to topics.
module "ws" {
  source = "../.."

  name           = "notify"
  source_dir     = "${path.module}/src"
  handler        = "app.app"
  routes         = ["subscribe", "unsubscribe"]
  two_way_routes = ["subscribe", "unsubscribe"]
  stage_name     = "dev"
  tags           = var.tags
}

################################################################################
# A separate Lambda that pushes to the subscribers on a schedule. It never sees a WebSocket
# event: the module's `env` output tells wsgate where to send, and its `sender_policy_json`
# output is exactly the permission that needs.
################################################################################

locals {
  notifier_name = "notify-notifier"
}

resource "aws_cloudwatch_log_group" "notifier" {
  #checkov:skip=CKV_AWS_158:The example keeps logs under the CloudWatch Logs service key; pass a KMS key ARN for a customer managed key.
  name              = "/aws/lambda/${local.notifier_name}"
  retention_in_days = 365
  tags              = var.tags
}

resource "aws_iam_role" "notifier" {
  name = local.notifier_name
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "LambdaAssumeRole"
        Effect    = "Allow"
        Action    = "sts:AssumeRole"
        Principal = { Service = "lambda.amazonaws.com" }
      },
    ]
  })
  tags = var.tags
}

# Send to this API's connections and read the rooms: the module's exported policy.
resource "aws_iam_role_policy" "notifier_send" {
  name   = "wsgate-send"
  role   = aws_iam_role.notifier.id
  policy = module.ws.sender_policy_json
}

resource "aws_iam_role_policy" "notifier_logs" {
  name = "logs"
  role = aws_iam_role.notifier.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "WriteOwnLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["${aws_cloudwatch_log_group.notifier.arn}:*"]
      },
    ]
  })
}

resource "aws_lambda_function" "notifier" {
  #checkov:skip=CKV_AWS_117:The notifier only calls AWS APIs; outside a VPC it needs no endpoints or NAT.
  #checkov:skip=CKV_AWS_116:A missed scheduled notification is superseded by the next one, so failed events are not kept.
  #checkov:skip=CKV_AWS_272:Code signing needs signed artifacts; this zip is built by Terraform.
  #checkov:skip=CKV_AWS_173:The environment holds only the endpoint and table name, encrypted with the AWS managed key.
  #checkov:skip=CKV_AWS_115:One scheduled invocation a minute needs no reserved concurrency.
  function_name = local.notifier_name
  description   = "Pushes scheduled notifications to the notify example's subscribers"
  role          = aws_iam_role.notifier.arn
  runtime       = "python3.12"
  architectures = ["arm64"]
  handler       = "notifier.handler"
  timeout       = 60
  memory_size   = 256

  # The module's zip already holds the wsgate runtime and src/, notifier.py included.
  filename         = module.ws.package.filename
  source_code_hash = module.ws.package.source_code_hash

  environment {
    # WSGATE_ENDPOINT and WSGATE_TABLE
    variables = module.ws.env
  }

  tracing_config {
    mode = "PassThrough"
  }

  tags = var.tags

  depends_on = [
    aws_cloudwatch_log_group.notifier,
    aws_iam_role_policy.notifier_send,
    aws_iam_role_policy.notifier_logs,
  ]
}

resource "aws_cloudwatch_event_rule" "notify" {
  name                = local.notifier_name
  description         = "Runs the notify example's notifier"
  schedule_expression = var.schedule_expression
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "notify" {
  rule = aws_cloudwatch_event_rule.notify.name
  arn  = aws_lambda_function.notifier.arn
}

resource "aws_lambda_permission" "notify" {
  statement_id  = "AllowEventBridgeInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.notifier.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.notify.arn
}
