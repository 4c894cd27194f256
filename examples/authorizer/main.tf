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

variable "architecture" {
  description = "Instruction set of the functions (the compiled wheels in the zip follow it): arm64 or x86_64."
  type        = string
  default     = "arm64"
}

variable "jwt_public_key" {
  description = "PEM of the RSA public key that verifies the tokens (RS256), e.g. the contents of .keys/public.pem from `python tokens.py keys .keys`, or your identity provider's signing key."
  type        = string

  validation {
    condition     = startswith(trimspace(var.jwt_public_key), "-----BEGIN PUBLIC KEY-----")
    error_message = "jwt_public_key must be a PEM public key (-----BEGIN PUBLIC KEY-----), not a private key."
  }
}

variable "jwt_issuer" {
  description = "The `iss` every token must carry."
  type        = string
  default     = "https://auth.example.com/"
}

variable "jwt_audience" {
  description = "The `aud` every token must carry."
  type        = string
  default     = "wsgate-authorizer-example"
}

# The authorizer reads its verification key from Parameter Store at cold start, so the key is
# in no environment variable and can be rotated without a deploy. A public key is no secret;
# a shared secret (HS256, an API key) would be read the same way, from a SecureString created
# outside Terraform so that its value stays out of the state too.
resource "aws_ssm_parameter" "jwt_public_key" {
  #checkov:skip=CKV_AWS_337:The parameter holds a public key; the AWS managed key aws/ssm encrypts it at rest, and a customer managed key would also need kms:Decrypt for the authorizer.
  name        = "/wsgate/authorizer/jwt-public-key"
  description = "RS256 public key the authorizer example verifies tokens with"
  type        = "SecureString"
  value       = var.jwt_public_key
}

module "ws" {
  source = "../.."

  name           = "authorizer"
  source_dir     = "${path.module}/src"
  handler        = "app.app"
  routes         = ["whoami", "say"]
  two_way_routes = ["whoami"]
  stage_name     = "dev"
  architecture   = var.architecture

  # The module builds a second Lambda from the same code with this handler and attaches it to
  # $connect as a REQUEST authorizer. Browsers cannot set headers on a WebSocket, so the token
  # travels in the query string: wss://.../dev?token=<JWT>. Without it, API Gateway answers 401
  # without calling the authorizer. src/requirements.txt puts PyJWT and cryptography in the zip.
  authorizer_handler          = "auth.authorize"
  authorizer_identity_sources = ["route.request.querystring.token"]

  # Only the authorizer sees these; the dispatcher gets none of them.
  authorizer_environment = {
    JWT_PUBLIC_KEY_PARAMETER = aws_ssm_parameter.jwt_public_key.name
    JWT_ISSUER               = var.jwt_issuer
    JWT_AUDIENCE             = var.jwt_audience
  }
}

# Exactly one permission, on exactly that parameter: ssm:GetParameter for the authorizer's role.
# (The aws/ssm key's policy lets SSM decrypt for any principal allowed to read the parameter.)
resource "aws_iam_role_policy" "authorizer_reads_key" {
  name = "read-jwt-public-key"
  role = module.ws.authorizer_role_name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ReadJwtPublicKey"
        Effect   = "Allow"
        Action   = ["ssm:GetParameter"]
        Resource = [aws_ssm_parameter.jwt_public_key.arn]
      },
    ]
  })
}
