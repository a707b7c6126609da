//! `dlq peek`: the approximate depth, then up to N distinct messages, all left in place.

use std::time::Duration;

use super::scan::{RestoreFailure, Scanner};
use super::{DlqError, DlqMessage};
use crate::queue::{Depth, Queue};

/// How a peek reads the queue.
#[derive(Debug, Clone)]
pub struct PeekOptions {
    /// At most this many distinct messages.
    pub max: usize,
    /// Messages are hidden this long at most (a crash mid-peek), normally until the peek ends.
    pub hold: Duration,
    /// Stop when a receive waiting this long returns nothing new.
    pub idle: Duration,
}

impl PeekOptions {
    pub fn new(max: usize) -> Self {
        PeekOptions {
            max,
            hold: Duration::from_secs(30),
            idle: Duration::from_secs(1),
        }
    }
}

/// What a peek saw.
#[derive(Debug, Clone)]
pub struct PeekReport {
    pub depth: Depth,
    pub messages: Vec<DlqMessage>,
    /// Messages that could not be made visible at once (they reappear when the hold expires).
    pub restore_failures: Vec<RestoreFailure>,
}

/// Read the depth, then receive until `max` distinct messages were seen or nothing new comes;
/// every message received is made visible again before returning (also on error).
pub async fn peek(dlq: &dyn Queue, opts: &PeekOptions) -> Result<PeekReport, DlqError> {
    let depth = dlq.depth().await.map_err(DlqError::Depth)?;
    let mut scanner = Scanner::new(dlq, opts.hold, opts.idle);
    let mut messages = Vec::new();
    let mut failed = None;
    while messages.len() < opts.max {
        match scanner.next_new(opts.max - messages.len()).await {
            Ok(Some(batch)) => messages.extend(batch.iter().map(DlqMessage::from_received)),
            Ok(None) => break,
            Err(e) => {
                failed = Some(DlqError::Receive(e));
                break;
            }
        }
    }
    let restore_failures = scanner.restore().await;
    for f in &restore_failures {
        tracing::warn!(message_id = %f.message_id, error = %f.error, "could not make a peeked message visible again; it reappears when its visibility timeout ends");
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(PeekReport {
            depth,
            messages,
            restore_failures,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::{FakeQueue, QueueCall};
    use crate::queue::{Attribute, Attributes};

    fn attrs(reason: &str) -> Attributes {
        [
            ("janitor.reason", reason),
            ("janitor.detail", "why"),
            ("janitor.attempts", "2"),
            ("janitor.failed_at", "2026-11-26T03:00:00Z"),
            ("trace", "t-1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), Attribute::string(v)))
        .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn peek_leaves_depth_unchanged_and_sees_distinct_messages() {
        let dlq = FakeQueue::new("dlq");
        for i in 0..25 {
            dlq.push(&format!("body-{i}"), attrs("invalid_json"));
        }
        let before = dlq.depth().await.expect("depth");
        let report = peek(&dlq, &PeekOptions::new(20)).await.expect("peek");
        assert_eq!(report.depth.visible, 25);
        assert_eq!(report.messages.len(), 20);
        let mut ids: Vec<&str> = report
            .messages
            .iter()
            .map(|m| m.message_id.as_str())
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 20);
        assert_eq!(dlq.depth().await.expect("depth"), before);
        assert_eq!(dlq.len(), 25);
        // Everything received was made visible again with timeout 0.
        let restored: usize = dlq
            .calls()
            .iter()
            .filter_map(|c| match c {
                QueueCall::ChangeVisibility { receipts, timeout } if timeout.is_zero() => {
                    Some(receipts.len())
                }
                _ => None,
            })
            .sum();
        assert_eq!(restored, 20);
        assert!(!dlq
            .calls()
            .iter()
            .any(|c| matches!(c, QueueCall::DeleteBatch { .. })));
    }

    #[tokio::test(start_paused = true)]
    async fn peek_stops_when_the_queue_is_exhausted() {
        let dlq = FakeQueue::new("dlq");
        for i in 0..3 {
            dlq.push(&format!("b{i}"), attrs("delete_rejected"));
        }
        let report = peek(&dlq, &PeekOptions::new(10)).await.expect("peek");
        assert_eq!(report.messages.len(), 3);
        assert_eq!(
            report.messages[0].reason.as_deref(),
            Some("delete_rejected")
        );
        assert_eq!(dlq.depth().await.expect("depth").visible, 3);
    }
}
