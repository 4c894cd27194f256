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

module "ws" {
  source = "../.."

  name       = "chat"
  source_dir = "${path.module}/src"
  handler    = "app.app"
  routes     = ["hello", "join", "leave", "say", "members", "ping"]
  stage_name = "dev"
}
