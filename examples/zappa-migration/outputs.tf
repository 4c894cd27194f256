output "websocket_url" {
  description = "Connect here with any WebSocket client (wscat -c <this>)."
  value       = module.ws.websocket_url
}

output "http_api_url" {
  description = "The Flask routes (curl <this> answers {\"status\": \"ok\"})."
  value       = module.ws.http_api_url
}

output "management_endpoint" {
  description = "HTTPS endpoint of the @connections API (what WSGATE_ENDPOINT holds)."
  value       = module.ws.management_endpoint
}

output "function_name" {
  description = "The dispatcher Lambda function."
  value       = module.ws.function_name
}

output "chatroom_table" {
  description = "The chat room's own DynamoDB table."
  value       = aws_dynamodb_table.chatroom.name
}
