################################################################################
# Dispatcher role: send to this API's connections, use this table, write its own logs
################################################################################

resource "aws_iam_role" "dispatcher" {
  name                 = var.iam_role_use_name_prefix ? null : "${var.name}-dispatcher"
  name_prefix          = var.iam_role_use_name_prefix ? "${local.role_prefix}-dispatcher-" : null
  path                 = var.iam_role_path
  permissions_boundary = var.iam_role_permissions_boundary
  description          = "wsgate dispatcher of the ${var.name} WebSocket API"
  assume_role_policy   = local.lambda_assume_role_policy
  tags                 = var.tags
}

resource "aws_iam_role_policy" "dispatcher" {
  name = "wsgate"
  role = aws_iam_role.dispatcher.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      local.sender_statements,
      [
        {
          Sid      = "WriteOwnLogs"
          Effect   = "Allow"
          Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
          Resource = ["${aws_cloudwatch_log_group.dispatcher.arn}:*"]
        },
      ],
      local.common_statements,
      var.dead_letter_target_arn == null ? [] : [
        {
          Sid      = "DeadLetterQueue"
          Effect   = "Allow"
          Action   = [split(":", var.dead_letter_target_arn)[2] == "sns" ? "sns:Publish" : "sqs:SendMessage"]
          Resource = [var.dead_letter_target_arn]
        },
      ],
    )
  })
}

# Network interfaces for a function in a VPC (AWS managed policy; only with vpc_config).
resource "aws_iam_role_policy_attachment" "dispatcher_vpc" {
  count = var.vpc_config == null ? 0 : 1

  role       = aws_iam_role.dispatcher.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

################################################################################
# Authorizer role: its own logs only
################################################################################

resource "aws_iam_role" "authorizer" {
  count = local.create_authorizer ? 1 : 0

  name                 = var.iam_role_use_name_prefix ? null : "${var.name}-authorizer"
  name_prefix          = var.iam_role_use_name_prefix ? "${local.role_prefix}-authorizer-" : null
  path                 = var.iam_role_path
  permissions_boundary = var.iam_role_permissions_boundary
  description          = "wsgate $connect authorizer of the ${var.name} WebSocket API"
  assume_role_policy   = local.lambda_assume_role_policy
  tags                 = var.tags
}

resource "aws_iam_role_policy" "authorizer" {
  count = local.create_authorizer ? 1 : 0

  name = "wsgate"
  role = aws_iam_role.authorizer[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid      = "WriteOwnLogs"
          Effect   = "Allow"
          Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
          Resource = ["${aws_cloudwatch_log_group.authorizer[0].arn}:*"]
        },
      ],
      local.common_statements,
    )
  })
}

resource "aws_iam_role_policy_attachment" "authorizer_vpc" {
  count = local.create_authorizer && var.vpc_config != null ? 1 : 0

  role       = aws_iam_role.authorizer[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}
