//! Why a message was dead-lettered: the machine-readable `janitor.reason` values of CONTRACT §4.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    InvalidJson,
    InvalidMessage,
    UnsupportedVersion,
    InvalidUrl,
    ForbiddenLocation,
    DeleteRejected,
    RetriesExhausted,
}

impl Reason {
    pub const ALL: [Reason; 7] = [
        Reason::InvalidJson,
        Reason::InvalidMessage,
        Reason::UnsupportedVersion,
        Reason::InvalidUrl,
        Reason::ForbiddenLocation,
        Reason::DeleteRejected,
        Reason::RetriesExhausted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::InvalidJson => "invalid_json",
            Reason::InvalidMessage => "invalid_message",
            Reason::UnsupportedVersion => "unsupported_version",
            Reason::InvalidUrl => "invalid_url",
            Reason::ForbiddenLocation => "forbidden_location",
            Reason::DeleteRejected => "delete_rejected",
            Reason::RetriesExhausted => "retries_exhausted",
        }
    }

    pub fn parse(s: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A permanent refusal of a whole message: the reason plus one line of detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub reason: Reason,
    /// Redacted, one line, at most [`MAX_DETAIL_BYTES`]: see [`Rejection::new`].
    pub detail: String,
}

impl Rejection {
    /// The detail becomes what `janitor.detail`, the logs and the audit trail may show: URL
    /// queries, fragments and userinfo redacted ([`crate::redact::text`]), control characters
    /// turned into spaces, then cut to [`MAX_DETAIL_BYTES`] on a character boundary. Redacted
    /// before it is cut, so a cut never leaves part of a secret behind.
    pub fn new(reason: Reason, detail: impl Into<String>) -> Self {
        let detail: String = detail.into();
        Rejection {
            reason,
            detail: clamp(crate::redact::text(&detail).as_ref()),
        }
    }
}

/// `janitor.detail` is at most this many bytes (CONTRACT §4).
pub const MAX_DETAIL_BYTES: usize = 1024;

/// One line of at most [`MAX_DETAIL_BYTES`], cut on a character boundary and marked `...`.
fn clamp(detail: &str) -> String {
    one_line(detail, MAX_DETAIL_BYTES)
}

/// Control characters turned into spaces, then at most `max` bytes (`max` ≥ 3), cut on a
/// character boundary and marked `...` when cut. The one truncator for `janitor.detail`.
pub fn one_line(detail: &str, max: usize) -> String {
    let mut line: String = detail
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if line.len() > max {
        let mut cut = max.saturating_sub(3);
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line.truncate(cut);
        line.push_str("...");
    }
    line
}

#[cfg(test)]
#[path = "reason_tests.rs"]
mod tests;
