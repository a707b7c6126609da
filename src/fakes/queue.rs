//! `FakeQueue`: an in-memory SQS with visibility, receive counts, batch calls and injected failures.
//!
//! It refuses what SQS refuses ([`super::sqs_rules`]), so a unit test cannot pass on a request
//! the service would reject. Receipts behave as SQS's do: each receive issues a new one; a
//! visibility change needs the current receipt of a message still in flight; a delete with a
//! stale receipt (the message was received again since) is accepted and deletes nothing, and a
//! delete of an already deleted message is accepted. Empty batches return at once, unrecorded,
//! as the adapter makes no request for them.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use tokio::time::Instant;

use super::{permanent, sqs_rules};
use crate::aws_error::AwsError;
use crate::queue::{
    Attributes, BatchResult, Depth, Outgoing, Queue, QueueSettings, Receipt, Received,
};

/// One call the fake saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueCall {
    Receive {
        got: usize,
    },
    DeleteBatch {
        receipts: Vec<Receipt>,
    },
    ChangeVisibility {
        receipts: Vec<Receipt>,
        timeout: Duration,
    },
    SendBatch {
        bodies: Vec<String>,
    },
    Depth,
    Settings,
}

#[derive(Debug, Clone)]
pub struct StoredMessage {
    pub id: String,
    pub body: String,
    pub attributes: Attributes,
    pub receive_count: u32,
    pub visible_at: Instant,
    pub receipt: Option<Receipt>,
    /// When it was sent (`SentTimestamp`): the same on every receive.
    pub sent_at: SystemTime,
}

#[derive(Default)]
struct State {
    /// The next DeleteMessageBatch panics (a bug in a request, for the supervisor's tests).
    panic_delete: bool,
    messages: Vec<StoredMessage>,
    calls: Vec<QueueCall>,
    next_id: u64,
    /// Ids of messages deleted: a later delete with one of their receipts is accepted.
    deleted: HashSet<String>,
    fail_receive: VecDeque<AwsError>,
    fail_delete: VecDeque<AwsError>,
    fail_send: VecDeque<AwsError>,
    /// Receipts whose DeleteMessageBatch entry fails (once each).
    fail_delete_entry: HashSet<Receipt>,
    /// Bodies whose SendMessageBatch entry fails (once each).
    fail_send_body: HashSet<String>,
    /// Message ids whose next DeleteMessageBatch entry fails, whatever the receipt (once each).
    fail_delete_id: HashSet<String>,
    /// What GetQueueAttributes reports; `None` = [`FakeQueue::default_settings`].
    settings: Option<QueueSettings>,
    /// Every call fails with this permanent error code (an IAM deny), until cleared.
    denied: Option<String>,
    /// Every SendMessageBatch takes this long (a slow DLQ).
    send_delay: Duration,
    /// Round-trip time of every ReceiveMessage (before it looks at the queue).
    receive_delay: Duration,
    /// Round-trip time of every DeleteMessageBatch (before it deletes).
    delete_delay: Duration,
}

#[derive(Clone, Default)]
pub struct FakeQueue {
    url: String,
    state: Arc<Mutex<State>>,
}

impl FakeQueue {
    /// Every receive takes this long (virtual time) before it looks at the queue, like a round
    /// trip; without it a receive of available messages never yields.
    pub fn set_receive_delay(&self, d: Duration) {
        self.lock().receive_delay = d;
    }

    pub fn new(url: &str) -> Self {
        FakeQueue {
            url: url.into(),
            state: Arc::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Enqueue a message; returns its id.
    pub fn push(&self, body: &str, attributes: Attributes) -> String {
        let mut s = self.lock();
        s.next_id += 1;
        let id = format!("m-{}", s.next_id);
        s.messages.push(StoredMessage {
            id: id.clone(),
            body: body.into(),
            attributes,
            receive_count: 0,
            visible_at: Instant::now(),
            receipt: None,
            sent_at: SystemTime::now(),
        });
        id
    }

    /// Make every DeleteMessageBatch take `d` (virtual time) before it deletes, like a round trip.
    pub fn set_delete_delay(&self, d: Duration) {
        self.lock().delete_delay = d;
    }

    /// Make every send take `d` (virtual time).
    pub fn set_send_delay(&self, d: Duration) {
        self.lock().send_delay = d;
    }

    /// Set a message's receive count (to simulate earlier receives).
    pub fn set_receive_count(&self, id: &str, n: u32) {
        if let Some(m) = self.lock().messages.iter_mut().find(|m| m.id == id) {
            m.receive_count = n;
        }
    }

    pub fn messages(&self) -> Vec<StoredMessage> {
        self.lock().messages.clone()
    }

    pub fn len(&self) -> usize {
        self.lock().messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn calls(&self) -> Vec<QueueCall> {
        self.lock().calls.clone()
    }

    /// How many receipts each DeleteMessageBatch call named, in order.
    pub fn delete_batch_sizes(&self) -> Vec<usize> {
        self.lock()
            .calls
            .iter()
            .filter_map(|c| match c {
                QueueCall::DeleteBatch { receipts } => Some(receipts.len()),
                _ => None,
            })
            .collect()
    }

    pub fn fail_next_receive(&self, e: AwsError) {
        self.lock().fail_receive.push_back(e);
    }

    pub fn fail_next_delete(&self, e: AwsError) {
        self.lock().fail_delete.push_back(e);
    }

    /// The next DeleteMessageBatch call panics instead of answering.
    pub fn panic_next_delete(&self) {
        self.lock().panic_delete = true;
    }

    pub fn fail_next_send(&self, e: AwsError) {
        self.lock().fail_send.push_back(e);
    }

    /// The next DeleteMessageBatch entry for the message with this id fails.
    pub fn fail_delete_entry_of(&self, id: &str) {
        let mut s = self.lock();
        if let Some(r) = s
            .messages
            .iter()
            .find(|m| m.id == id)
            .and_then(|m| m.receipt.clone())
        {
            s.fail_delete_entry.insert(r);
        }
    }

    /// The next DeleteMessageBatch entry for this message id fails, even if it has not been
    /// received yet (for code that receives and deletes in one call).
    pub fn fail_delete_of_id(&self, id: &str) {
        self.lock().fail_delete_id.insert(id.into());
    }

    /// The ARN of the fake queue with this URL: `arn:aws:sqs:us-east-1:000000000000:NAME` for a
    /// URL ending in `/NAME`. [`Queue::url_of`] maps it back to `fake://queue/NAME`.
    pub fn arn_of(url: &str) -> String {
        let name = url.rsplit('/').next().unwrap_or_default();
        format!("arn:aws:sqs:us-east-1:000000000000:{name}")
    }

    /// What a fresh queue reports: SQS's defaults (visibility 30 s, 256 KiB, 4 days, SSE-SQS).
    pub fn default_settings(url: &str) -> QueueSettings {
        QueueSettings {
            arn: Some(Self::arn_of(url)),
            redrive_policy: None,
            visibility_timeout: Some(Duration::from_secs(30)),
            maximum_message_size: Some(262_144),
            retention: Some(Duration::from_secs(345_600)),
            kms_key_id: None,
            sqs_managed_sse: Some(true),
        }
    }

    /// Make GetQueueAttributes report these settings.
    pub fn set_settings(&self, settings: QueueSettings) {
        self.lock().settings = Some(settings);
    }

    /// Refuse every call from now on with this permanent error code (e.g. `AccessDenied`).
    pub fn deny(&self, code: &str) {
        self.lock().denied = Some(code.into());
    }

    /// The queue's `MaximumMessageSize`, as GetQueueAttributes reports it.
    fn max_message_size(s: &State, url: &str) -> usize {
        s.settings
            .clone()
            .unwrap_or_else(|| Self::default_settings(url))
            .maximum_message_size
            .map_or(crate::queue::MAX_BATCH_BYTES, |n| {
                usize::try_from(n).unwrap_or(usize::MAX)
            })
    }

    fn check_denied(&self, operation: &'static str) -> Result<(), AwsError> {
        match &self.lock().denied {
            Some(code) => Err(permanent("sqs", operation, code)),
            None => Ok(()),
        }
    }

    /// The next SendMessageBatch entry with this body fails.
    pub fn fail_send_of_body(&self, body: &str) {
        self.lock().fail_send_body.insert(body.into());
    }
}

#[async_trait]
impl Queue for FakeQueue {
    fn url(&self) -> &str {
        &self.url
    }

    async fn receive(
        &self,
        max: u8,
        wait: Duration,
        visibility: Duration,
    ) -> Result<Vec<Received>, AwsError> {
        self.check_denied("ReceiveMessage")?;
        sqs_rules::check_receive(max, wait, visibility)?;
        let delay = self.lock().receive_delay;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let deadline = Instant::now() + wait;
        loop {
            {
                let mut s = self.lock();
                if let Some(e) = s.fail_receive.pop_front() {
                    return Err(e);
                }
                let now = Instant::now();
                let mut out = Vec::new();
                for m in s.messages.iter_mut() {
                    if out.len() >= usize::from(max) {
                        break;
                    }
                    if m.visible_at <= now {
                        m.receive_count += 1;
                        m.visible_at = now + visibility;
                        let receipt = Receipt(format!("{}#{}", m.id, m.receive_count));
                        m.receipt = Some(receipt.clone());
                        out.push(Received {
                            message_id: m.id.clone(),
                            receipt,
                            body: m.body.clone(),
                            attributes: m.attributes.clone(),
                            receive_count: m.receive_count,
                            sent_at: Some(m.sent_at),
                        });
                    }
                }
                if !out.is_empty() || Instant::now() >= deadline {
                    s.calls.push(QueueCall::Receive { got: out.len() });
                    return Ok(out);
                }
            }
            tokio::time::sleep(Duration::from_millis(100).min(wait)).await;
        }
    }

    async fn delete_batch(&self, receipts: &[Receipt]) -> Result<BatchResult<()>, AwsError> {
        const OP: &str = "DeleteMessageBatch";
        if receipts.is_empty() {
            return Ok(Vec::new());
        }
        let delay = self.lock().delete_delay;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        self.check_denied(OP)?;
        let mut s = self.lock();
        s.calls.push(QueueCall::DeleteBatch {
            receipts: receipts.to_vec(),
        });
        if std::mem::take(&mut s.panic_delete) {
            drop(s);
            panic!("injected panic in DeleteMessageBatch");
        }
        if let Some(e) = s.fail_delete.pop_front() {
            return Err(e);
        }
        sqs_rules::check_entries(OP, receipts.len())?;
        sqs_rules::check_distinct_receipts(OP, receipts)?;
        let mut out = Vec::new();
        for r in receipts {
            if s.fail_delete_entry.remove(r) {
                out.push(Err(permanent("sqs", OP, "InternalError")));
                continue;
            }
            out.push(s.delete_one(r));
        }
        Ok(out)
    }

    async fn change_visibility_batch(
        &self,
        receipts: &[Receipt],
        timeout: Duration,
    ) -> Result<BatchResult<()>, AwsError> {
        const OP: &str = "ChangeMessageVisibilityBatch";
        if receipts.is_empty() {
            return Ok(Vec::new());
        }
        let delay = self.lock().delete_delay;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        self.check_denied(OP)?;
        let mut s = self.lock();
        s.calls.push(QueueCall::ChangeVisibility {
            receipts: receipts.to_vec(),
            timeout,
        });
        sqs_rules::check_entries(OP, receipts.len())?;
        sqs_rules::check_visibility(OP, timeout)?;
        let now = Instant::now();
        let mut out = Vec::new();
        for r in receipts {
            let current = s
                .messages
                .iter_mut()
                .find(|m| m.receipt.as_ref() == Some(r));
            out.push(match current {
                // In flight: the visibility of the current receive has not run out.
                Some(m) if m.visible_at > now => {
                    m.visible_at = now + timeout;
                    Ok(())
                }
                // SQS: "Message does not exist or is not available for visibility timeout
                // change" — expired, received again (stale receipt) or deleted.
                Some(_) => Err(not_available(r)),
                None if parse_receipt(r).is_some() => Err(not_available(r)),
                None => Err(permanent("sqs", OP, "ReceiptHandleIsInvalid")),
            });
        }
        Ok(out)
    }

    async fn send_batch(&self, messages: &[Outgoing]) -> Result<BatchResult<String>, AwsError> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        self.check_denied("SendMessageBatch")?;
        let delay = self.lock().send_delay;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        {
            let mut s = self.lock();
            s.calls.push(QueueCall::SendBatch {
                bodies: messages.iter().map(|m| m.body.clone()).collect(),
            });
            if let Some(e) = s.fail_send.pop_front() {
                return Err(e);
            }
            sqs_rules::check_send(messages, Self::max_message_size(&s, &self.url))?;
        }
        let mut out = Vec::new();
        for m in messages {
            if self.lock().fail_send_body.remove(&m.body) {
                out.push(Err(super::transient(
                    "sqs",
                    "SendMessageBatch",
                    "InternalError",
                )));
                continue;
            }
            out.push(Ok(self.push(&m.body, m.attributes.clone())));
        }
        Ok(out)
    }

    async fn depth(&self) -> Result<Depth, AwsError> {
        self.check_denied("GetQueueAttributes")?;
        let mut s = self.lock();
        s.calls.push(QueueCall::Depth);
        let now = Instant::now();
        let visible = s.messages.iter().filter(|m| m.visible_at <= now).count() as u64;
        Ok(Depth {
            visible,
            inflight: s.messages.len() as u64 - visible,
            delayed: 0,
        })
    }

    async fn settings(&self) -> Result<QueueSettings, AwsError> {
        self.check_denied("GetQueueAttributes")?;
        let mut s = self.lock();
        s.calls.push(QueueCall::Settings);
        Ok(s.settings
            .clone()
            .unwrap_or_else(|| Self::default_settings(&self.url)))
    }

    async fn url_of(&self, arn: &str) -> Result<String, AwsError> {
        match arn.strip_prefix("arn:aws:sqs:us-east-1:000000000000:") {
            Some(name) if !name.is_empty() => Ok(format!("fake://queue/{name}")),
            _ => Err(permanent(
                "sqs",
                "GetQueueUrl",
                "AWS.SimpleQueueService.NonExistentQueue",
            )),
        }
    }
}

/// `m-7#3` → (`m-7`, 3): the message id and which receive issued it.
fn parse_receipt(r: &Receipt) -> Option<(&str, u32)> {
    let (id, n) = r.0.rsplit_once('#')?;
    Some((id, n.parse().ok().filter(|n| *n > 0)?))
}

fn not_available(r: &Receipt) -> AwsError {
    AwsError {
        message: format!(
            "Value {} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.",
            r.0
        ),
        ..permanent("sqs", "ChangeMessageVisibilityBatch", "InvalidParameterValue")
    }
}

impl State {
    /// One DeleteMessageBatch entry, as SQS answers it.
    fn delete_one(&mut self, r: &Receipt) -> Result<(), AwsError> {
        const OP: &str = "DeleteMessageBatch";
        let Some((id, n)) = parse_receipt(r) else {
            return Err(permanent("sqs", OP, "ReceiptHandleIsInvalid"));
        };
        let Some(i) = self.messages.iter().position(|m| m.id == id) else {
            // Already deleted: accepted. Never existed: refused.
            return if self.deleted.contains(id) {
                Ok(())
            } else {
                Err(permanent("sqs", OP, "ReceiptHandleIsInvalid"))
            };
        };
        let m = &self.messages[i];
        if m.receipt.as_ref() != Some(r) {
            // A receipt from an earlier receive: accepted, but the message stays (SQS deletes
            // only with the most recent receipt). A receipt no receive issued is invalid.
            return if n < m.receive_count {
                Ok(())
            } else {
                Err(permanent("sqs", OP, "ReceiptHandleIsInvalid"))
            };
        }
        if self.fail_delete_id.remove(id) {
            return Err(permanent("sqs", OP, "InternalError"));
        }
        let id = self.messages.remove(i).id;
        self.deleted.insert(id);
        Ok(())
    }
}
