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

variable "auth_secret" {
  description = "Secret that signs the example's tokens (src/auth.py). Generate one with `openssl rand -hex 32`."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.auth_secret) >= 32
    error_message = "auth_secret must be at least 32 characters (openssl rand -hex 32)."
  }
}

module "ws" {
  source = "../.."

  name           = "authorizer"
  source_dir     = "${path.module}/src"
  handler        = "app.app"
  routes         = ["whoami", "say"]
  two_way_routes = ["whoami"]
  stage_name     = "dev"

  # The module builds a second Lambda from the same code with this handler and attaches it to
  # $connect as a REQUEST authorizer. Browsers cannot set headers on a WebSocket, so the token
  # travels in the query string: wss://.../dev?token=<token>. Without it, API Gateway answers 401
  # without calling the authorizer.
  authorizer_handler          = "auth.authorize"
  authorizer_identity_sources = ["route.request.querystring.token"]

  environment = {
    AUTH_SECRET = var.auth_secret
  }
}
