# A test app for the local gateway: the handler records every event it gets and reacts to
# commands in the message ({"do": "raise"}, {"do": "exit"}, ...), so tests can see exactly what
# API Gateway (here, the local gateway) delivered.
module "ws" {
  source = "../../../.."

  name                   = "recorder"
  source_dir             = "${path.module}/src"
  handler                = "app.handler"
  routes                 = ["echo", "reply"]
  two_way_routes         = ["reply"]
  integration_timeout_ms = 1500
  environment = {
    RECORDER_GREETING = "from main.tf"
  }
}
