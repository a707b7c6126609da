output "main_queue_url" {
  description = "JANITOR_QUEUE_URL (also the KEDA trigger's queueURL)."
  value       = aws_sqs_queue.main.url
}

output "main_queue_arn" {
  description = "ARN of the main queue."
  value       = aws_sqs_queue.main.arn
}

output "main_queue_name" {
  description = "Name of the main queue."
  value       = aws_sqs_queue.main.name
}

output "dlq_url" {
  description = "JANITOR_DLQ_URL."
  value       = aws_sqs_queue.dlq.url
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue."
  value       = aws_sqs_queue.dlq.arn
}

output "bucket_name" {
  description = "The image bucket (first entry of JANITOR_BUCKETS; holds the sweeper lease)."
  value       = local.bucket_id
}

output "bucket_names" {
  description = "JANITOR_BUCKETS as a list; join with ',' for the env var."
  value       = local.bucket_names
}

output "prefix" {
  description = "JANITOR_PREFIX."
  value       = var.prefix
}

output "lease_key" {
  description = "Key of the sweeper lease object in the first bucket (outside the prefix)."
  value       = var.lease_key
}

output "worker_policy_arn" {
  description = "ARN of the worker policy."
  value       = aws_iam_policy.worker.arn
}

output "worker_role_arn" {
  description = "Role of the image-janitor service account: with identity = \"irsa\" the ServiceAccount's eks.amazonaws.com/role-arn; with \"pod_identity\" already bound by the module's pod identity association. null when create_worker_role = false."
  value       = var.create_worker_role ? aws_iam_role.worker[0].arn : null
}

output "notion_writer_policy_arn" {
  description = "Attach to the Notion Writer's role: sqs:SendMessage on the main queue only."
  value       = aws_iam_policy.notion_writer.arn
}

output "operator_policy_arn" {
  description = "Attach to operators who peek at and replay the DLQ."
  value       = aws_iam_policy.operator.arn
}

output "keda_role_arn" {
  description = "Role for the KEDA TriggerAuthentication (podIdentity.roleArn); null unless keda_operator_role_arn is set."
  value       = var.keda_operator_role_arn == null ? null : aws_iam_role.keda[0].arn
}

output "region" {
  description = "AWS_REGION of the queues and the bucket."
  value       = local.region
}
