//! The dead-letter queue as an operator tool: `dlq peek` and `dlq replay` (CONTRACT §4, §5).
//!
//! | module | job |
//! |---|---|
//! | [`scan`] | receive distinct messages, hold them hidden, make them visible again at the end |
//! | [`peek`] | read up to N messages and leave them in place |
//! | [`replay`] | send to the target queue first, then delete from the DLQ only what was sent |
//! | [`pace`] | the `--rate` limiter |
//! | [`render`] | table / JSON lines / summary text (pure, no I/O) |
//! | [`progress`] | progress bar on a terminal, plain lines otherwise |
//! | [`command`] | the CLI entry points: AWS clients, DLQ resolution, printing, exit codes |

pub mod command;
pub mod pace;
pub mod peek;
pub mod progress;
pub mod render;
pub mod replay;
pub mod scan;

use crate::aws_error::AwsError;
use crate::deadletter::{
    strip_janitor_attributes, ATTR_ATTEMPTS, ATTR_DETAIL, ATTR_FAILED_AT, ATTR_REASON,
};
use crate::queue::{Attributes, Received};
use crate::reason::Reason;

/// A DLQ operation failed as a whole (not one entry of a batch).
#[derive(Debug, Clone, thiserror::Error)]
pub enum DlqError {
    #[error("cannot read the depth of the dead-letter queue: {0}")]
    Depth(#[source] AwsError),
    #[error("cannot receive from the dead-letter queue: {0}")]
    Receive(#[source] AwsError),
    #[error("cannot send to the target queue: {0}")]
    Send(#[source] AwsError),
}

/// What an operator wants to know about one dead-lettered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DlqMessage {
    pub message_id: String,
    /// `janitor.reason`; `None` when SQS itself moved the message (maxReceiveCount).
    pub reason: Option<String>,
    pub detail: Option<String>,
    pub attempts: Option<u32>,
    pub failed_at: Option<String>,
    /// From the body, when it parses as a page.created message (SNS envelope unwrapped).
    pub page_id: Option<String>,
    /// From the body, when it parses; empty otherwise.
    pub image_urls: Vec<String>,
    /// The raw body, byte for byte.
    pub body: String,
    /// The message attributes without any `janitor.*`: what a replay forwards.
    pub original_attributes: Attributes,
}

impl DlqMessage {
    pub fn from_received(m: &Received) -> Self {
        let text = |name: &str| m.attributes.get(name).and_then(|a| a.string_value.clone());
        let parsed = crate::message::parse_body(m.body.as_bytes()).ok();
        DlqMessage {
            message_id: m.message_id.clone(),
            reason: text(ATTR_REASON),
            detail: text(ATTR_DETAIL),
            attempts: text(ATTR_ATTEMPTS).and_then(|v| v.trim().parse().ok()),
            failed_at: text(ATTR_FAILED_AT),
            page_id: parsed.as_ref().and_then(|p| p.page_id.clone()),
            image_urls: parsed.map(|p| p.image_urls).unwrap_or_default(),
            body: m.body.clone(),
            original_attributes: strip_janitor_attributes(&m.attributes),
        }
    }

    /// Whether `--reason` lets this message through: no filter = every message.
    pub fn matches(&self, reasons: &[Reason]) -> bool {
        reasons.is_empty()
            || self
                .reason
                .as_deref()
                .and_then(Reason::parse)
                .is_some_and(|r| reasons.contains(&r))
    }
}

#[cfg(test)]
mod tests;
