# A handler that misbehaves on request, for the reliability tests: it raises, hangs past the
# integration timeout, returns what cannot be serialized, or logs a credential; ?slow=S makes
# $connect slow.
module "ws" {
  source = "../../../.."

  name                   = "faulty"
  source_dir             = "${path.module}/src"
  handler                = "app.app"
  routes                 = ["raise", "hang", "unserializable", "log_secret", "echo"]
  two_way_routes         = ["unserializable", "echo"]
  integration_timeout_ms = 1000
  timeout                = 3
}
