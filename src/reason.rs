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
    pub detail: String,
}

impl Rejection {
    pub fn new(reason: Reason, detail: impl Into<String>) -> Self {
        Rejection {
            reason,
            detail: detail.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for r in Reason::ALL {
            assert_eq!(Reason::parse(r.as_str()), Some(r));
        }
        assert_eq!(Reason::parse("nope"), None);
    }
}
