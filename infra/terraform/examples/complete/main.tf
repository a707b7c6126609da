# A complete deployment: queues, the image bucket, IAM for the worker (IRSA),
# the Notion Writer and operators, and the CloudWatch alarms.
#
#   terraform init
#   terraform apply -var bucket_name=my-keep-images -var eks_cluster_name=prod
#
# Then put the outputs into infra/kubernetes (see docs/deployment.md).

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      app        = "image-janitor"
      managed-by = "terraform"
    }
  }
}

data "aws_eks_cluster" "this" {
  name = var.eks_cluster_name
}

data "aws_iam_openid_connect_provider" "this" {
  url = data.aws_eks_cluster.this.identity[0].oidc[0].issuer
}

module "image_janitor" {
  source = "../../modules/image-janitor"

  name        = var.name
  bucket_name = var.bucket_name
  prefix      = var.prefix
  lease_key   = "image-janitor/sweeper.lease"

  expiration_days   = 7
  max_receive_count = 8
  # Temporary images: a delete is final (docs/deployment.md, "Versioning").
  versioning = false

  # An SNS topic fanning page.created out to this queue, if that is how the
  # Notion Writer publishes (CONTRACT §2 accepts the SNS envelope).
  queue_policy_statements = [for arn in var.sns_topic_arns : {
    sid        = "FromSnsTopic${index(var.sns_topic_arns, arn)}"
    actions    = ["sqs:SendMessage"]
    principals = [{ type = "Service", identifiers = ["sns.amazonaws.com"] }]
    conditions = [{ test = "ArnEquals", variable = "aws:SourceArn", values = [arn] }]
  }]

  oidc_provider_arn    = data.aws_iam_openid_connect_provider.this.arn
  oidc_provider_url    = data.aws_eks_cluster.this.identity[0].oidc[0].issuer
  namespace            = "image-janitor"
  service_account_name = "image-janitor"

  keda_operator_role_arn   = var.keda_operator_role_arn
  notion_writer_role_names = var.notion_writer_role_names
  operator_role_names      = var.operator_role_names

  # CloudWatch alarms, for teams without the Prometheus rules.
  create_alarms                          = var.create_alarms
  oldest_message_alarm_threshold_seconds = 3600
  bucket_objects_alarm_threshold         = var.bucket_objects_alarm_threshold
  bucket_size_alarm_threshold_bytes      = var.bucket_size_alarm_threshold_bytes
  alarm_actions                          = var.alarm_actions

  tags = {
    service = "keep-notion-sync"
  }
}
