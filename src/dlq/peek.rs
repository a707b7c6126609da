//! `dlq peek`: the approximate depth, then up to N distinct messages, all left in place.

use std::io::Write;
use std::time::Duration;

use super::render;
use super::scan::{RestoreFailure, Scanner};
use super::{DlqError, DlqMessage};
use crate::queue::{Depth, Queue};
use crate::telemetry::events::PeekRestoreFailed;

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
        PeekRestoreFailed {
            message_id: &f.message_id,
            error: &f.error,
        }
        .emit();
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

/// Print a report. With `json`, stdout carries one message object per line and nothing else
/// (so `dlq peek --json | jq -r .reason | sort | uniq -c` counts reasons) and the depth summary
/// goes to `err`; otherwise the depth line and the table go to `out`.
pub fn write_report(
    report: &PeekReport,
    json: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<()> {
    if json {
        writeln!(err, "{}", render::depth_line(&report.depth))?;
        for m in &report.messages {
            writeln!(out, "{}", render::message_json(m))?;
        }
    } else {
        writeln!(out, "{}", render::depth_line(&report.depth))?;
        if report.messages.is_empty() {
            writeln!(out, "no messages received")?;
        } else {
            writeln!(out, "{}", render::table(&report.messages))?;
        }
    }
    out.flush()
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

    #[tokio::test(start_paused = true)]
    async fn json_stdout_holds_only_message_objects_one_per_line() {
        let dlq = FakeQueue::new("dlq");
        dlq.push("{not json", attrs("invalid_json"));
        dlq.push("line one\nline two", attrs("delete_rejected"));
        dlq.push(r#"{"type":"page.created"}"#, attrs("invalid_message"));
        let report = peek(&dlq, &PeekOptions::new(10)).await.expect("peek");
        let (mut out, mut err) = (Vec::new(), Vec::new());
        write_report(&report, true, &mut out, &mut err).expect("write");
        let out = String::from_utf8(out).expect("utf-8");
        let lines: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect();
        assert_eq!(lines.len(), 3, "stdout: {out}");
        let mut reasons: Vec<&str> = lines
            .iter()
            .map(|m| {
                assert_eq!(m["kind"], "message", "{m}");
                assert!(m["message_id"].as_str().is_some_and(|id| !id.is_empty()));
                m["reason"].as_str().expect("reason")
            })
            .collect();
        reasons.sort_unstable();
        assert_eq!(
            reasons,
            ["delete_rejected", "invalid_json", "invalid_message"]
        );
        let err = String::from_utf8(err).expect("utf-8");
        assert!(
            err.contains("approximate depth: 3 visible"),
            "stderr: {err}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn json_with_an_empty_queue_prints_nothing_on_stdout() {
        let dlq = FakeQueue::new("dlq");
        let report = peek(&dlq, &PeekOptions::new(10)).await.expect("peek");
        let (mut out, mut err) = (Vec::new(), Vec::new());
        write_report(&report, true, &mut out, &mut err).expect("write");
        assert!(out.is_empty());
        assert!(String::from_utf8_lossy(&err).contains("0 visible"));
        let (mut out, mut err) = (Vec::new(), Vec::new());
        write_report(&report, false, &mut out, &mut err).expect("write");
        assert!(String::from_utf8_lossy(&out).contains("no messages received"));
        assert!(err.is_empty());
    }
}
