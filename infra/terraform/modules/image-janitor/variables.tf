# ---------------------------------------------------------------------------
# Naming and tagging
# ---------------------------------------------------------------------------

variable "name" {
  description = "Base name for every resource (queues, policies, role, alarms). The DLQ is \"<name>-dlq\"."
  type        = string
  default     = "image-janitor"

  # IAM role names are at most 64 characters; the longest name this module
  # derives is "<name>-keda-scaler" (12 more), so name has at most 52.
  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,52}$", var.name))
    error_message = "name must be 1-52 characters of letters, digits, '-' or '_': the module's longest IAM role name, \"<name>-keda-scaler\", must fit IAM's 64-character limit (and the queue name rules)."
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

variable "max_message_size" {
  description = "MaximumMessageSize of both queues, in bytes. Default: the SQS maximum, 1 MiB (a page.created message naming 1000 images can exceed 256 KiB). AWS provider releases from before SQS raised the limit (August 2025) reject values above 262144: on those, set 262144."
  type        = number
  default     = 1048576

  validation {
    condition     = var.max_message_size >= 1024 && var.max_message_size <= 1048576 && floor(var.max_message_size) == var.max_message_size
    error_message = "max_message_size must be a whole number of bytes within 1024..1048576 (1 MiB)."
  }
}

variable "queue_policy_statements" {
  description = "Extra statements for the main queue's resource policy, merged with the module's own (deny non-TLS access), e.g. an SNS topic's sqs:SendMessage or a cross-account producer. Each object follows the aws_iam_policy_document statement block; principals and conditions are lists of objects."
  type = list(object({
    sid       = optional(string)
    effect    = optional(string, "Allow")
    actions   = list(string)
    resources = optional(list(string))
    principals = optional(list(object({
      type        = string
      identifiers = list(string)
    })), [])
    conditions = optional(list(object({
      test     = string
      variable = string
      values   = list(string)
    })), [])
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.queue_policy_statements : contains(["Allow", "Deny"], s.effect) && length(s.actions) > 0])
    error_message = "queue_policy_statements: effect must be Allow or Deny, and actions must not be empty."
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
  description = "true: create the image bucket with SSE, public access block, ownership controls, TLS-only policy and the lifecycle rule. false: use the existing bucket named bucket_name (only IAM refers to it; see manage_existing_bucket_lifecycle)."
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

variable "versioning" {
  description = "Enable S3 versioning on the bucket this module creates. Default off, as temporary storage should be: a deleted image is then really gone. On: a deleted image stays recoverable as a noncurrent version for noncurrent_version_expiration_days (the lifecycle rule still expires it), at the cost of those bytes. See docs/deployment.md."
  type        = bool
  default     = false
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
  description = "Create the IAM role of the worker pods (trusting IRSA or EKS Pod Identity, see identity)."
  type        = bool
  default     = true
}

variable "identity" {
  description = "How the worker pods get the role: \"irsa\" (IAM roles for service accounts; needs oidc_provider_arn and oidc_provider_url) or \"pod_identity\" (EKS Pod Identity; needs eks_cluster_name, creates the pod identity association; use the Kubernetes component eks-pod-identity)."
  type        = string
  default     = "irsa"

  validation {
    condition     = contains(["irsa", "pod_identity"], var.identity)
    error_message = "identity must be \"irsa\" or \"pod_identity\"."
  }
}

variable "eks_cluster_name" {
  description = "With identity = \"pod_identity\": the EKS cluster whose pod identity association binds the worker's service account to the role."
  type        = string
  default     = null
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
  description = "Create the CloudWatch alarms on the queues (DLQ not empty, oldest message too old). Off by default: infra/prometheus/rules.yml covers the same symptoms, and with both each symptom would page twice. Turn on for teams that watch CloudWatch rather than Prometheus."
  type        = bool
  default     = false
}

variable "bucket_objects_alarm_threshold" {
  description = "Alarm when the image bucket's daily NumberOfObjects (CloudWatch storage metric, all storage types) exceeds this. null: no alarm. Size it from the expected uploads per day times the lifecycle window."
  type        = number
  default     = null

  validation {
    condition     = var.bucket_objects_alarm_threshold == null || try(var.bucket_objects_alarm_threshold > 0, false)
    error_message = "bucket_objects_alarm_threshold must be null or positive."
  }
}

variable "bucket_size_alarm_threshold_bytes" {
  description = "Alarm when the image bucket's daily BucketSizeBytes (StandardStorage) exceeds this many bytes. null: no alarm."
  type        = number
  default     = null

  validation {
    condition     = var.bucket_size_alarm_threshold_bytes == null || try(var.bucket_size_alarm_threshold_bytes > 0, false)
    error_message = "bucket_size_alarm_threshold_bytes must be null or positive."
  }
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
