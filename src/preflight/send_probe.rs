//! `--send-probe`: SendMessage to the DLQ cannot be proven without sending a message, so, for
//! operators who accept it, send one marker message (attribute `janitor.preflight`) and delete
//! it at once. Other messages received on the way are made visible again as soon as it is found
//! (their receive count goes up by one; nothing else changes).

use std::time::Duration;

use tokio::time::Instant;

use super::Check;
use crate::queue::{Attribute, Attributes, Outgoing, Queue, Receipt};

pub const NAME: &str = "dlq_send";

/// The marker attribute's name; its value is the probe's random id.
pub const MARKER: &str = "janitor.preflight";

/// How long to look for the probe message before giving up on deleting it, and in at most how
/// many receives (10 messages each).
const FIND_FOR: Duration = Duration::from_secs(20);
const MAX_RECEIVES: usize = 50;

/// Send the marker message and delete it.
pub async fn probe(dlq: &dyn Queue) -> Check {
    let id = format!("{:016x}", fastrand::u64(..));
    let mut attributes = Attributes::new();
    attributes.insert(MARKER.into(), Attribute::string(&id));
    let message = Outgoing {
        body: format!(
            r#"{{"type":"janitor.preflight","probe":"{id}","note":"sent by image-janitor preflight --send-probe; safe to delete"}}"#
        ),
        attributes,
    };
    let url = dlq.url().to_owned();
    let message_id = match dlq.send(&message).await {
        Ok(m) => m,
        Err(e) => return Check::fail(
            NAME,
            url,
            format!("SendMessage refused: {e}"),
            "grant the role sqs:SendMessage on the DLQ (and kms:GenerateDataKey on its key, if \
                 it uses SSE-KMS)",
        ),
    };
    match remove(dlq, &id).await {
        Ok(()) => Check::ok(NAME, url, "SendMessage allowed: a marker message was sent and deleted"),
        Err(why) => Check::warn(
            NAME,
            url,
            format!(
                "SendMessage allowed, but the marker message {message_id} ({MARKER}={id}) was not \
                 deleted: {why}"
            ),
            format!(
                "delete the message with {MARKER}={id} from the DLQ (a role with sqs:ReceiveMessage \
                 and sqs:DeleteMessage on it), or let the DLQ's retention expire it"
            ),
        ),
    }
}

/// Receive until the marker comes back and delete it; every other message received on the way
/// stays hidden while we look (so each receive sees new ones) and is handed back at the end.
async fn remove(dlq: &dyn Queue, id: &str) -> Result<(), String> {
    let mut others = Vec::new();
    let found = find(dlq, id, &mut others).await;
    for chunk in others.chunks(10) {
        // Best effort: a message not handed back reappears after its 30 s anyway.
        let _ = dlq.change_visibility_batch(chunk, Duration::ZERO).await;
    }
    let receipt = found?;
    let mut results = dlq
        .delete_batch(std::slice::from_ref(&receipt))
        .await
        .map_err(|e| e.to_string())?;
    match results.pop() {
        Some(Ok(())) => Ok(()),
        Some(Err(e)) => Err(e.to_string()),
        None => Err("DeleteMessageBatch reported nothing".into()),
    }
}

/// The marker's receipt; the receipts of the other messages received go to `others`.
async fn find(dlq: &dyn Queue, id: &str, others: &mut Vec<Receipt>) -> Result<Receipt, String> {
    let deadline = Instant::now() + FIND_FOR;
    for _ in 0..MAX_RECEIVES {
        if Instant::now() >= deadline {
            break;
        }
        let got = dlq
            .receive(10, Duration::from_secs(1), Duration::from_secs(30))
            .await
            .map_err(|e| e.to_string())?;
        let mut ours = None;
        for m in got {
            let marked = m
                .attributes
                .get(MARKER)
                .and_then(|a| a.string_value.as_deref())
                == Some(id);
            if marked && ours.is_none() {
                ours = Some(m.receipt);
            } else {
                others.push(m.receipt);
            }
        }
        if let Some(r) = ours {
            return Ok(r);
        }
    }
    Err(format!(
        "it did not come back within {}s ({} other messages seen)",
        FIND_FOR.as_secs(),
        others.len()
    ))
}
