# A REQUEST authorizer built with wsgate's @authorizer helper, for the security tests: tokens
# "user:<name>" are allowed, "deny" is refused with a Deny policy, "crash" makes the authorizer
# fail, anything else is unauthorized.
module "ws" {
  source = "../../../.."

  name                        = "guarded"
  source_dir                  = "${path.module}/src"
  handler                     = "app.app"
  routes                      = ["whoami"]
  two_way_routes              = ["whoami"]
  authorizer_handler          = "auth.authorize"
  authorizer_identity_sources = ["route.request.header.Authorization"]
}
