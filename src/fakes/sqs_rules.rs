//! The request limits SQS enforces, as the fake queue checks them: one place, named after the
//! service's own error codes, so each rule is visible and unit-tested on its own.

use std::time::Duration;

use super::permanent;
use crate::aws_error::AwsError;
use crate::queue::{Outgoing, MAX_BATCH_BYTES, MAX_BATCH_ENTRIES};

/// `MaxNumberOfMessages` is 1..=10.
pub const MAX_RECEIVE: u8 = 10;
/// Long polls wait at most 20 s.
pub const MAX_WAIT: Duration = Duration::from_secs(20);
/// A visibility timeout is at most 12 hours.
pub const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 60 * 60);
/// Message attributes per message.
pub const MAX_ATTRIBUTES: usize = 10;

fn invalid(operation: &'static str, why: String) -> AwsError {
    AwsError {
        message: why,
        ..permanent("sqs", operation, "InvalidParameterValue")
    }
}

/// ReceiveMessage's parameters.
pub fn check_receive(max: u8, wait: Duration, visibility: Duration) -> Result<(), AwsError> {
    const OP: &str = "ReceiveMessage";
    if max == 0 || max > MAX_RECEIVE {
        return Err(invalid(
            OP,
            format!("Value {max} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10."),
        ));
    }
    if wait > MAX_WAIT {
        return Err(invalid(
            OP,
            format!("Value {} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20.", wait.as_secs()),
        ));
    }
    check_visibility(OP, visibility)
}

/// A visibility timeout (ReceiveMessage, ChangeMessageVisibility): at most 12 hours.
pub fn check_visibility(operation: &'static str, visibility: Duration) -> Result<(), AwsError> {
    if visibility > MAX_VISIBILITY {
        return Err(invalid(
            operation,
            format!(
                "Value {} for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200.",
                visibility.as_secs()
            ),
        ));
    }
    Ok(())
}

/// Any batch call: at most 10 entries (empty batches never reach the fake: the adapter
/// returns before sending them).
pub fn check_entries(operation: &'static str, n: usize) -> Result<(), AwsError> {
    if n > MAX_BATCH_ENTRIES {
        return Err(AwsError {
            message: format!(
                "Maximum number of entries per request are {MAX_BATCH_ENTRIES}. You have sent {n}."
            ),
            ..permanent("sqs", operation, "TooManyEntriesInBatchRequest")
        });
    }
    Ok(())
}

/// DeleteMessageBatch: no receipt handle twice in one request. moto refuses the whole request
/// (`BatchEntryIdsNotDistinct`) when it sees one; the acker never sends one (moto can hand one
/// message to two receives with the same handle, and both tasks then acknowledge it).
pub fn check_distinct_receipts(
    operation: &'static str,
    receipts: &[crate::queue::Receipt],
) -> Result<(), AwsError> {
    let mut seen = std::collections::HashSet::new();
    for (i, r) in receipts.iter().enumerate() {
        if !seen.insert(r) {
            return Err(AwsError {
                message: format!("Id {i} repeated."),
                ..permanent("sqs", operation, "BatchEntryIdsNotDistinct")
            });
        }
    }
    Ok(())
}

/// SendMessageBatch: ≤ 10 attributes per message, each message within the queue's
/// `MaximumMessageSize`, and ≤ 1 MiB in all (body plus attributes, as SQS counts them). Like
/// SQS (and the integration tests' strict proxy), a violation fails the whole request.
pub fn check_send(messages: &[Outgoing], max_message: usize) -> Result<(), AwsError> {
    const OP: &str = "SendMessageBatch";
    check_entries(OP, messages.len())?;
    if let Some(m) = messages
        .iter()
        .find(|m| m.attributes.len() > MAX_ATTRIBUTES)
    {
        return Err(invalid(
            OP,
            format!(
                "Number of message attributes [{}] exceeds the allowed maximum [{MAX_ATTRIBUTES}].",
                m.attributes.len()
            ),
        ));
    }
    if messages.iter().any(|m| m.body.is_empty()) {
        return Err(invalid(
            OP,
            "The request must contain the parameter MessageBody.".into(),
        ));
    }
    if let Some(m) = messages.iter().find(|m| m.size() > max_message) {
        return Err(AwsError {
            message: format!(
                "a batch entry is {} bytes; the queue's MaximumMessageSize is {max_message} bytes",
                m.size()
            ),
            ..permanent("sqs", OP, "BatchRequestTooLong")
        });
    }
    let bytes: usize = messages.iter().map(Outgoing::size).sum();
    if bytes > MAX_BATCH_BYTES {
        return Err(AwsError {
            message: format!(
                "Batch requests cannot be longer than {MAX_BATCH_BYTES} bytes. You have sent {bytes} bytes."
            ),
            ..permanent("sqs", OP, "BatchRequestTooLong")
        });
    }
    Ok(())
}
