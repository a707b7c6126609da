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
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for r in Reason::ALL {
            assert_eq!(Reason::parse(r.as_str()), Some(r));
        }
        assert_eq!(Reason::parse("nope"), None);
    }

    const SECRET: &str = "9f8e7d6c5b4a39281706f5e4d3c2b1a0ffeeddccbbaa99887766554433221100";

    /// No window of 6 characters of the secret survives.
    fn holds_part_of_secret(s: &str) -> bool {
        SECRET
            .as_bytes()
            .windows(6)
            .any(|w| s.contains(std::str::from_utf8(w).unwrap_or("?")))
    }

    #[test]
    fn details_are_redacted_before_they_are_cut() {
        let url = |pad: usize| {
            format!(
                "images[0]: invalid percent-encoding: \"https://b.s3.amazonaws.com/{}%zz?X-Amz-Security-Token={SECRET}&X-Amz-Signature={SECRET}\"",
                "k".repeat(pad)
            )
        };
        // Every position of the cut relative to the query: before it, inside the marker, inside
        // either secret (a cut-then-redact would leave a prefix of the token there), after it.
        let mut cuts_in_query = 0;
        let mut cut_first_too_long = 0;
        for pad in 850..1010 {
            let raw = url(pad);
            let r = Rejection::new(Reason::InvalidUrl, raw.clone());
            assert!(
                r.detail.len() <= MAX_DETAIL_BYTES,
                "{pad}: {}",
                r.detail.len()
            );
            assert!(!holds_part_of_secret(&r.detail), "{pad}: {}", r.detail);
            let query_at = raw.find('?').unwrap_or(raw.len());
            if (query_at + 1..raw.len()).contains(&(MAX_DETAIL_BYTES - 3)) {
                // A cut of the raw detail would fall inside the query.
                cuts_in_query += 1;
            }
            if query_at + 2 < MAX_DETAIL_BYTES - 3 {
                // The marker (or the cut part of it) shows where the query was.
                assert!(r.detail.contains("?<"), "{pad}: {}", r.detail);
            }
            // Cut first, then redacted: a short cut query grows into the marker, past 1 KiB.
            if crate::redact::text(&clamp(&raw)).len() > MAX_DETAIL_BYTES {
                cut_first_too_long += 1;
            }
        }
        assert!(
            cuts_in_query > 100,
            "the table must put the cut inside the secrets"
        );
        assert!(cut_first_too_long > 0);
        let r = Rejection::new(Reason::InvalidUrl, url(10));
        assert!(r.detail.ends_with("%zz?<redacted>\""), "{}", r.detail);
    }

    #[test]
    fn details_are_one_line_and_bounded() {
        let r = Rejection::new(
            Reason::DeleteRejected,
            format!("a\nb\r{}", "日".repeat(1000)),
        );
        assert!(r.detail.starts_with("a b "), "{}", r.detail);
        assert!(r.detail.ends_with("...") && r.detail.len() <= MAX_DETAIL_BYTES);
        let short = Rejection::new(Reason::DeleteRejected, "s3://b/k: AccessDenied");
        assert_eq!(short.detail, "s3://b/k: AccessDenied");
    }

    #[test]
    fn names_are_the_contracts() {
        let names: Vec<String> = Reason::ALL.iter().map(ToString::to_string).collect();
        assert_eq!(
            names,
            [
                "invalid_json",
                "invalid_message",
                "unsupported_version",
                "invalid_url",
                "forbidden_location",
                "delete_rejected",
                "retries_exhausted",
            ]
        );
    }

    #[test]
    fn one_line_cuts_only_past_max_and_on_a_character_boundary() {
        assert_eq!(one_line("abcdef", 6), "abcdef", "exactly max: kept");
        assert_eq!(one_line("abcdefg", 6), "abc...");
        // "日" is 3 bytes: a cut at byte 4 backs up to the boundary at 3.
        assert_eq!(one_line("日日日", 7), "日...");
        assert_eq!(one_line("a\tb", 10), "a b");
    }
}
