output "websocket_url" {
  description = "Connect here and send {\"action\": \"subscribe\", \"topic\": \"news\"}."
  value       = module.ws.websocket_url
}

output "notifier_function_name" {
  description = "The scheduled Lambda that pushes notifications (aws lambda invoke to trigger it by hand)."
  value       = aws_lambda_function.notifier.function_name
}

output "env" {
  description = "What any other function sets to send to this API's clients."
  value       = module.ws.env
}
