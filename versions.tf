terraform {
  # 1.6 is the first release with `terraform test`, which the module's own tests use.
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0, < 7.0"
    }
    # Runs packager/build.py at plan time (data "external"); 2.3 is the first 2.x the module
    # is tested with, and 3.x may change the protocol.
    external = {
      source  = "hashicorp/external"
      version = ">= 2.3, < 3.0"
    }
  }
}
