# A test app for `--cpu-share`: a plain handler that burns CPU on request ({"burn": seconds,
# "threads": n}) and says how much CPU and wall time that took.
module "ws" {
  source = "../../../.."

  name        = "cpu"
  source_dir  = "${path.module}/src"
  handler     = "app.handler"
  memory_size = 256
}
