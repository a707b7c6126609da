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
