# Benchmark app for the scale measurement: `wsgate local bench/apps/scale` reads this module
# block as it reads an example's. Not meant to be deployed.
module "ws" {
  source = "../../.."

  name       = "scale"
  source_dir = "${path.module}/src"
  handler    = "app.handler"
}
