//! Unit tests of `replay` against the in-memory fakes, with paused time.

use std::time::Duration;

use tokio::time::Instant;

use super::*;
use crate::fakes::{FakeQueue, QueueCall};
use crate::queue::{Attribute, Attributes};
use crate::reason::Reason;

fn attrs(reason: &str) -> Attributes {
    let mut a: Attributes = [
        ("janitor.reason", reason),
        ("janitor.detail", "why"),
        ("janitor.attempts", "2"),
        ("janitor.failed_at", "2026-11-26T03:00:00Z"),
        ("trace", "t-1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), Attribute::string(v)))
    .collect();
    a.insert(
        "blob".into(),
        Attribute {
            data_type: "Binary".into(),
            string_value: None,
            binary_value: Some(vec![0, 1, 2]),
        },
    );
    a
}

fn opts() -> ReplayOptions {
    ReplayOptions {
        max: None,
        reasons: Vec::new(),
        rate: None,
        dry_run: false,
        idle: Duration::from_secs(2),
        hold: Duration::from_secs(30),
    }
}

fn bodies(q: &FakeQueue) -> Vec<String> {
    let mut b: Vec<String> = q.messages().into_iter().map(|m| m.body).collect();
    b.sort();
    b
}

/// Every message in the queue is visible (nothing left hidden by the replay).
fn all_visible(q: &FakeQueue) -> bool {
    let now = Instant::now();
    q.messages().iter().all(|m| m.visible_at <= now)
}

#[tokio::test(start_paused = true)]
async fn moves_bodies_byte_identical_and_drops_janitor_attributes() {
    let (dlq, main) = (FakeQueue::new("dlq"), FakeQueue::new("main"));
    let odd = "  {\"type\":\"page.created\", \"version\":1,\n\"images\":[]}\t é ";
    dlq.push(odd, attrs("retries_exhausted"));
    dlq.push("not json at all", attrs("invalid_json"));
    let report = replay(&dlq, &main, &opts(), &Quiet).await;
    assert!(report.aborted.is_none(), "{:?}", report.aborted);
    assert_eq!(report.replayed, 2);
    assert_eq!(report.skipped, 0);
    assert!(dlq.is_empty());
    assert_eq!(
        bodies(&main),
        vec![odd.to_string(), "not json at all".to_string()]
    );
    for m in main.messages() {
        assert!(m.attributes.keys().all(|k| !k.starts_with("janitor.")));
        assert_eq!(m.attributes["trace"], Attribute::string("t-1"));
        assert_eq!(m.attributes["blob"].binary_value, Some(vec![0, 1, 2]));
        assert_eq!(m.attributes.len(), 2);
    }
    // Sent before deleted: replay_order_tests.rs, on one ordered log of both queues.
}

#[tokio::test(start_paused = true)]
async fn delete_failure_after_send_keeps_the_message_in_the_dlq_and_reports_it() {
    let (dlq, main) = (FakeQueue::new("dlq"), FakeQueue::new("main"));
    let keep = dlq.push("b-keep", attrs("delete_rejected"));
    dlq.push("b-1", attrs("delete_rejected"));
    dlq.push("b-2", attrs("delete_rejected"));
    dlq.fail_delete_of_id(&keep);
    let report = replay(&dlq, &main, &opts(), &Quiet).await;
    assert!(report.aborted.is_none());
    assert_eq!(report.replayed, 2);
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].message_id, keep);
    assert_eq!(report.failures[0].stage, Stage::Delete);
    // Still in the DLQ, visible again; and (a duplicate) in the main queue.
    assert_eq!(bodies(&dlq), ["b-keep"]);
    assert!(all_visible(&dlq));
    assert_eq!(bodies(&main), ["b-1", "b-2", "b-keep"]);
}

#[tokio::test(start_paused = true)]
async fn send_failure_of_one_entry_means_that_one_is_not_deleted() {
    let (dlq, main) = (FakeQueue::new("dlq"), FakeQueue::new("main"));
    let bad = dlq.push("b-bad", attrs("invalid_url"));
    dlq.push("b-ok", attrs("invalid_url"));
    main.fail_send_of_body("b-bad");
    let report = replay(&dlq, &main, &opts(), &Quiet).await;
    assert_eq!(report.replayed, 1);
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].message_id, bad);
    assert_eq!(report.failures[0].stage, Stage::Send);
    assert_eq!(bodies(&dlq), ["b-bad"]);
    assert!(all_visible(&dlq));
    assert_eq!(bodies(&main), ["b-ok"]);
    // The failed entry's receipt was never in a DeleteMessageBatch.
    let deleted: Vec<String> = dlq
        .calls()
        .into_iter()
        .filter_map(|c| match c {
            QueueCall::DeleteBatch { receipts } => Some(receipts),
            _ => None,
        })
        .flatten()
        .map(|r| r.0)
        .collect();
    assert!(
        deleted.iter().all(|r| !r.starts_with(&format!("{bad}#"))),
        "{deleted:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failing_target_aborts_and_loses_nothing() {
    let (dlq, main) = (FakeQueue::new("dlq"), FakeQueue::new("main"));
    dlq.push("b-1", attrs("invalid_url"));
    for _ in 0..5 {
        main.fail_next_send(crate::fakes::permanent(
            "sqs",
            "SendMessageBatch",
            "AccessDenied",
        ));
    }
    let report = replay(&dlq, &main, &opts(), &Quiet).await;
    assert!(matches!(report.aborted, Some(DlqError::Send(_))));
    assert_eq!(report.replayed, 0);
    assert_eq!(bodies(&dlq), ["b-1"]);
    assert!(all_visible(&dlq));
}

#[tokio::test(start_paused = true)]
async fn reason_filter_moves_only_matching_and_counts_each_skip_once() {
    let (dlq, main) = (FakeQueue::new("dlq"), FakeQueue::new("main"));
    for i in 0..12 {
        dlq.push(&format!("skip-{i}"), attrs("invalid_json"));
    }
    dlq.push("no-attrs", Attributes::new());
    for i in 0..4 {
        dlq.push(&format!("move-{i}"), attrs("delete_rejected"));
    }
    // Slow enough that held skipped messages reappear (hold 2 s) and are re-received.
    let o = ReplayOptions {
        reasons: vec![Reason::DeleteRejected, Reason::RetriesExhausted],
        rate: Some(1.0),
        hold: Duration::from_secs(2),
        ..opts()
    };
    let report = replay(&dlq, &main, &o, &Quiet).await;
    assert!(report.aborted.is_none());
    assert_eq!(report.replayed, 4);
    assert_eq!(report.skipped, 13);
    assert_eq!(bodies(&main), ["move-0", "move-1", "move-2", "move-3"]);
    assert_eq!(dlq.len(), 13);
    assert!(all_visible(&dlq));
}

#[tokio::test(start_paused = true)]
async fn dry_run_moves_nothing() {
    let (dlq, main) = (FakeQueue::new("dlq"), FakeQueue::new("main"));
    for i in 0..15 {
        dlq.push(
            &format!("b-{i}"),
            attrs(if i % 3 == 0 {
                "invalid_url"
            } else {
                "delete_rejected"
            }),
        );
    }
    let o = ReplayOptions {
        dry_run: true,
        reasons: vec![Reason::DeleteRejected],
        ..opts()
    };
    let report = replay(&dlq, &main, &o, &Quiet).await;
    assert_eq!(report.would_replay, 10);
    assert_eq!(report.skipped, 5);
    assert_eq!(report.replayed, 0);
    assert!(main.is_empty());
    assert!(main.calls().is_empty());
    assert_eq!(dlq.len(), 15);
    assert!(all_visible(&dlq));
    assert!(!dlq
        .calls()
        .iter()
        .any(|c| matches!(c, QueueCall::DeleteBatch { .. })));
}

#[tokio::test(start_paused = true)]
async fn rate_limit_paces_the_sends() {
    let (dlq, main) = (FakeQueue::new("dlq"), FakeQueue::new("main"));
    for i in 0..50 {
        dlq.push(&format!("b-{i}"), attrs("retries_exhausted"));
    }
    let o = ReplayOptions {
        rate: Some(10.0),
        ..opts()
    };
    let start = Instant::now();
    let report = replay(&dlq, &main, &o, &Quiet).await;
    assert_eq!(report.replayed, 50);
    // 5 batches of 10 at 10/s: the last may start 4 s after the first; then the idle wait.
    let moved_by = main.messages().len();
    assert_eq!(moved_by, 50);
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_secs(4), "{elapsed:?}");
    assert!(
        elapsed <= Duration::from_secs(4) + o.idle + Duration::from_secs(2),
        "{elapsed:?}"
    );
    // And never more than 10 in one SendMessageBatch.
    assert!(main.calls().iter().all(|c| match c {
        QueueCall::SendBatch { bodies } => bodies.len() <= 10,
        _ => true,
    }));
}

#[tokio::test(start_paused = true)]
async fn unlimited_rate_does_not_wait_and_max_stops_early() {
    let (dlq, main) = (FakeQueue::new("dlq"), FakeQueue::new("main"));
    for i in 0..30 {
        dlq.push(&format!("b-{i}"), attrs("retries_exhausted"));
    }
    let o = ReplayOptions {
        max: Some(13),
        ..opts()
    };
    let start = Instant::now();
    let report = replay(&dlq, &main, &o, &Quiet).await;
    assert_eq!(report.replayed, 13);
    assert_eq!(main.len(), 13);
    assert_eq!(dlq.len(), 17);
    assert!(all_visible(&dlq));
    assert!(start.elapsed() < Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn large_messages_are_sent_in_batches_that_fit_one_mib() {
    let (dlq, main) = (FakeQueue::new("dlq"), FakeQueue::new("main"));
    // Ten ~115 KiB bodies (a 1,000-image message each): 1.1 MiB together.
    let big: Vec<String> = (0..10)
        .map(|i| format!("{i}{}", "x".repeat(115 * 1024)))
        .collect();
    for b in &big {
        dlq.push(b, attrs("retries_exhausted"));
    }
    let report = replay(&dlq, &main, &opts(), &Quiet).await;
    assert!(report.aborted.is_none(), "{:?}", report.aborted);
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.replayed, 10);
    assert!(dlq.is_empty());
    let mut want = big.clone();
    want.sort();
    assert_eq!(bodies(&main), want);
    let sizes: Vec<usize> = main
        .calls()
        .iter()
        .filter_map(|c| match c {
            QueueCall::SendBatch { bodies } => Some(bodies.iter().map(String::len).sum()),
            _ => None,
        })
        .collect();
    assert!(sizes.len() >= 2, "{sizes:?}");
    assert!(
        sizes.iter().all(|&s| s <= crate::queue::MAX_BATCH_BYTES),
        "{sizes:?}"
    );
}
