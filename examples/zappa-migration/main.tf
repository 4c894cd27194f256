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

variable "app" {
  description = "Which of the two Zappa apps in src/ to serve: app (decorators) or chatroom (a ZappaWebSocketServer class)."
  type        = string
  default     = "app"

  validation {
    condition     = contains(["app", "chatroom"], var.app)
    error_message = "app must be \"app\" or \"chatroom\"."
  }
}

variable "chatroom_table" {
  description = "Name of the chat room's own DynamoDB table (the class app keeps its members there)."
  type        = string
  default     = "zappa-migration-chatroom"
}

module "ws" {
  source = "../.."

  name       = "zappa-migration"
  source_dir = "${path.module}/src"
  # Zappa's LambdaHandler, for WebSocket and HTTP events alike.
  handler    = "wsgate.compat.zappa.handler"
  stage_name = "dev"
  # Zappa's REST/HTTP API for the Flask routes: an HTTP API before the same function.
  http_api = true

  environment = {
    # zappa_settings.json "websocket_handler_module" and "app_function"
    WSGATE_ZAPPA_MODULE       = var.app
    WSGATE_ZAPPA_APP_FUNCTION = "${var.app}.app"
    # The chat room's own table (not the module's connection table).
    CHATROOM_TABLE = var.chatroom_table
  }
}

# The chat room's table, as the app created it for itself under Zappa.
resource "aws_dynamodb_table" "chatroom" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest with an AWS owned key, as the module's own table is by default; pass a customer managed key here if your policy requires one.
  name         = var.chatroom_table
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "room"
  range_key    = "connection_id"

  attribute {
    name = "room"
    type = "S"
  }

  attribute {
    name = "connection_id"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }
}

# Zappa's "extra_permissions": what the app itself does with its table, on the function's role.
resource "aws_iam_role_policy" "chatroom_table" {
  name = "chatroom-table"
  role = regex("[^/]+$", module.ws.role_arn)
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ChatRoomMembers"
        Effect   = "Allow"
        Action   = ["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query"]
        Resource = aws_dynamodb_table.chatroom.arn
      },
    ]
  })
}
