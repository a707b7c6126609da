//! The `Queue` seam: what the worker and the DLQ tools need from a message queue, in domain types.

pub mod resolve;
pub mod sqs;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use crate::aws_error::AwsError;

/// An opaque receipt handle: proof of one receive, needed to delete or release the message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Receipt(pub String);

/// A message attribute value, kept exactly as received so it can be forwarded unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// `String`, `Number`, `Binary`, or a custom type such as `String.json`.
    pub data_type: String,
    pub string_value: Option<String>,
    pub binary_value: Option<Vec<u8>>,
}

impl Attribute {
    pub fn string(value: impl Into<String>) -> Self {
        Attribute {
            data_type: "String".into(),
            string_value: Some(value.into()),
            binary_value: None,
        }
    }
}

pub type Attributes = BTreeMap<String, Attribute>;

/// One received message.
#[derive(Debug, Clone)]
pub struct Received {
    pub message_id: String,
    pub receipt: Receipt,
    pub body: String,
    pub attributes: Attributes,
    /// `ApproximateReceiveCount`, 1 on the first receive.
    pub receive_count: u32,
    /// `SentTimestamp`, when the producer sent it.
    pub sent_at: Option<SystemTime>,
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub body: String,
    pub attributes: Attributes,
}

/// SQS's limits on one batch call: at most 10 entries, and at most 1 MiB of bodies and
/// attributes together (`BatchRequestTooLong`).
pub const MAX_BATCH_ENTRIES: usize = 10;
pub const MAX_BATCH_BYTES: usize = 1024 * 1024;

/// The bytes SQS counts for a message attribute map: each name, data type and value.
pub fn attributes_size(attrs: &Attributes) -> usize {
    attrs
        .iter()
        .map(|(k, v)| {
            k.len()
                + v.data_type.len()
                + v.string_value.as_ref().map_or(0, String::len)
                + v.binary_value.as_ref().map_or(0, Vec::len)
        })
        .sum()
}

impl Outgoing {
    /// The bytes SQS counts toward its size limits: body plus attributes.
    pub fn size(&self) -> usize {
        self.body.len() + attributes_size(&self.attributes)
    }
}

/// Split `messages` into consecutive runs that each fit one SendMessageBatch (≤ 10 entries,
/// ≤ 1 MiB in all); a message too large to share a batch goes alone.
pub fn size_batches(messages: &[Outgoing]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, m) in messages.iter().enumerate() {
        let size = m.size();
        if i > start && (i - start == MAX_BATCH_ENTRIES || bytes + size > MAX_BATCH_BYTES) {
            out.push(start..i);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < messages.len() {
        out.push(start..messages.len());
    }
    out
}

/// Approximate depth of a queue, as GetQueueAttributes reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Depth {
    pub visible: u64,
    pub inflight: u64,
    pub delayed: u64,
}

/// A queue's RedrivePolicy, parsed: where SQS itself moves a message after `max_receive_count`
/// receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redrive {
    pub target_arn: String,
    pub max_receive_count: Option<u32>,
}

impl Redrive {
    /// `{"deadLetterTargetArn":"arn:aws:sqs:…","maxReceiveCount":N}` (N a number or a string, as
    /// SQS returns either); `None` when there is no target ARN.
    pub fn parse(policy: &str) -> Option<Redrive> {
        let v: serde_json::Value = serde_json::from_str(policy).ok()?;
        let target_arn = v.get("deadLetterTargetArn")?.as_str()?.to_owned();
        let max_receive_count = match v.get("maxReceiveCount") {
            Some(serde_json::Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        Some(Redrive {
            target_arn,
            max_receive_count,
        })
    }
}

/// The configuration of a queue, as GetQueueAttributes reports it (read by `preflight`).
/// A field is `None` when the queue did not report it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueSettings {
    pub arn: Option<String>,
    /// The RedrivePolicy JSON exactly as SQS returned it (see [`Redrive::parse`]).
    pub redrive_policy: Option<String>,
    /// The queue's default visibility timeout (`VisibilityTimeout`).
    pub visibility_timeout: Option<Duration>,
    /// `MaximumMessageSize`, bytes.
    pub maximum_message_size: Option<u64>,
    /// `MessageRetentionPeriod`.
    pub retention: Option<Duration>,
    /// `KmsMasterKeyId`: a customer or AWS managed KMS key (id, ARN or alias).
    pub kms_key_id: Option<String>,
    /// `SqsManagedSseEnabled`.
    pub sqs_managed_sse: Option<bool>,
}

/// A queue's identity, however its URL is spelled: account and name (and region when the
/// host names one). `https://sqs.us-east-1.amazonaws.com/123456789012/q`,
/// `https://queue.amazonaws.com/123456789012/q/` and an emulator's
/// `http://127.0.0.1:4566/123456789012/q` all name queue `q` of account `123456789012`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueId {
    pub account: String,
    pub name: String,
    pub region: Option<String>,
}

impl QueueId {
    /// From a queue URL: the last two path segments; `None` if there are not two.
    pub fn from_url(url: &str) -> Option<QueueId> {
        let parsed = url::Url::parse(url.trim()).ok()?;
        let segments: Vec<&str> = parsed.path_segments()?.filter(|s| !s.is_empty()).collect();
        let [.., account, name] = segments.as_slice() else {
            return None;
        };
        let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
        let region = host
            .strip_prefix("sqs.")
            .and_then(|h| h.split('.').next())
            .or_else(|| host.strip_suffix(".queue.amazonaws.com"))
            .filter(|r| !r.is_empty() && *r != "amazonaws")
            .map(str::to_owned);
        Some(QueueId {
            account: (*account).to_owned(),
            name: (*name).to_owned(),
            region,
        })
    }

    /// Same account and name, and the same region where both URLs say.
    pub fn same_queue(&self, other: &QueueId) -> bool {
        self.account == other.account
            && self.name == other.name
            && match (&self.region, &other.region) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }

    /// Whether two queue URLs name the same queue (`false` when either is not a queue URL).
    pub fn same_url(a: &str, b: &str) -> bool {
        match (QueueId::from_url(a), QueueId::from_url(b)) {
            (Some(a), Some(b)) => a.same_queue(&b),
            _ => a.trim() == b.trim(),
        }
    }
}

/// Per-entry outcome of a batch call, in the order of the request.
pub type BatchResult<T> = Vec<Result<T, AwsError>>;

/// Everything business logic needs from a queue. One value = one queue URL.
#[async_trait]
pub trait Queue: Send + Sync + 'static {
    /// Queue URL (for logs) .
    fn url(&self) -> &str;

    /// Long-poll for up to `max` (1..=10) messages, hiding them for `visibility`.
    async fn receive(
        &self,
        max: u8,
        wait: Duration,
        visibility: Duration,
    ) -> Result<Vec<Received>, AwsError>;

    /// Delete up to 10 messages; per-entry results in request order.
    async fn delete_batch(&self, receipts: &[Receipt]) -> Result<BatchResult<()>, AwsError>;

    /// Set the visibility timeout of up to 10 received messages; per-entry results.
    async fn change_visibility_batch(
        &self,
        receipts: &[Receipt],
        timeout: Duration,
    ) -> Result<BatchResult<()>, AwsError>;

    /// Send up to 10 messages; per-entry results carry the new message ids.
    async fn send_batch(&self, messages: &[Outgoing]) -> Result<BatchResult<String>, AwsError>;

    /// Approximate depth.
    async fn depth(&self) -> Result<Depth, AwsError>;

    /// The queue's configuration (GetQueueAttributes); doubles as a reachability check.
    async fn settings(&self) -> Result<QueueSettings, AwsError>;

    /// The URL of the queue with this ARN (GetQueueUrl), e.g. a RedrivePolicy's target.
    async fn url_of(&self, arn: &str) -> Result<String, AwsError>;

    /// Set the visibility timeout of one message.
    async fn change_visibility(
        &self,
        receipt: &Receipt,
        timeout: Duration,
    ) -> Result<(), AwsError> {
        let mut results = self
            .change_visibility_batch(std::slice::from_ref(receipt), timeout)
            .await?;
        results.pop().unwrap_or(Ok(()))
    }

    /// Send one message; returns its id.
    async fn send(&self, message: &Outgoing) -> Result<String, AwsError> {
        let mut results = self.send_batch(std::slice::from_ref(message)).await?;
        match results.pop() {
            Some(result) => result,
            None => Err(AwsError {
                service: "sqs",
                operation: "SendMessageBatch",
                code: "EmptyResponse".into(),
                message: "no result for the single entry".into(),
                class: crate::aws_error::ErrorClass::Transient,
                request_id: None,
            }),
        }
    }
}

#[cfg(test)]
mod tests;
