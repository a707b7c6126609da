# ---------------------------------------------------------------------------
# Naming and tagging
# ---------------------------------------------------------------------------

variable "name" {
  description = "Base name for every resource (queues, policies, role, alarms). The DLQ is \"<name>-dlq\"."
  type        = string
  default     = "image-janitor"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,60}$", var.name))
    error_message = "name must be 1-60 characters of letters, digits, '-' or '_' (SQS queue name rules, leaving room for the -dlq suffix)."
  }
}

variable "tags" {
  description = "Tags added to every taggable resource."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------
# Queues
# ---------------------------------------------------------------------------

variable "max_receive_count" {
  description = "SQS redrive maxReceiveCount: receives before SQS itself moves a message to the DLQ. Must exceed the worker's JANITOR_MAX_ATTEMPTS (default 5), so that the worker dead-letters with a reason (retries_exhausted) before SQS does it silently; SQS redrive is only the backstop for a crashing worker."
  type        = number
  default     = 8

  validation {
    condition     = var.max_receive_count > 5 && var.max_receive_count <= 1000 && floor(var.max_receive_count) == var.max_receive_count
    error_message = "max_receive_count must be an integer in 6..1000 (greater than JANITOR_MAX_ATTEMPTS, default 5)."
  }
}

variable "visibility_timeout_seconds" {
  description = "Main queue default visibility timeout. The worker sets its own per receive (JANITOR_VISIBILITY_TIMEOUT, 60s) and extends it while working."
  type        = number
  default     = 60

  validation {
    condition     = var.visibility_timeout_seconds >= 0 && var.visibility_timeout_seconds <= 43200
    error_message = "visibility_timeout_seconds must be within 0..43200."
  }
}

variable "receive_wait_time_seconds" {
  description = "Main queue long-poll wait (ReceiveMessageWaitTimeSeconds)."
  type        = number
  default     = 20

  validation {
    condition     = var.receive_wait_time_seconds >= 0 && var.receive_wait_time_seconds <= 20
    error_message = "receive_wait_time_seconds must be within 0..20."
  }
}

variable "message_retention_seconds" {
  description = "How long the main queue keeps a message (default 4 days)."
  type        = number
  default     = 345600

  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600
    error_message = "message_retention_seconds must be within 60..1209600."
  }
}

variable "dlq_message_retention_seconds" {
  description = "How long the DLQ keeps a message (default and maximum: 14 days, time for an operator to replay)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dlq_message_retention_seconds >= 60 && var.dlq_message_retention_seconds <= 1209600
    error_message = "dlq_message_retention_seconds must be within 60..1209600."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the queues and the bucket. null: SQS-managed SSE for the queues and SSE-S3 (AES256) for the bucket. When set, the worker, Notion Writer and operator policies also get the kms:GenerateDataKey/kms:Decrypt they need."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN."
  }
}

# ---------------------------------------------------------------------------
# Bucket
# ---------------------------------------------------------------------------

variable "create_bucket" {
  description = "true: create the image bucket with versioning, SSE, public access block, ownership controls, TLS-only policy and the lifecycle rule. false: use the existing bucket named bucket_name (only IAM refers to it; see manage_existing_bucket_lifecycle)."
  type        = bool
  default     = true
}

variable "manage_existing_bucket_lifecycle" {
  description = "With create_bucket = false: also put the lifecycle configuration on the existing bucket. WARNING: S3 has one lifecycle configuration per bucket, so this REPLACES any rules the bucket already has."
  type        = bool
  default     = false
}

variable "bucket_name" {
  description = "The image bucket (the first entry of JANITOR_BUCKETS). Created when create_bucket = true; also holds the sweeper lease object."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, '.', '-')."
  }
}

variable "additional_bucket_names" {
  description = "Further existing buckets the worker may delete from (the rest of JANITOR_BUCKETS). IAM only: the module does not manage them."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for b in var.additional_bucket_names : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", b))])
    error_message = "additional_bucket_names must hold valid S3 bucket names."
  }
}

variable "prefix" {
  description = "JANITOR_PREFIX: the key prefix the worker and the sweeper may delete under (and the lifecycle rule's filter). Use a trailing '/'. The empty string allows the whole bucket and is accepted only because the contract allows it."
  type        = string
  default     = "keep-images/"

  validation {
    condition     = !startswith(var.prefix, "/") && length(var.prefix) <= 512 && !strcontains(var.prefix, "*")
    error_message = "prefix must not start with '/', contain '*', or exceed 512 characters."
  }
}

variable "lease_key" {
  description = "Key of the sweeper lease object in the first bucket. It sits OUTSIDE the prefix, so that neither the lifecycle rule nor a sweep nor a forged page.created message can delete another replica's lease, and so that the worker's prefix-wide DeleteObject grant does not cover it."
  type        = string
  default     = "image-janitor/sweeper.lease"

  validation {
    condition     = length(var.lease_key) > 0 && length(var.lease_key) <= 1024 && !startswith(var.lease_key, "/") && !strcontains(var.lease_key, "*")
    error_message = "lease_key must be a non-empty S3 key (no leading '/', no '*')."
  }
}

variable "expiration_days" {
  description = "Lifecycle backstop: objects under the prefix expire after this many days even if no message named them (matches JANITOR_SWEEP_MAX_AGE, 7d)."
  type        = number
  default     = 7

  validation {
    condition     = var.expiration_days >= 1 && floor(var.expiration_days) == var.expiration_days
    error_message = "expiration_days must be a whole number >= 1."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Noncurrent versions (left behind by the worker's deletes on a versioned bucket) are removed after this many days."
  type        = number
  default     = 1

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a whole number >= 1."
  }
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Incomplete multipart uploads (anywhere in the bucket) are aborted after this many days."
  type        = number
  default     = 1

  validation {
    condition     = var.abort_incomplete_multipart_upload_days >= 1 && floor(var.abort_incomplete_multipart_upload_days) == var.abort_incomplete_multipart_upload_days
    error_message = "abort_incomplete_multipart_upload_days must be a whole number >= 1."
  }
}

variable "access_log_bucket_name" {
  description = "With create_bucket = true: existing bucket that receives S3 server access logs of the image bucket (prefix s3-access/<bucket>/). null: no access logging."
  type        = string
  default     = null
}

variable "force_destroy_bucket" {
  description = "Let terraform destroy a non-empty bucket it created (test environments only)."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------
# IAM / EKS
# ---------------------------------------------------------------------------

variable "create_worker_role" {
  description = "Create the IRSA role for the worker pods (needs oidc_provider_arn and oidc_provider_url)."
  type        = bool
  default     = true
}

variable "oidc_provider_arn" {
  description = "ARN of the EKS cluster's IAM OIDC provider (arn:aws:iam::ACCOUNT:oidc-provider/oidc.eks.REGION.amazonaws.com/id/XXXX)."
  type        = string
  default     = null

  validation {
    condition     = var.oidc_provider_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/", var.oidc_provider_arn))
    error_message = "oidc_provider_arn must be null or an IAM OIDC provider ARN."
  }
}

variable "oidc_provider_url" {
  description = "The EKS OIDC issuer, with or without https:// (oidc.eks.REGION.amazonaws.com/id/XXXX)."
  type        = string
  default     = null
}

variable "namespace" {
  description = "Kubernetes namespace of the worker's service account."
  type        = string
  default     = "image-janitor"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a DNS-1123 label."
  }
}

variable "service_account_name" {
  description = "Kubernetes service account the worker pods (and the sweep CronJob) run as."
  type        = string
  default     = "image-janitor"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$", var.service_account_name))
    error_message = "service_account_name must be a DNS-1123 subdomain."
  }
}

variable "keda_operator_role_arn" {
  description = "IAM role of the KEDA operator. When set, a KEDA scaler role (sqs:GetQueueAttributes on the main queue only) is created that this role may assume; put its ARN in the TriggerAuthentication. null: no scaler role."
  type        = string
  default     = null

  validation {
    condition     = var.keda_operator_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", var.keda_operator_role_arn))
    error_message = "keda_operator_role_arn must be null or an IAM role ARN."
  }
}

variable "notion_writer_role_names" {
  description = "Existing IAM role names to attach the Notion Writer (publish-only) policy to."
  type        = list(string)
  default     = []
}

variable "operator_role_names" {
  description = "Existing IAM role names to attach the DLQ operator (peek/replay) policy to."
  type        = list(string)
  default     = []
}

variable "permissions_boundary_arn" {
  description = "Optional permissions boundary for the roles this module creates."
  type        = string
  default     = null
}

# ---------------------------------------------------------------------------
# Alarms
# ---------------------------------------------------------------------------

variable "create_alarms" {
  description = "Create the CloudWatch alarms (DLQ not empty, oldest message too old)."
  type        = bool
  default     = true
}

variable "oldest_message_alarm_threshold_seconds" {
  description = "Alarm when the main queue's ApproximateAgeOfOldestMessage exceeds this (default 1 hour)."
  type        = number
  default     = 3600

  validation {
    condition     = var.oldest_message_alarm_threshold_seconds >= 60
    error_message = "oldest_message_alarm_threshold_seconds must be at least 60."
  }
}

variable "alarm_actions" {
  description = "SNS topic ARNs (or other actions) notified when an alarm fires and recovers."
  type        = list(string)
  default     = []
}
