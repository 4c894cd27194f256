# Benchmark app for the broadcast measurement: `wsgate local bench/apps/fanout` reads this
# module block exactly as it reads an example's. Not meant to be deployed.
module "ws" {
  source = "../../.."

  name       = "fanout"
  source_dir = "${path.module}/src"
  handler    = "app.app"
}
