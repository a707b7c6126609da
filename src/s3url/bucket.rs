//! The one bucket-name rule, shared by image URLs and `JANITOR_BUCKETS` / the lease bucket
//! (config): a name config accepts is a name a URL may carry, and the other way round.

use super::quote::quote;
use crate::redact;

/// 3..=63 of `[a-z0-9.-]`, starting and ending with a letter or digit, no `..`.
pub fn valid_bucket_name(bucket: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = bucket.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes.iter().all(|&b| alnum(b) || b == b'.' || b == b'-')
        && bytes.first().copied().is_some_and(alnum)
        && bytes.last().copied().is_some_and(alnum)
        && !bucket.contains("..")
}

/// [`valid_bucket_name`], with a detail line quoting the (redacted) name (→ `invalid_url`).
pub fn validate_bucket(bucket: &str) -> Result<(), String> {
    if valid_bucket_name(bucket) {
        Ok(())
    } else {
        Err(format!(
            "invalid bucket name {} (3 to 63 of a-z 0-9 . -, starting and ending with a letter or digit, no \"..\")",
            quote(&redact::url(bucket))
        ))
    }
}

#[cfg(test)]
#[path = "bucket_tests.rs"]
mod tests;
