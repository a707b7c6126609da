# Least-privilege IAM for the three parties that touch the queues:
#
#   worker         (IRSA role of the image-janitor pods): consume the main
#                  queue, dead-letter to the DLQ, delete objects under the
#                  prefix, hold the sweeper lease object.
#   Notion Writer  publish page.created to the main queue, nothing else.
#   operator       peek/replay the DLQ back into the main queue.
#
# Plus an optional KEDA scaler role that can only read the main queue's
# attributes.

# ---------------------------------------------------------------------------
# Worker
# ---------------------------------------------------------------------------

# The policy documents live in policies/*.json.tftpl: one source that both
# Terraform (templatefile below) and the test suite's AWS-strict proxy render
# (tests/common/faultproxy/strict/policy.rs), so the tests enforce exactly the
# IAM this module ships. Keep the templates to the subset that renderer knows:
# ${jsonencode(VAR)} and %{ if VAR != "" } ... %{ endif } — see docs/faults.md.
locals {
  policy_vars = {
    main_queue_arn   = aws_sqs_queue.main.arn
    dlq_arn          = aws_sqs_queue.dlq.arn
    bucket_arns      = local.bucket_arns
    object_arns      = [for arn in local.bucket_arns : "${arn}/${local.prefix_pattern}"]
    prefix           = var.prefix
    prefix_pattern   = local.prefix_pattern
    lease_object_arn = local.lease_object_arn
    kms_key_arn      = local.use_kms ? var.kms_key_arn : ""
  }
}

# Consume the main queue, dead-letter to the DLQ (GetQueueUrl: the DLQ named
# by the RedrivePolicy, CONTRACT §4), delete under the prefix, list only under
# the prefix (s3:prefix condition), hold the sweeper lease object (outside the
# prefix, first bucket), and the KMS key when one is used.
data "aws_iam_policy_document" "worker" {
  source_policy_documents = [templatefile("${path.module}/policies/worker.json.tftpl", local.policy_vars)]
}

resource "aws_iam_policy" "worker" {
  name        = "${var.name}-worker"
  description = "image-janitor worker: consume ${var.name}, dead-letter to ${var.name}-dlq, delete under s3 prefix '${var.prefix}', hold the sweeper lease."
  policy      = data.aws_iam_policy_document.worker.json
  tags        = var.tags
}

data "aws_iam_policy_document" "worker_assume" {
  count = var.create_worker_role ? 1 : 0

  statement {
    sid     = "EksServiceAccount"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer}:sub"
      values   = [local.service_account_subject]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "worker" {
  count = var.create_worker_role ? 1 : 0

  name                 = "${var.name}-worker"
  description          = "IRSA role of ${local.service_account_subject}"
  assume_role_policy   = data.aws_iam_policy_document.worker_assume[0].json
  permissions_boundary = var.permissions_boundary_arn
  max_session_duration = 3600
  tags                 = var.tags

  lifecycle {
    precondition {
      condition     = var.oidc_provider_arn != null && var.oidc_provider_url != null
      error_message = "create_worker_role needs oidc_provider_arn and oidc_provider_url (the EKS cluster's OIDC provider)."
    }
  }
}

resource "aws_iam_role_policy_attachment" "worker" {
  count = var.create_worker_role ? 1 : 0

  role       = aws_iam_role.worker[0].name
  policy_arn = aws_iam_policy.worker.arn
}

# ---------------------------------------------------------------------------
# Notion Writer: publish only
# ---------------------------------------------------------------------------

data "aws_iam_policy_document" "notion_writer" {
  source_policy_documents = [templatefile("${path.module}/policies/notion-writer.json.tftpl", local.policy_vars)]
}

resource "aws_iam_policy" "notion_writer" {
  name        = "${var.name}-notion-writer"
  description = "Publish page.created messages to ${var.name} (SendMessage only)."
  policy      = data.aws_iam_policy_document.notion_writer.json
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "notion_writer" {
  for_each = toset(var.notion_writer_role_names)

  role       = each.value
  policy_arn = aws_iam_policy.notion_writer.arn
}

# ---------------------------------------------------------------------------
# Operator: `image-janitor dlq peek` / `dlq replay`
# ---------------------------------------------------------------------------

# ReceiveMessage & co. on the DLQ (peek, replay); SendMessage to the main
# queue (replay); GetQueueAttributes on the main queue to resolve the DLQ from
# its RedrivePolicy when JANITOR_DLQ_URL is unset (read-only).
data "aws_iam_policy_document" "operator" {
  source_policy_documents = [templatefile("${path.module}/policies/operator.json.tftpl", local.policy_vars)]
}

resource "aws_iam_policy" "operator" {
  name        = "${var.name}-operator"
  description = "Peek at and replay ${var.name}-dlq into ${var.name}."
  policy      = data.aws_iam_policy_document.operator.json
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "operator" {
  for_each = toset(var.operator_role_names)

  role       = each.value
  policy_arn = aws_iam_policy.operator.arn
}

# ---------------------------------------------------------------------------
# KEDA scaler (optional): read the main queue's depth
# ---------------------------------------------------------------------------

data "aws_iam_policy_document" "keda_assume" {
  count = var.keda_operator_role_arn == null ? 0 : 1

  statement {
    sid     = "KedaOperator"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = [var.keda_operator_role_arn]
    }
  }
}

data "aws_iam_policy_document" "keda" {
  statement {
    sid       = "ReadQueueDepth"
    actions   = ["sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.main.arn]
  }

  dynamic "statement" {
    for_each = local.use_kms ? [1] : []
    content {
      sid       = "DescribeQueueKey"
      actions   = ["kms:Decrypt"]
      resources = [var.kms_key_arn]
    }
  }
}

resource "aws_iam_role" "keda" {
  count = var.keda_operator_role_arn == null ? 0 : 1

  name                 = "${var.name}-keda-scaler"
  description          = "Assumed by the KEDA operator to read ${var.name}'s depth"
  assume_role_policy   = data.aws_iam_policy_document.keda_assume[0].json
  permissions_boundary = var.permissions_boundary_arn
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy" "keda" {
  count = var.keda_operator_role_arn == null ? 0 : 1

  name   = "read-queue-depth"
  role   = aws_iam_role.keda[0].id
  policy = data.aws_iam_policy_document.keda.json
}
