//! Strict mode for SQS (JSON protocol): the IAM action and queue ARN of a request, and the limits
//! SQS enforces that moto does not: ≤ 10 entries per batch, ≤ 1 MiB per batch, ≤ 10 message
//! attributes per message, and a body no larger than the queue's MaximumMessageSize.

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use serde_json::Value;

use super::evaluator::Check;
use super::policy::{queue_arn, ACCOUNT};
use crate::common::faultproxy::rules::sqs_error;

/// Entries per batch call.
pub const MAX_BATCH_ENTRIES: usize = 10;
/// Total payload of a SendMessageBatch (and the largest MaximumMessageSize).
pub const MAX_BATCH_BYTES: usize = 1024 * 1024;
/// Message attributes per message.
pub const MAX_ATTRIBUTES: usize = 10;

/// An SQS error as the JSON protocol sends it (query-compatible code in `x-amzn-query-error`).
pub fn error(status: StatusCode, code: &str, message: &str) -> Response<Full<Bytes>> {
    sqs_error(
        status,
        code,
        "Sender",
        message,
        &format!("STRICT{:016X}", fastrand::u64(..)),
    )
}

pub fn access_denied(action: &str, resource: &str) -> Response<Full<Bytes>> {
    let mut resp = error(
        StatusCode::FORBIDDEN,
        "AccessDenied",
        &format!("User is not authorized to perform: {action} on resource: {resource} because no identity-based policy allows the {action} action"),
    );
    // Real SQS names the coral exception in `__type`; the code the SDK reads is the header's.
    *resp.body_mut() = Full::new(Bytes::from(
        serde_json::json!({
            "__type": "com.amazon.coral.service#AccessDeniedException",
            "message": format!("User is not authorized to perform: {action} on resource: {resource}"),
        })
        .to_string(),
    ));
    resp
}

/// The IAM action of an SQS API operation (batch calls need the single-message action).
pub fn action(operation: &str) -> String {
    let base = operation.strip_suffix("Batch").unwrap_or(operation);
    format!("sqs:{base}")
}

/// The queue ARN a request is about (`*` for ListQueues and other account-level calls).
pub fn resource(operation: &str, body: &Value, region: &str) -> String {
    if let Some(url) = body["QueueUrl"].as_str() {
        return queue_arn(url, region);
    }
    if let Some(name) = body["QueueName"].as_str() {
        let account = body["QueueOwnerAWSAccountId"].as_str().unwrap_or(ACCOUNT);
        return format!("arn:aws:sqs:{region}:{account}:{name}");
    }
    let _ = operation;
    "*".to_owned()
}

pub fn check(operation: &str, body: &Value, region: &str) -> Check {
    Check::new(&action(operation), &resource(operation, body, region))
}

/// A message's size as SQS counts it: body plus each attribute's name, type and value.
pub fn message_size(body: &str, attributes: &Value) -> usize {
    let mut size = body.len();
    if let Some(attrs) = attributes.as_object() {
        for (name, v) in attrs {
            size += name.len() + v["DataType"].as_str().map_or(0, str::len);
            size += v["StringValue"].as_str().map_or(0, str::len);
            size += v["BinaryValue"].as_str().map_or(0, base64_len);
        }
    }
    size
}

/// Decoded length of a base64 string (the JSON protocol's BinaryValue).
fn base64_len(b: &str) -> usize {
    let padding = b.bytes().rev().take_while(|&c| c == b'=').count();
    (b.len() / 4 * 3).saturating_sub(padding)
}

/// The messages a send carries: (entry id, size, attribute count).
fn messages(operation: &str, body: &Value) -> Vec<(String, usize, usize)> {
    let one = |m: &Value, id: String| {
        let attrs = &m["MessageAttributes"];
        let count = attrs.as_object().map_or(0, |a| a.len());
        (
            id,
            message_size(m["MessageBody"].as_str().unwrap_or_default(), attrs),
            count,
        )
    };
    match operation {
        "SendMessage" => vec![one(body, "-".into())],
        "SendMessageBatch" => body["Entries"]
            .as_array()
            .map(|es| {
                es.iter()
                    .map(|e| one(e, e["Id"].as_str().unwrap_or_default().to_owned()))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Limits that need no queue attribute: batch entries, batch payload, attribute count.
pub fn static_limits(operation: &str, body: &Value) -> Option<Response<Full<Bytes>>> {
    if operation.ends_with("Batch") {
        let n = body["Entries"].as_array().map_or(0, Vec::len);
        if n == 0 {
            return Some(error(
                StatusCode::BAD_REQUEST,
                "AWS.SimpleQueueService.EmptyBatchRequest",
                "There should be at least one SendMessageBatchRequestEntry in the request.",
            ));
        }
        if n > MAX_BATCH_ENTRIES {
            return Some(error(
                StatusCode::BAD_REQUEST,
                "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
                &format!("Maximum number of entries per request are {MAX_BATCH_ENTRIES}. You have sent {n}."),
            ));
        }
    }
    let msgs = messages(operation, body);
    if let Some((_, _, count)) = msgs.iter().find(|(_, _, c)| *c > MAX_ATTRIBUTES) {
        return Some(error(
            StatusCode::BAD_REQUEST,
            "InvalidParameterValue",
            &format!("Number of message attributes [{count}] exceeds the allowed maximum [{MAX_ATTRIBUTES}]."),
        ));
    }
    let total: usize = msgs.iter().map(|(_, s, _)| s).sum();
    if operation == "SendMessageBatch" && total > MAX_BATCH_BYTES {
        return Some(error(
            StatusCode::BAD_REQUEST,
            "AWS.SimpleQueueService.BatchRequestTooLong",
            &format!("Batch requests cannot be longer than {MAX_BATCH_BYTES} bytes. You have sent {total} bytes."),
        ));
    }
    None
}

/// The queue's MaximumMessageSize: is every message of a send within it?
pub fn size_limit(operation: &str, body: &Value, max: usize) -> Option<Response<Full<Bytes>>> {
    let (id, size, _) = messages(operation, body)
        .into_iter()
        .find(|(_, s, _)| *s > max)?;
    if operation == "SendMessage" {
        Some(error(
            StatusCode::BAD_REQUEST,
            "InvalidParameterValue",
            &format!("One or more parameters are invalid. Reason: Message must be shorter than {max} bytes."),
        ))
    } else {
        Some(error(
            StatusCode::BAD_REQUEST,
            "AWS.SimpleQueueService.BatchRequestTooLong",
            &format!(
                "Batch entry {id} is {size} bytes; the queue's MaximumMessageSize is {max} bytes."
            ),
        ))
    }
}
