# Benchmark app for the scale measurement: `wsgate local bench/apps/scale` reads this module
# block as it reads an example's. Not meant to be deployed.
variable "shard_size" {
  description = "Member ids per fan-out shard (the bench passes --var shard_size=N)."
  type        = number
  default     = 1000
}

module "ws" {
  source = "../../.."

  name              = "scale"
  source_dir        = "${path.module}/src"
  handler           = "app.handler"
  fanout_shard_size = var.shard_size

  # A publish made inside the function (under --cpu-share) is timed to its end, not cut at 29 s.
  timeout = 600
}
