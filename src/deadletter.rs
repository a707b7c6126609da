//! Dead-lettering (CONTRACT §4): send the original body, byte for byte, with the original
//! attributes plus `janitor.*` to the DLQ, then delete it from the main queue.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use backon::Retryable;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::queue::{Attribute, Attributes, Outgoing, Queue, Received};
use crate::reason::Reason;
use crate::retry::AwsError;
use crate::telemetry::events::MessageDeadLettered;

pub const ATTR_REASON: &str = "janitor.reason";
pub const ATTR_DETAIL: &str = "janitor.detail";
pub const ATTR_ATTEMPTS: &str = "janitor.attempts";
pub const ATTR_FAILED_AT: &str = "janitor.failed_at";
pub const ATTR_PREFIX: &str = "janitor.";

/// SQS allows at most 10 message attributes per message.
pub const MAX_ATTRIBUTES: usize = 10;
/// `janitor.detail` is at most this many bytes.
pub const MAX_DETAIL_BYTES: usize = 1024;

/// One line of at most 1 KiB, cut on a character boundary.
pub fn one_line_detail(detail: &str) -> String {
    let flat: String = detail
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.len() <= MAX_DETAIL_BYTES {
        return flat;
    }
    let mut end = MAX_DETAIL_BYTES - 3;
    while !flat.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &flat[..end])
}

/// RFC 3339 UTC timestamp, second precision (`2026-11-26T03:00:00Z`).
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    OffsetDateTime::from_unix_timestamp(secs as i64)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

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
        Attribute::string(one_line_detail(detail)),
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

    /// Dead-letter `msg`. Send first (retried on transient errors), then delete from the main
    /// queue: a crash in between duplicates the message into the DLQ, never loses it.
    pub async fn dead_letter(
        &self,
        msg: &Received,
        page_id: Option<&str>,
        reason: Reason,
        detail: &str,
    ) -> Result<(), AwsError> {
        let (attributes, dropped) = dead_letter_attributes(
            &msg.attributes,
            reason,
            detail,
            msg.receive_count,
            SystemTime::now(),
        );
        if !dropped.is_empty() {
            tracing::warn!(message_id = %msg.message_id, ?dropped, "SQS allows 10 attributes: originals dropped from the dead-lettered copy");
        }
        let out = Outgoing {
            body: msg.body.clone(),
            attributes,
        };
        (|| self.dlq.send(&out))
            .retry(short_retry())
            .when(|e: &AwsError| e.is_transient())
            .await?;
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
            tracing::warn!(message_id = %msg.message_id, code = %e.code, "dead-lettered but not deleted from the main queue");
            return Err(e);
        }
        Ok(())
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

    #[test]
    fn detail_is_cut_to_one_kib_on_a_char_boundary() {
        let long = "é".repeat(2000);
        let d = one_line_detail(&long);
        assert!(d.len() <= MAX_DETAIL_BYTES);
        assert!(d.ends_with("..."));
    }
}
