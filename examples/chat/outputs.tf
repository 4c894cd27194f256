output "websocket_url" {
  description = "Connect here with any WebSocket client, or open static/index.html?url=<this>."
  value       = module.ws.websocket_url
}

output "management_endpoint" {
  description = "HTTPS endpoint of the @connections API (what WSGATE_ENDPOINT holds)."
  value       = module.ws.management_endpoint
}

output "function_name" {
  description = "The dispatcher Lambda function (for aws logs tail /aws/lambda/<this>)."
  value       = module.ws.function_name
}

output "table_name" {
  description = "The DynamoDB connection table."
  value       = module.ws.table_name
}
