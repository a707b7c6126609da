# image-janitor: the AWS side of the worker.
#
#   sqs.tf     main queue + DLQ (SSE, redrive, redrive-allow policy)
#   s3.tf      image bucket (optional) and its lifecycle backstop
#   iam.tf     worker (IRSA or EKS Pod Identity), Notion Writer, operator
#              and KEDA policies
#   alarms.tf  CloudWatch alarms on the queues and the bucket's size

data "aws_partition" "current" {}

locals {
  partition = data.aws_partition.current.partition

  use_kms = var.kms_key_arn != null

  # Every bucket the worker may delete from; the first also holds the lease.
  bucket_names = concat([var.bucket_name], var.additional_bucket_names)
  bucket_arns  = [for b in local.bucket_names : "arn:${local.partition}:s3:::${b}"]

  # "keep-images/" -> "keep-images/*"; "" -> "*" (whole bucket, allowed by the contract).
  prefix_pattern = "${var.prefix}*"

  lease_object_arn = "arn:${local.partition}:s3:::${var.bucket_name}/${var.lease_key}"

  oidc_issuer = var.oidc_provider_url == null ? null : trimprefix(var.oidc_provider_url, "https://")

  service_account_subject = "system:serviceaccount:${var.namespace}:${var.service_account_name}"

  bucket_id = var.create_bucket ? aws_s3_bucket.images[0].id : var.bucket_name

  # The region, read from the queue's ARN (arn:PARTITION:sqs:REGION:ACCOUNT:NAME)
  # rather than data.aws_region, whose `name` attribute AWS provider v6
  # deprecates for `region` (which v5 lacks): this works across the whole
  # allowed provider range.
  region = split(":", aws_sqs_queue.main.arn)[3]
}
