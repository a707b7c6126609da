//! The queue checks: main queue reachable, RedrivePolicy and maxReceiveCount, visibility timeout,
//! MaximumMessageSize, encryption, the DLQ (reachable, not the main queue) and its retention.
//! Read-only: GetQueueAttributes and GetQueueUrl.

use std::sync::Arc;
use std::time::Duration;

use super::{Check, Settings, Target};
use crate::queue::{Queue, QueueId, QueueSettings, Redrive};

/// 1 MiB, the SQS maximum message size (since August 2025): room for 1000-image messages.
pub const WANTED_MESSAGE_SIZE: u64 = 1_048_576;

fn human(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// Every queue check, appended to `out` in order; returns the DLQ when it is reachable.
pub async fn check(target: &Target, s: &Settings, out: &mut Vec<Check>) -> Option<Arc<dyn Queue>> {
    let url = target.main.url().to_owned();
    let main = match target.main.settings().await {
        Ok(m) => {
            out.push(Check::ok(
                "main_queue",
                &url,
                format!(
                    "reachable ({})",
                    m.arn.as_deref().unwrap_or("GetQueueAttributes answered")
                ),
            ));
            Some(m)
        }
        Err(e) => {
            out.push(Check::fail(
                "main_queue",
                &url,
                format!("GetQueueAttributes failed: {e}"),
                "check JANITOR_QUEUE_URL and the AWS region/endpoint, and grant the role \
                 sqs:GetQueueAttributes and sqs:ReceiveMessage on the queue",
            ));
            None
        }
    };
    let redrive = main.as_ref().map(|m| redrive_checks(&url, m, s, out));
    if let Some(m) = &main {
        out.push(visibility(&url, m, s));
        out.push(encryption(&url, "main queue", m));
    }
    let target_arn = redrive.flatten().map(|r| r.target_arn);
    let (dlq, dlq_settings) = dlq(target, s, main.as_ref(), target_arn.as_deref(), out).await;
    out.push(message_size(&url, main.as_ref(), dlq_settings.as_ref()));
    if let (Some(q), Some(d)) = (&dlq, &dlq_settings) {
        out.push(encryption(q.url(), "dead-letter queue", d));
    }
    out.push(retention(&url, main.as_ref(), dlq_settings.as_ref()));
    dlq
}

/// `redrive_policy` and `max_receive_count`; the parsed policy, when there is one.
fn redrive_checks(
    url: &str,
    main: &QueueSettings,
    s: &Settings,
    out: &mut Vec<Check>,
) -> Option<Redrive> {
    let Some(raw) = &main.redrive_policy else {
        out.push(if s.configured_dlq.is_some() {
            Check::warn(
                "redrive_policy",
                url,
                "no RedrivePolicy: the worker dead-letters to JANITOR_DLQ_URL itself, but a message \
                 that crashes the worker every time is received until its retention expires",
                format!(
                    "add a RedrivePolicy naming the DLQ with maxReceiveCount above {} (the Terraform module does)",
                    s.max_attempts
                ),
            )
        } else {
            Check::fail(
                "redrive_policy",
                url,
                "no RedrivePolicy and JANITOR_DLQ_URL is not set: `run` cannot find a dead-letter queue (exit 2)",
                "add a RedrivePolicy naming the DLQ (the Terraform module does), or set JANITOR_DLQ_URL",
            )
        });
        out.push(Check::skip("max_receive_count", url, "no RedrivePolicy"));
        return None;
    };
    let Some(r) = Redrive::parse(raw) else {
        out.push(Check::fail(
            "redrive_policy",
            url,
            format!("RedrivePolicy names no deadLetterTargetArn: {raw}"),
            "set the RedrivePolicy's deadLetterTargetArn to the DLQ's ARN",
        ));
        out.push(Check::skip(
            "max_receive_count",
            url,
            "no usable RedrivePolicy",
        ));
        return None;
    };
    out.push(Check::ok(
        "redrive_policy",
        url,
        format!("names the dead-letter queue {}", r.target_arn),
    ));
    let fix = format!(
        "raise the RedrivePolicy's maxReceiveCount above JANITOR_MAX_ATTEMPTS={} (Terraform \
         max_receive_count, default 8), or lower JANITOR_MAX_ATTEMPTS",
        s.max_attempts
    );
    out.push(match r.max_receive_count {
        Some(n) if n > s.max_attempts => Check::ok(
            "max_receive_count",
            url,
            format!(
                "maxReceiveCount {n} > JANITOR_MAX_ATTEMPTS {}: the worker dead-letters with a reason first",
                s.max_attempts
            ),
        ),
        Some(n) => Check::fail(
            "max_receive_count",
            url,
            format!(
                "maxReceiveCount {n} is not above JANITOR_MAX_ATTEMPTS {}: SQS moves a failing \
                 message to the DLQ before the worker can, without a janitor.reason",
                s.max_attempts
            ),
            fix,
        ),
        None => Check::fail(
            "max_receive_count",
            url,
            format!("the RedrivePolicy has no readable maxReceiveCount: {raw}"),
            fix,
        ),
    });
    Some(r)
}

fn visibility(url: &str, m: &QueueSettings, s: &Settings) -> Check {
    let worker = format!(
        "the worker sets JANITOR_VISIBILITY_TIMEOUT={} on every receive and extends it while working",
        human(s.visibility)
    );
    match m.visibility_timeout {
        Some(d) if d.is_zero() => Check::warn(
            "visibility_timeout",
            url,
            format!(
                "the queue's default visibility timeout is 0s ({worker}): any other consumer that \
                 does not set its own, such as the console, makes messages visible again at once \
                 and burns a receive of maxReceiveCount each time"
            ),
            "set the queue's VisibilityTimeout to at least 30s (Terraform visibility_timeout_seconds, default 60)",
        ),
        Some(d) => Check::ok(
            "visibility_timeout",
            url,
            format!("queue default {}; {worker}", human(d)),
        ),
        None => Check::ok("visibility_timeout", url, format!("not reported; {worker}")),
    }
}

fn message_size(url: &str, main: Option<&QueueSettings>, dlq: Option<&QueueSettings>) -> Check {
    let Some(size) = main.and_then(|m| m.maximum_message_size) else {
        return Check::skip("message_size", url, "main queue settings unavailable");
    };
    if let Some(d) = dlq.and_then(|d| d.maximum_message_size) {
        if d < size {
            return Check::warn(
                "message_size",
                url,
                format!(
                    "the DLQ's MaximumMessageSize ({d} B) is below the main queue's ({size} B): \
                     a large message cannot be dead-lettered (the body is forwarded unchanged)"
                ),
                format!("set the DLQ's MaximumMessageSize to {WANTED_MESSAGE_SIZE} (1 MiB)"),
            );
        }
    }
    if size >= WANTED_MESSAGE_SIZE {
        Check::ok(
            "message_size",
            url,
            format!("MaximumMessageSize {size} B: room for 1000-image messages"),
        )
    } else {
        Check::warn(
            "message_size",
            url,
            format!(
                "MaximumMessageSize {size} B is below 1 MiB: a page with up to 1000 images \
                 (keys up to 1024 bytes) may not fit in one page.created message"
            ),
            format!(
                "set MaximumMessageSize to {WANTED_MESSAGE_SIZE} on the main queue and the DLQ"
            ),
        )
    }
}

fn encryption(url: &str, which: &str, q: &QueueSettings) -> Check {
    match (&q.kms_key_id, q.sqs_managed_sse) {
        (Some(key), _) => Check::ok(
            "encryption",
            url,
            format!(
                "{which}: SSE-KMS with {key}; the role needs kms:Decrypt and kms:GenerateDataKey \
                 on it, which no request here can prove without a message"
            ),
        ),
        (None, Some(true)) => Check::ok("encryption", url, format!("{which}: SSE-SQS")),
        (None, _) => Check::warn(
            "encryption",
            url,
            format!("{which}: not encrypted at rest (S3 URLs are stored in clear)"),
            "enable SqsManagedSseEnabled or a KMS key (the Terraform module does)",
        ),
    }
}

/// The `dlq` check: JANITOR_DLQ_URL, else the RedrivePolicy's target; reachable and not the main
/// queue. Returns the queue and its settings when reachable.
async fn dlq(
    target: &Target,
    s: &Settings,
    main: Option<&QueueSettings>,
    redrive_arn: Option<&str>,
    out: &mut Vec<Check>,
) -> (Option<Arc<dyn Queue>>, Option<QueueSettings>) {
    let main_url = target.main.url().to_owned();
    let fix_access = "grant the role sqs:GetQueueAttributes, sqs:GetQueueUrl and sqs:SendMessage \
                      on the DLQ (the Terraform module's DeadLetter statement)";
    let url = match (&s.configured_dlq, redrive_arn) {
        (Some(url), _) => url.clone(),
        (None, Some(arn)) => match target.main.url_of(arn).await {
            Ok(url) => url,
            Err(e) => {
                out.push(Check::fail(
                    "dlq",
                    arn,
                    format!("cannot resolve the RedrivePolicy's target: {e}"),
                    fix_access,
                ));
                return (None, None);
            }
        },
        (None, None) => {
            out.push(Check::skip(
                "dlq",
                "",
                "no dead-letter queue configured or named by a RedrivePolicy",
            ));
            return (None, None);
        }
    };
    let queue = (target.open)(&url);
    let settings = match queue.settings().await {
        Ok(d) => d,
        Err(e) => {
            out.push(Check::fail(
                "dlq",
                &url,
                format!("GetQueueAttributes failed: {e}"),
                fix_access,
            ));
            return (None, None);
        }
    };
    let same_arn =
        matches!((main.and_then(|m| m.arn.as_ref()), &settings.arn), (Some(a), Some(b)) if a == b);
    if QueueId::same_url(&url, &main_url) || same_arn {
        out.push(Check::fail(
            "dlq",
            &url,
            "the dead-letter queue is the main queue itself",
            "point JANITOR_DLQ_URL (or the RedrivePolicy) at a separate queue",
        ));
        return (None, None);
    }
    let arn = settings.arn.clone().unwrap_or_default();
    out.push(match (redrive_arn, s.configured_dlq.is_some()) {
        (Some(r), true) if !arn.is_empty() && r != arn => Check::warn(
            "dlq",
            &url,
            format!(
                "reachable, but JANITOR_DLQ_URL ({arn}) is not the RedrivePolicy's target ({r}): \
                 dead letters end up in two queues"
            ),
            "unset JANITOR_DLQ_URL, or point the RedrivePolicy at the same queue",
        ),
        _ => Check::ok(
            "dlq",
            &url,
            format!("reachable ({arn}), not the main queue"),
        ),
    });
    (Some(queue), Some(settings))
}

fn retention(url: &str, main: Option<&QueueSettings>, dlq: Option<&QueueSettings>) -> Check {
    let (Some(m), Some(d)) = (
        main.and_then(|m| m.retention),
        dlq.and_then(|d| d.retention),
    ) else {
        return Check::skip(
            "dlq_retention",
            url,
            "needs both queues' MessageRetentionPeriod",
        );
    };
    if d > m {
        Check::ok(
            "dlq_retention",
            url,
            format!(
                "the DLQ keeps messages {} > the main queue's {}",
                human(d),
                human(m)
            ),
        )
    } else {
        Check::warn(
            "dlq_retention",
            url,
            format!(
                "the DLQ keeps messages {}, not longer than the main queue's {}: a message SQS \
                 redrives keeps its original enqueue time and can expire from the DLQ almost at once",
                human(d),
                human(m)
            ),
            "set the DLQ's MessageRetentionPeriod above the main queue's (Terraform: 14 days vs 4)",
        )
    }
}
