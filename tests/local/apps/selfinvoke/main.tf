# A test app for the local Lambda Invoke API: a plain handler (no wsgate runtime) that invokes
# itself through a stock boto3 lambda client, as a fanned-out publish does, and answers direct
# invocations ({"echo": ...}, {"raise": ...}, {"sleep": ...}).
module "ws" {
  source = "../../../.."

  name       = "selfinvoke"
  source_dir = "${path.module}/src"
  handler    = "app.handler"
  routes     = ["spread"]

  fanout_threshold  = 10
  fanout_shard_size = 5
}
