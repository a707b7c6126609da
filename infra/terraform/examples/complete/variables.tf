variable "region" {
  description = "AWS region of the queues, the bucket and the EKS cluster."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must look like us-east-1."
  }
}

variable "name" {
  description = "Base name of the queues, policies and roles."
  type        = string
  default     = "image-janitor"
}

variable "bucket_name" {
  description = "The image bucket Keep-Notion-Sync copies images to (created here)."
  type        = string
  default     = "keep-notion-sync-images"
}

variable "prefix" {
  description = "JANITOR_PREFIX: key prefix of the temporary images."
  type        = string
  default     = "keep-images/"
}

variable "eks_cluster_name" {
  description = "EKS cluster that runs the worker (its OIDC provider backs the IRSA role)."
  type        = string
  default     = "prod"
}

variable "keda_operator_role_arn" {
  description = "IAM role of the KEDA operator (IRSA of keda-operator); null to skip the KEDA scaler role."
  type        = string
  default     = null
}

variable "notion_writer_role_names" {
  description = "IAM roles of the Notion Writer that get the publish-only policy."
  type        = list(string)
  default     = []
}

variable "operator_role_names" {
  description = "IAM roles of operators that get the DLQ peek/replay policy."
  type        = list(string)
  default     = []
}

variable "alarm_actions" {
  description = "SNS topics notified by the CloudWatch alarms."
  type        = list(string)
  default     = []
}

variable "sns_topic_arns" {
  description = "SNS topics allowed to deliver to the main queue (queue policy statements); empty when the Notion Writer sends to SQS directly."
  type        = list(string)
  default     = []
}

variable "create_alarms" {
  description = "CloudWatch alarms on the queues (off when the Prometheus rules are deployed)."
  type        = bool
  default     = false
}

variable "bucket_objects_alarm_threshold" {
  description = "Alarm above this many objects in the bucket (daily NumberOfObjects); null: no alarm."
  type        = number
  default     = null
}

variable "bucket_size_alarm_threshold_bytes" {
  description = "Alarm above this many bytes in the bucket (daily BucketSizeBytes); null: no alarm."
  type        = number
  default     = null
}
