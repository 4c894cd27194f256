output "websocket_url" {
  description = "Connect here with ?token=<JWT> (python tokens.py issue <user> --key .keys/private.pem prints one)."
  value       = module.ws.websocket_url
}

output "management_endpoint" {
  description = "HTTPS endpoint of the @connections API (what WSGATE_ENDPOINT holds)."
  value       = module.ws.management_endpoint
}

output "authorizer_function_name" {
  description = "The authorizer Lambda the module built."
  value       = module.ws.authorizer_function_name
}

output "function_name" {
  description = "The dispatcher Lambda function."
  value       = module.ws.function_name
}
