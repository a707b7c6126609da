//! "Send first, then delete from the DLQ" (CONTRACT.md §5), checked on ONE ordered log of the
//! calls made to both queues, message by message: no DLQ copy is deleted before its replayed
//! copy was sent.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use super::*;
use crate::fakes::FakeQueue;
use crate::queue::{Attribute, Attributes, BatchResult, Depth, QueueSettings};

#[derive(Debug, Clone, PartialEq)]
enum Event {
    /// Received from the DLQ: (receipt, body).
    Received(String, String),
    /// Sent to the main queue (body).
    Sent(String),
    /// Deleted from the DLQ (receipt).
    Deleted(String),
}

type Log = Arc<Mutex<Vec<Event>>>;

/// A fake queue whose receives, sends and deletes are appended to a log shared by both queues.
struct Logged {
    inner: FakeQueue,
    log: Log,
}

impl Logged {
    fn push(&self, e: Event) {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).push(e);
    }
}

#[async_trait]
impl Queue for Logged {
    fn url(&self) -> &str {
        self.inner.url()
    }
    async fn receive(
        &self,
        max: u8,
        wait: Duration,
        visibility: Duration,
    ) -> Result<Vec<Received>, AwsError> {
        let got = self.inner.receive(max, wait, visibility).await?;
        for m in &got {
            self.push(Event::Received(m.receipt.0.clone(), m.body.clone()));
        }
        Ok(got)
    }
    async fn delete_batch(&self, receipts: &[Receipt]) -> Result<BatchResult<()>, AwsError> {
        let out = self.inner.delete_batch(receipts).await?;
        for (r, result) in receipts.iter().zip(&out) {
            if result.is_ok() {
                self.push(Event::Deleted(r.0.clone()));
            }
        }
        Ok(out)
    }
    async fn change_visibility_batch(
        &self,
        receipts: &[Receipt],
        timeout: Duration,
    ) -> Result<BatchResult<()>, AwsError> {
        self.inner.change_visibility_batch(receipts, timeout).await
    }
    async fn send_batch(&self, messages: &[Outgoing]) -> Result<BatchResult<String>, AwsError> {
        // Logged when the call is made: a delete that overtakes an unfinished send is caught.
        for m in messages {
            self.push(Event::Sent(m.body.clone()));
        }
        self.inner.send_batch(messages).await
    }
    async fn depth(&self) -> Result<Depth, AwsError> {
        self.inner.depth().await
    }
    async fn settings(&self) -> Result<QueueSettings, AwsError> {
        self.inner.settings().await
    }
    async fn url_of(&self, arn: &str) -> Result<String, AwsError> {
        self.inner.url_of(arn).await
    }
}

fn reason(r: &str) -> Attributes {
    [("janitor.reason", r), ("janitor.detail", "why")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), Attribute::string(v)))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn each_message_is_sent_before_its_dlq_copy_is_deleted() {
    let log: Log = Arc::default();
    let dlq = Logged {
        inner: FakeQueue::new("dlq"),
        log: log.clone(),
    };
    let main = Logged {
        inner: FakeQueue::new("main"),
        log: log.clone(),
    };
    let bodies: Vec<String> = (0..13).map(|i| format!("body-{i}")).collect();
    for b in &bodies {
        dlq.inner.push(b, reason("retries_exhausted"));
    }
    let opts = ReplayOptions {
        max: None,
        reasons: Vec::new(),
        rate: None,
        dry_run: false,
        idle: Duration::from_secs(2),
        hold: Duration::from_secs(30),
    };
    let report = replay(&dlq, &main, &opts, &Quiet).await;
    let log = log.lock().unwrap_or_else(|e| e.into_inner()).clone();
    for body in &bodies {
        let receipt = log
            .iter()
            .find_map(|e| match e {
                Event::Received(r, b) if b == body => Some(r.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{body} never received: {log:?}"));
        let sent = log.iter().position(|e| *e == Event::Sent(body.clone()));
        let deleted = log
            .iter()
            .position(|e| *e == Event::Deleted(receipt.clone()));
        match (sent, deleted) {
            (Some(s), Some(d)) => assert!(s < d, "{body}: deleted at {d}, sent at {s}: {log:?}"),
            other => panic!("{body}: (sent, deleted) = {other:?}: {log:?}"),
        }
    }
    assert_eq!(report.replayed, 13, "{report:?}");
}
