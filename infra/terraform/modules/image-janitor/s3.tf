resource "aws_s3_bucket" "images" {
  #checkov:skip=CKV_AWS_144:temporary images need no cross-region replication; they are deleted within days
  #checkov:skip=CKV_AWS_21:versioning is var.versioning, off by default on purpose: a deleted temporary image must really be gone (docs/deployment.md weighs recovery against that)
  #checkov:skip=CKV_AWS_18:access logging is opt-in via var.access_log_bucket_name; a scratch bucket of temporary images does not need it by default
  #checkov:skip=CKV2_AWS_62:nothing consumes bucket event notifications; deletions are driven by SQS page.created messages
  count = var.create_bucket ? 1 : 0

  bucket        = var.bucket_name
  force_destroy = var.force_destroy_bucket

  tags = var.tags
}

resource "aws_s3_bucket_ownership_controls" "images" {
  count  = var.create_bucket ? 1 : 0
  bucket = aws_s3_bucket.images[0].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "images" {
  count  = var.create_bucket ? 1 : 0
  bucket = aws_s3_bucket.images[0].id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_logging" "images" {
  count  = var.create_bucket && var.access_log_bucket_name != null ? 1 : 0
  bucket = aws_s3_bucket.images[0].id

  target_bucket = var.access_log_bucket_name
  target_prefix = "s3-access/${var.bucket_name}/"
}

# Off by default (var.versioning): temporary images are meant to disappear when
# deleted. "Suspended" rather than no resource when off, so that switching an
# existing versioned bucket off takes effect (S3 cannot return a bucket to
# "never versioned"). The lifecycle rule's noncurrent-version expiry applies
# either way.
resource "aws_s3_bucket_versioning" "images" {
  count  = var.create_bucket ? 1 : 0
  bucket = aws_s3_bucket.images[0].id

  versioning_configuration {
    status = var.versioning ? "Enabled" : "Suspended"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "images" {
  count  = var.create_bucket ? 1 : 0
  bucket = aws_s3_bucket.images[0].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = local.use_kms ? "aws:kms" : "AES256"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = local.use_kms
  }
}

data "aws_iam_policy_document" "bucket_tls_only" {
  count = var.create_bucket ? 1 : 0

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.images[0].arn,
      "${aws_s3_bucket.images[0].arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "images" {
  count  = var.create_bucket ? 1 : 0
  bucket = aws_s3_bucket.images[0].id
  policy = data.aws_iam_policy_document.bucket_tls_only[0].json

  depends_on = [aws_s3_bucket_public_access_block.images]
}

# The backstop behind the worker and the sweeper: whatever nobody deleted
# expires anyway. With Days set on a versioned bucket, S3 also removes the
# expired-object delete markers by itself (ExpiredObjectDeleteMarker cannot be
# combined with Days in one rule, and is not needed).
resource "aws_s3_bucket_lifecycle_configuration" "images" {
  count  = var.create_bucket || var.manage_existing_bucket_lifecycle ? 1 : 0
  bucket = local.bucket_id

  rule {
    id     = "${var.name}-expire-temporary-images"
    status = "Enabled"

    filter {
      prefix = var.prefix
    }

    expiration {
      days = var.expiration_days
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }
  }

  # The lease object lives outside the prefix, but its old versions (one per
  # lease renewal) would pile up on a versioned bucket.
  rule {
    id     = "${var.name}-lease-noncurrent-versions"
    status = "Enabled"

    filter {
      prefix = var.lease_key
    }

    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }

  # Incomplete multipart uploads are never useful, under the prefix or not:
  # abort them bucket-wide.
  rule {
    id     = "${var.name}-abort-incomplete-multipart-uploads"
    status = "Enabled"

    # An explicit empty prefix (the whole bucket): an empty filter {} block
    # draws a provider warning in recent AWS provider releases.
    filter {
      prefix = ""
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.images]
}
