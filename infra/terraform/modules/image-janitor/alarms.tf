# Messages in the DLQ need a human: read them with `image-janitor dlq peek`,
# fix the cause, replay with `image-janitor dlq replay`.
resource "aws_cloudwatch_metric_alarm" "dlq_not_empty" {
  count = var.create_alarms ? 1 : 0

  alarm_name          = "${var.name}-dlq-not-empty"
  alarm_description   = "${var.name}-dlq holds dead-lettered page.created messages. Runbook: https://github.com/example/image-janitor/blob/main/docs/operations.md#dead-letter-queue-not-empty"
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

# The worker's own janitor_queue_oldest_age_seconds gauge is optional; this
# alarm is the authoritative "backlog is stuck" signal.
resource "aws_cloudwatch_metric_alarm" "oldest_message_too_old" {
  count = var.create_alarms ? 1 : 0

  alarm_name          = "${var.name}-oldest-message-too-old"
  alarm_description   = "The oldest message in ${var.name} is older than ${var.oldest_message_alarm_threshold_seconds}s: workers are down, stuck or too few. Runbook: https://github.com/example/image-janitor/blob/main/docs/operations.md#oldest-message-too-old"
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.main.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.oldest_message_alarm_threshold_seconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

# The bucket's own size, from S3's daily storage metrics (CloudWatch, free,
# one datapoint per day, reported with a lag of up to a day). For teams that
# watch CloudWatch rather than the janitor_prefix_* gauges: a bucket that keeps
# growing means the worker, the sweeper and the lifecycle rule fall behind.
# Each alarm exists only when its threshold is set. The figures cover the whole
# bucket (all prefixes), including noncurrent versions when versioning is on.
resource "aws_cloudwatch_metric_alarm" "bucket_objects" {
  count = var.bucket_objects_alarm_threshold == null ? 0 : 1

  alarm_name          = "${var.name}-bucket-objects-high"
  alarm_description   = "${local.bucket_id} holds more than ${var.bucket_objects_alarm_threshold} objects: cleanup is falling behind. Runbook: https://github.com/example/image-janitor/blob/main/docs/operations.md#prefix-growing"
  namespace           = "AWS/S3"
  metric_name         = "NumberOfObjects"
  dimensions          = { BucketName = local.bucket_id, StorageType = "AllStorageTypes" }
  statistic           = "Average"
  period              = 86400
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.bucket_objects_alarm_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "bucket_size" {
  count = var.bucket_size_alarm_threshold_bytes == null ? 0 : 1

  alarm_name          = "${var.name}-bucket-size-high"
  alarm_description   = "${local.bucket_id} holds more than ${var.bucket_size_alarm_threshold_bytes} bytes (StandardStorage): cleanup is falling behind. Runbook: https://github.com/example/image-janitor/blob/main/docs/operations.md#prefix-growing"
  namespace           = "AWS/S3"
  metric_name         = "BucketSizeBytes"
  dimensions          = { BucketName = local.bucket_id, StorageType = "StandardStorage" }
  statistic           = "Average"
  period              = 86400
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.bucket_size_alarm_threshold_bytes
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}
