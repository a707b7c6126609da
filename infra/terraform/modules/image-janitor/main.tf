# image-janitor: the AWS side of the worker.
#
#   sqs.tf     main queue + DLQ (SSE, redrive, redrive-allow policy)
#   s3.tf      image bucket (optional) and its lifecycle backstop
#   iam.tf     worker (IRSA), Notion Writer, operator and KEDA policies
#   alarms.tf  CloudWatch alarms on the queues

data "aws_partition" "current" {}

data "aws_region" "current" {}

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
}
