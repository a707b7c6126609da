//! The SQS implementation of [`Queue`]: the only module that uses `aws_sdk_sqs`.

use std::collections::HashMap;
use std::time::{Duration, UNIX_EPOCH};

use async_trait::async_trait;
use aws_sdk_sqs::primitives::Blob;
use aws_sdk_sqs::types::{
    BatchResultErrorEntry, ChangeMessageVisibilityBatchRequestEntry,
    DeleteMessageBatchRequestEntry, Message, MessageAttributeValue, MessageSystemAttributeName,
    QueueAttributeName, SendMessageBatchRequestEntry,
};
use aws_sdk_sqs::Client;

use super::{
    Attribute, Attributes, BatchResult, Depth, Outgoing, Queue, QueueSettings, Receipt, Received,
};
use crate::aws::{build_error, entry_error, observe};
use crate::aws_error::{AwsError, ErrorClass};

const SERVICE: &str = "sqs";

/// One SQS queue.
#[derive(Clone, Debug)]
pub struct SqsQueue {
    client: Client,
    url: String,
}

impl SqsQueue {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        SqsQueue {
            client,
            url: url.into(),
        }
    }

    pub fn from_conf(conf: &aws_config::SdkConfig, url: impl Into<String>) -> Self {
        SqsQueue::new(Client::new(conf), url)
    }

    /// The same client, another queue.
    pub fn sibling(&self, url: impl Into<String>) -> Self {
        SqsQueue::new(self.client.clone(), url)
    }

    /// The URL of the dead-letter queue named by this queue's RedrivePolicy, if it has one.
    /// Doubles as the start-up reachability check of the queue.
    pub async fn dead_letter_target(&self) -> Result<Option<String>, AwsError> {
        let out = observe(
            SERVICE,
            "GetQueueAttributes",
            self.client
                .get_queue_attributes()
                .queue_url(&self.url)
                .attribute_names(QueueAttributeName::RedrivePolicy)
                .send()
                .await,
        )?;
        let Some(policy) = out
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::RedrivePolicy))
        else {
            return Ok(None);
        };
        let arn = redrive_target_arn(policy).ok_or_else(|| {
            entry_error(
                SERVICE,
                "GetQueueAttributes",
                "InvalidRedrivePolicy",
                format!("RedrivePolicy has no deadLetterTargetArn: {policy}"),
                ErrorClass::Permanent,
            )
        })?;
        let (account, name) = split_queue_arn(&arn).ok_or_else(|| {
            entry_error(
                SERVICE,
                "GetQueueAttributes",
                "InvalidRedrivePolicy",
                format!("deadLetterTargetArn is not a queue ARN: {arn}"),
                ErrorClass::Permanent,
            )
        })?;
        let out = observe(
            SERVICE,
            "GetQueueUrl",
            self.client
                .get_queue_url()
                .queue_name(name)
                .queue_owner_aws_account_id(account)
                .send()
                .await,
        )?;
        Ok(out.queue_url().map(str::to_owned))
    }
}

/// `{"deadLetterTargetArn":"arn:aws:sqs:REGION:ACCOUNT:NAME","maxReceiveCount":N}` → the ARN.
fn redrive_target_arn(policy: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(policy).ok()?;
    v.get("deadLetterTargetArn")?.as_str().map(str::to_owned)
}

/// `arn:aws:sqs:REGION:ACCOUNT:NAME` → (ACCOUNT, NAME).
fn split_queue_arn(arn: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "sqs", _, account, name] if !name.is_empty() => Some((account, name)),
        _ => None,
    }
}

fn secs(d: Duration) -> i32 {
    i32::try_from(d.as_secs()).unwrap_or(i32::MAX)
}

fn convert(m: &Message) -> Option<Received> {
    let system = m.attributes();
    let sys = |name: MessageSystemAttributeName| system.and_then(|a| a.get(&name));
    let receive_count = sys(MessageSystemAttributeName::ApproximateReceiveCount)
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let sent_at = sys(MessageSystemAttributeName::SentTimestamp)
        .and_then(|v| v.parse::<u64>().ok())
        .map(|ms| UNIX_EPOCH + Duration::from_millis(ms));
    let attributes = m
        .message_attributes()
        .map(|attrs| {
            attrs
                .iter()
                .map(|(k, v)| {
                    let attr = Attribute {
                        data_type: v.data_type().to_owned(),
                        string_value: v.string_value().map(str::to_owned),
                        binary_value: v.binary_value().map(|b| b.as_ref().to_vec()),
                    };
                    (k.clone(), attr)
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Received {
        message_id: m.message_id()?.to_owned(),
        receipt: Receipt(m.receipt_handle()?.to_owned()),
        body: m.body().unwrap_or_default().to_owned(),
        attributes,
        receive_count,
        sent_at,
    })
}

fn to_sdk_attributes(attrs: &Attributes) -> Option<HashMap<String, MessageAttributeValue>> {
    if attrs.is_empty() {
        return None;
    }
    let map = attrs
        .iter()
        .filter_map(|(k, a)| {
            let v = MessageAttributeValue::builder()
                .data_type(&a.data_type)
                .set_string_value(a.string_value.clone())
                .set_binary_value(a.binary_value.clone().map(Blob::new))
                .build()
                .ok()?;
            Some((k.clone(), v))
        })
        .collect();
    Some(map)
}

/// Map a batch response onto the request order: ids are the request indices.
fn per_entry<T>(
    operation: &'static str,
    n: usize,
    successes: impl Iterator<Item = (String, T)>,
    failed: &[BatchResultErrorEntry],
) -> BatchResult<T> {
    let mut results: Vec<Option<Result<T, AwsError>>> = (0..n).map(|_| None).collect();
    for (id, value) in successes {
        if let Some(slot) = id.parse::<usize>().ok().and_then(|i| results.get_mut(i)) {
            *slot = Some(Ok(value));
        }
    }
    for f in failed {
        if let Some(slot) = f
            .id()
            .parse::<usize>()
            .ok()
            .and_then(|i| results.get_mut(i))
        {
            // SenderFault = our request was wrong for this entry (e.g. a stale receipt handle).
            let class = if f.sender_fault() {
                ErrorClass::Permanent
            } else {
                ErrorClass::Transient
            };
            *slot = Some(Err(entry_error(
                SERVICE,
                operation,
                f.code(),
                f.message().unwrap_or_default(),
                class,
            )));
        }
    }
    results
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                Err(entry_error(
                    SERVICE,
                    operation,
                    "MissingEntry",
                    "the batch response did not mention this entry",
                    ErrorClass::Transient,
                ))
            })
        })
        .collect()
}

#[async_trait]
impl Queue for SqsQueue {
    fn url(&self) -> &str {
        &self.url
    }

    async fn receive(
        &self,
        max: u8,
        wait: Duration,
        visibility: Duration,
    ) -> Result<Vec<Received>, AwsError> {
        let out = observe(
            SERVICE,
            "ReceiveMessage",
            self.client
                .receive_message()
                .queue_url(&self.url)
                .max_number_of_messages(i32::from(max.clamp(1, 10)))
                .wait_time_seconds(secs(wait))
                .visibility_timeout(secs(visibility))
                .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
                .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
                .message_attribute_names("All")
                .send()
                .await,
        )?;
        Ok(out.messages().iter().filter_map(convert).collect())
    }

    async fn delete_batch(&self, receipts: &[Receipt]) -> Result<BatchResult<()>, AwsError> {
        const OP: &str = "DeleteMessageBatch";
        if receipts.is_empty() {
            return Ok(Vec::new());
        }
        let entries = receipts
            .iter()
            .enumerate()
            .map(|(i, r)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(&r.0)
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| build_error(SERVICE, OP, e))?;
        let out = observe(
            SERVICE,
            OP,
            self.client
                .delete_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await,
        )?;
        let ok = out.successful().iter().map(|s| (s.id().to_owned(), ()));
        Ok(per_entry(OP, receipts.len(), ok, out.failed()))
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
        let entries = receipts
            .iter()
            .enumerate()
            .map(|(i, r)| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(&r.0)
                    .visibility_timeout(secs(timeout))
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| build_error(SERVICE, OP, e))?;
        let out = observe(
            SERVICE,
            OP,
            self.client
                .change_message_visibility_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await,
        )?;
        let ok = out.successful().iter().map(|s| (s.id().to_owned(), ()));
        Ok(per_entry(OP, receipts.len(), ok, out.failed()))
    }

    async fn send_batch(&self, messages: &[Outgoing]) -> Result<BatchResult<String>, AwsError> {
        const OP: &str = "SendMessageBatch";
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        let entries = messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(&m.body)
                    .set_message_attributes(to_sdk_attributes(&m.attributes))
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| build_error(SERVICE, OP, e))?;
        let out = observe(
            SERVICE,
            OP,
            self.client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await,
        )?;
        let ok = out
            .successful()
            .iter()
            .map(|s| (s.id().to_owned(), s.message_id().to_owned()));
        Ok(per_entry(OP, messages.len(), ok, out.failed()))
    }

    async fn depth(&self) -> Result<Depth, AwsError> {
        let out = observe(
            SERVICE,
            "GetQueueAttributes",
            self.client
                .get_queue_attributes()
                .queue_url(&self.url)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
                .send()
                .await,
        )?;
        let get = |name: QueueAttributeName| {
            out.attributes()
                .and_then(|a| a.get(&name))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        Ok(Depth {
            visible: get(QueueAttributeName::ApproximateNumberOfMessages),
            inflight: get(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
            delayed: get(QueueAttributeName::ApproximateNumberOfMessagesDelayed),
        })
    }

    async fn settings(&self) -> Result<QueueSettings, AwsError> {
        let out = observe(
            SERVICE,
            "GetQueueAttributes",
            self.client
                .get_queue_attributes()
                .queue_url(&self.url)
                .attribute_names(QueueAttributeName::QueueArn)
                .attribute_names(QueueAttributeName::RedrivePolicy)
                .attribute_names(QueueAttributeName::VisibilityTimeout)
                .attribute_names(QueueAttributeName::MaximumMessageSize)
                .attribute_names(QueueAttributeName::MessageRetentionPeriod)
                .attribute_names(QueueAttributeName::KmsMasterKeyId)
                .attribute_names(QueueAttributeName::SqsManagedSseEnabled)
                .send()
                .await,
        )?;
        Ok(to_settings(out.attributes()))
    }

    async fn url_of(&self, arn: &str) -> Result<String, AwsError> {
        const OP: &str = "GetQueueUrl";
        let (account, name) = split_queue_arn(arn).ok_or_else(|| {
            entry_error(
                SERVICE,
                OP,
                "InvalidArn",
                format!("not a queue ARN: {arn}"),
                ErrorClass::Permanent,
            )
        })?;
        let out = observe(
            SERVICE,
            OP,
            self.client
                .get_queue_url()
                .queue_name(name)
                .queue_owner_aws_account_id(account)
                .send()
                .await,
        )?;
        out.queue_url().map(str::to_owned).ok_or_else(|| {
            entry_error(
                SERVICE,
                OP,
                "EmptyResponse",
                format!("no URL for {arn}"),
                ErrorClass::Transient,
            )
        })
    }
}

/// The attributes [`Queue::settings`] reads, and how they map onto [`QueueSettings`].
fn to_settings(attrs: Option<&HashMap<QueueAttributeName, String>>) -> QueueSettings {
    let get = |name: QueueAttributeName| attrs.and_then(|a| a.get(&name)).cloned();
    let num = |name: QueueAttributeName| get(name).and_then(|v| v.trim().parse::<u64>().ok());
    QueueSettings {
        arn: get(QueueAttributeName::QueueArn),
        redrive_policy: get(QueueAttributeName::RedrivePolicy).filter(|p| !p.trim().is_empty()),
        visibility_timeout: num(QueueAttributeName::VisibilityTimeout).map(Duration::from_secs),
        maximum_message_size: num(QueueAttributeName::MaximumMessageSize),
        retention: num(QueueAttributeName::MessageRetentionPeriod).map(Duration::from_secs),
        kms_key_id: get(QueueAttributeName::KmsMasterKeyId).filter(|k| !k.trim().is_empty()),
        sqs_managed_sse: get(QueueAttributeName::SqsManagedSseEnabled)
            .map(|v| v.trim().eq_ignore_ascii_case("true")),
    }
}

#[cfg(test)]
#[path = "sqs_tests.rs"]
mod tests;
