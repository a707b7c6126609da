//! Unit tests of `dlq::peek`.

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
