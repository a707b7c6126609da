//! Dead-lettering (CONTRACT §4): send the original body, byte for byte, with the original
//! attributes plus `janitor.*` to the DLQ, then delete it from the main queue.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use backon::Retryable;

use crate::aws_error::AwsError;
use crate::queue::{attributes_size, Attribute, Attributes, Outgoing, Queue, Received};
use crate::reason::{one_line, Reason, MAX_DETAIL_BYTES};
use crate::telemetry::events::{DeadLetterNotRemoved, MessageDeadLettered};
use crate::timestamp::rfc3339;

pub const ATTR_REASON: &str = "janitor.reason";
pub const ATTR_DETAIL: &str = "janitor.detail";
pub const ATTR_ATTEMPTS: &str = "janitor.attempts";
pub const ATTR_FAILED_AT: &str = "janitor.failed_at";
pub const ATTR_PREFIX: &str = "janitor.";

/// SQS allows at most 10 message attributes per message.
pub const MAX_ATTRIBUTES: usize = 10;
/// SQS's largest message (body + attributes): 1 MiB.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// The attributes a dead-lettered copy carries: the originals (minus any stale `janitor.*`)
/// plus the four `janitor.*`. If that would exceed SQS's 10, the originals that do not fit
/// are dropped (alphabetically last first) and named in the returned list.
pub fn dead_letter_attributes(
    original: &Attributes,
    reason: Reason,
    detail: &str,
    attempts: u32,
    failed_at: SystemTime,
) -> (Attributes, Vec<String>) {
    let mut attrs: Attributes = original
        .iter()
        .filter(|(k, _)| !k.starts_with(ATTR_PREFIX))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut dropped = Vec::new();
    while attrs.len() + 4 > MAX_ATTRIBUTES {
        if let Some((k, _)) = attrs.pop_last() {
            dropped.push(k);
        }
    }
    attrs.insert(ATTR_REASON.into(), Attribute::string(reason.as_str()));
    attrs.insert(
        ATTR_DETAIL.into(),
        Attribute::string(one_line(detail, MAX_DETAIL_BYTES)),
    );
    attrs.insert(
        ATTR_ATTEMPTS.into(),
        Attribute::string(attempts.to_string()),
    );
    attrs.insert(ATTR_FAILED_AT.into(), Attribute::string(rfc3339(failed_at)));
    (attrs, dropped)
}

/// The original attributes of a dead-lettered message (all `janitor.*` removed), for replay.
pub fn strip_janitor_attributes(attrs: &Attributes) -> Attributes {
    attrs
        .iter()
        .filter(|(k, _)| !k.starts_with(ATTR_PREFIX))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Sends messages to the DLQ and removes them from the main queue.
#[derive(Clone)]
pub struct DeadLetter {
    main: Arc<dyn Queue>,
    dlq: Arc<dyn Queue>,
}

impl DeadLetter {
    pub fn new(main: Arc<dyn Queue>, dlq: Arc<dyn Queue>) -> Self {
        DeadLetter { main, dlq }
    }

    /// Step 1: send the copy to the DLQ (retried on transient errors). The caller keeps the
    /// message's visibility extended until this returns: a slow send must not let another
    /// worker receive (and dead-letter) the same message meanwhile.
    pub async fn send_copy(
        &self,
        msg: &Received,
        reason: Reason,
        detail: &str,
    ) -> Result<(), AwsError> {
        let fitted = fit_dead_letter(msg, reason, detail, SystemTime::now());
        if !fitted.dropped.is_empty() {
            tracing::warn!(message_id = %msg.message_id, dropped = ?fitted.dropped, "SQS limits (10 attributes, 1 MiB): originals dropped from the dead-lettered copy");
        }
        if fitted.detail_shortened {
            tracing::warn!(message_id = %msg.message_id, "body close to SQS's 1 MiB limit: janitor.detail shortened on the dead-lettered copy");
        }
        let out = fitted.outgoing;
        (|| self.dlq.send(&out))
            .retry(short_retry())
            .when(|e: &AwsError| e.is_transient())
            .await?;
        Ok(())
    }

    /// Step 2: delete the message from the main queue. A crash between the two steps duplicates
    /// the message into the DLQ, never loses it.
    pub async fn remove(
        &self,
        msg: &Received,
        page_id: Option<&str>,
        reason: Reason,
        detail: &str,
    ) -> Result<(), AwsError> {
        let results = (|| self.main.delete_batch(std::slice::from_ref(&msg.receipt)))
            .retry(short_retry())
            .when(|e: &AwsError| e.is_transient())
            .await?;
        MessageDeadLettered {
            message_id: &msg.message_id,
            page_id,
            reason,
            detail,
            attempts: msg.receive_count,
        }
        .emit();
        if let Some(Err(e)) = results.into_iter().next() {
            // Already in the DLQ; it will come back and be dead-lettered again (a duplicate).
            DeadLetterNotRemoved {
                message_id: &msg.message_id,
                error: &e,
            }
            .emit();
            return Err(e);
        }
        Ok(())
    }
}

/// The dead-lettered copy, fitted to SQS's limits.
#[derive(Debug)]
pub struct Fitted {
    pub outgoing: Outgoing,
    /// Original attributes left out (10-attribute or size limit).
    pub dropped: Vec<String>,
    /// `janitor.detail` was cut (or left out) to fit the size limit.
    pub detail_shortened: bool,
}

/// Build the copy of `msg` for the DLQ: the body unchanged, the original attributes plus
/// `janitor.*`, within SQS's 10 attributes and [`MAX_MESSAGE_BYTES`] (body + attributes).
/// When the body leaves too little room, the detail is shortened first, then originals are
/// dropped; `janitor.reason` is always kept.
pub fn fit_dead_letter(msg: &Received, reason: Reason, detail: &str, now: SystemTime) -> Fitted {
    let (mut attributes, mut dropped) =
        dead_letter_attributes(&msg.attributes, reason, detail, msg.receive_count, now);
    let mut detail_shortened = false;
    let size = |attrs: &Attributes| msg.body.len() + attributes_size(attrs);
    if size(&attributes) > MAX_MESSAGE_BYTES {
        let current = attributes
            .get(ATTR_DETAIL)
            .and_then(|a| a.string_value.clone())
            .unwrap_or_default();
        let without = {
            let mut a = attributes.clone();
            a.remove(ATTR_DETAIL);
            size(&a)
        };
        // Room left for the detail's value (its name and type are counted in `without`).
        let room = MAX_MESSAGE_BYTES.saturating_sub(without + ATTR_DETAIL.len() + "String".len());
        detail_shortened = true;
        if room >= 16 {
            attributes.insert(
                ATTR_DETAIL.into(),
                Attribute::string(one_line(&current, room)),
            );
        } else {
            attributes.remove(ATTR_DETAIL);
        }
    }
    // Still too large: drop originals (alphabetically last first), then the other janitor
    // fields, never `janitor.reason`.
    while size(&attributes) > MAX_MESSAGE_BYTES {
        let victim = attributes
            .keys()
            .rev()
            .find(|k| !k.starts_with(ATTR_PREFIX))
            .or_else(|| attributes.keys().rev().find(|k| k.as_str() != ATTR_REASON))
            .cloned();
        let Some(victim) = victim else { break };
        attributes.remove(&victim);
        if victim.starts_with(ATTR_PREFIX) {
            detail_shortened |= victim == ATTR_DETAIL;
        } else {
            dropped.push(victim);
        }
    }
    Fitted {
        outgoing: Outgoing {
            body: msg.body.clone(),
            attributes,
        },
        dropped,
        detail_shortened,
    }
}

fn short_retry() -> backon::ExponentialBuilder {
    backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(2))
        .with_max_times(3)
        .with_jitter()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_keep_originals_and_add_janitor_fields() {
        let mut orig = Attributes::new();
        orig.insert("trace".into(), Attribute::string("abc"));
        orig.insert("janitor.reason".into(), Attribute::string("stale"));
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let (attrs, dropped) = dead_letter_attributes(&orig, Reason::InvalidUrl, "bad\nline", 3, t);
        assert!(dropped.is_empty());
        assert_eq!(attrs["trace"], Attribute::string("abc"));
        assert_eq!(attrs[ATTR_REASON], Attribute::string("invalid_url"));
        assert_eq!(attrs[ATTR_DETAIL], Attribute::string("bad line"));
        assert_eq!(attrs[ATTR_ATTEMPTS], Attribute::string("3"));
        assert_eq!(
            attrs[ATTR_FAILED_AT],
            Attribute::string("2026-11-18T11:06:40Z")
        );
        assert_eq!(attrs.len(), 5);
    }

    #[test]
    fn too_many_originals_are_dropped_to_fit() {
        let orig: Attributes = (0..9)
            .map(|i| (format!("a{i}"), Attribute::string("v")))
            .collect();
        let (attrs, dropped) =
            dead_letter_attributes(&orig, Reason::InvalidJson, "x", 1, SystemTime::now());
        assert_eq!(attrs.len(), MAX_ATTRIBUTES);
        assert_eq!(dropped, vec!["a8", "a7", "a6"]);
    }

    fn received(body: String, attributes: Attributes) -> Received {
        Received {
            message_id: "m-1".into(),
            receipt: crate::queue::Receipt("r-1".into()),
            body,
            attributes,
            receive_count: 2,
            sent_at: None,
        }
    }

    #[test]
    fn a_small_message_keeps_every_attribute_and_the_whole_detail() {
        let mut orig = Attributes::new();
        orig.insert("trace".into(), Attribute::string("abc"));
        let msg = received("{}".into(), orig);
        let f = fit_dead_letter(&msg, Reason::InvalidUrl, "detail", SystemTime::now());
        assert!(!f.detail_shortened);
        assert!(f.dropped.is_empty());
        assert_eq!(f.outgoing.body, "{}");
        assert_eq!(f.outgoing.attributes.len(), 5);
        assert_eq!(
            f.outgoing.attributes[ATTR_DETAIL],
            Attribute::string("detail")
        );
    }

    #[test]
    fn a_body_near_the_limit_keeps_the_reason_and_shortens_the_detail() {
        let detail = "d".repeat(1000);
        let mut orig = Attributes::new();
        orig.insert("trace".into(), Attribute::string("t".repeat(100)));
        // Leave room for the reason and a short detail, not for the whole detail.
        let body = "x".repeat(MAX_MESSAGE_BYTES - 400);
        let msg = received(body.clone(), orig);
        let f = fit_dead_letter(&msg, Reason::DeleteRejected, &detail, SystemTime::now());
        let total = f.outgoing.body.len() + attributes_size(&f.outgoing.attributes);
        assert!(total <= MAX_MESSAGE_BYTES, "{total}");
        assert_eq!(f.outgoing.body, body, "the body is never touched");
        assert!(f.detail_shortened);
        assert_eq!(
            f.outgoing.attributes[ATTR_REASON],
            Attribute::string("delete_rejected")
        );
        let d = f.outgoing.attributes[ATTR_DETAIL]
            .string_value
            .clone()
            .unwrap();
        assert!(d.len() < 1000 && d.ends_with("..."), "{}", d.len());
    }

    #[test]
    fn a_body_at_the_limit_still_carries_the_reason() {
        let body = "x".repeat(MAX_MESSAGE_BYTES - 40);
        let mut orig = Attributes::new();
        orig.insert("trace".into(), Attribute::string("abc"));
        let msg = received(body, orig);
        let f = fit_dead_letter(&msg, Reason::RetriesExhausted, "detail", SystemTime::now());
        let total = f.outgoing.body.len() + attributes_size(&f.outgoing.attributes);
        assert!(total <= MAX_MESSAGE_BYTES, "{total}");
        assert_eq!(
            f.outgoing.attributes.get(ATTR_REASON),
            Some(&Attribute::string("retries_exhausted"))
        );
        assert_eq!(f.dropped, vec!["trace".to_string()]);
    }

    #[test]
    fn detail_is_cut_to_one_kib_on_a_char_boundary() {
        let long = "é".repeat(2000);
        let d = one_line(&long, MAX_DETAIL_BYTES);
        assert!(d.len() <= MAX_DETAIL_BYTES);
        assert!(d.ends_with("..."));
    }
}
