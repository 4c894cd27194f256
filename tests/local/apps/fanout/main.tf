# A test app for fan-out: every connection joins the room "big"; a "shout" message publishes to it
# (above the threshold set below, through shards run as asynchronous invocations).
module "ws" {
  source = "../../../.."

  name              = "fanout"
  source_dir        = "${path.module}/src"
  handler           = "app.app"
  routes            = ["shout"]
  fanout_threshold  = 20
  fanout_shard_size = 40
}
