output "main_queue_url" {
  description = "JANITOR_QUEUE_URL and the KEDA trigger's queueURL."
  value       = module.image_janitor.main_queue_url
}

output "dlq_url" {
  description = "JANITOR_DLQ_URL."
  value       = module.image_janitor.dlq_url
}

output "main_queue_arn" {
  description = "ARN of the main queue."
  value       = module.image_janitor.main_queue_arn
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue."
  value       = module.image_janitor.dlq_arn
}

output "worker_role_arn" {
  description = "Put into the ServiceAccount annotation eks.amazonaws.com/role-arn."
  value       = module.image_janitor.worker_role_arn
}

output "notion_writer_policy_arn" {
  description = "Publish-only policy for the Notion Writer."
  value       = module.image_janitor.notion_writer_policy_arn
}

output "operator_policy_arn" {
  description = "DLQ peek/replay policy for operators."
  value       = module.image_janitor.operator_policy_arn
}

output "keda_role_arn" {
  description = "podIdentity.roleArn of the KEDA TriggerAuthentication."
  value       = module.image_janitor.keda_role_arn
}

output "bucket_name" {
  description = "JANITOR_BUCKETS."
  value       = module.image_janitor.bucket_name
}

output "prefix" {
  description = "JANITOR_PREFIX."
  value       = module.image_janitor.prefix
}

output "lease_key" {
  description = "Sweeper lease object key (outside the prefix)."
  value       = module.image_janitor.lease_key
}

output "region" {
  description = "AWS_REGION."
  value       = module.image_janitor.region
}
