//! RFC 3339 UTC timestamps, the one home for formatting and parsing them: `janitor.failed_at`
//! and `published_at` (whole seconds, as CONTRACT §4 shows them) and the sweeper's lease body
//! (full precision, so that what is read back is what was written).

use std::time::SystemTime;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// What an unrepresentable time (before 1970, or past year 9999) is written as.
const EPOCH: &str = "1970-01-01T00:00:00Z";

/// `2026-11-26T03:00:00Z`: whole seconds, UTC (`janitor.failed_at`, `published_at`).
pub fn rfc3339(t: SystemTime) -> String {
    format(t, false)
}

/// `2026-11-26T03:00:00.25Z`: UTC with the sub-second part kept (the lease body).
pub fn rfc3339_precise(t: SystemTime) -> String {
    format(t, true)
}

/// Any RFC 3339 timestamp (any offset); `None` when it is not one.
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(SystemTime::from)
}

fn format(t: SystemTime, precise: bool) -> String {
    let Ok(since) = t.duration_since(SystemTime::UNIX_EPOCH) else {
        return EPOCH.to_owned();
    };
    let nanos = if precise {
        i128::try_from(since.as_nanos()).unwrap_or(i128::MAX)
    } else {
        i128::from(since.as_secs()) * 1_000_000_000
    };
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| EPOCH.to_owned())
}

#[cfg(test)]
#[path = "timestamp_tests.rs"]
mod tests;
