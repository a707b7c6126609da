//! Image URL → `ObjectRef { bucket, key }` (CONTRACT §2) and the bucket/prefix location policy (§3); pure, no I/O.
//!
//! URLs are split by hand on the raw string rather than with the `url` crate:
//! `url` normalises `.`/`..` segments and re-encodes characters, which would
//! hide exactly the keys we must refuse.
//!
//! Details quote URLs only through [`crate::redact`]: a presigned URL's query (its
//! signature, credential and token) and any userinfo never reach a detail, even when the URL
//! is malformed or cut at 200 characters.
//!
//! One idea per file: [`parse`] (the accepted URL forms), [`endpoint`] (the configured
//! emulator endpoint, scheme and authority), [`key`] (key rules and percent-decoding),
//! [`bucket`] (the one bucket-name rule, also used by config), [`policy`] (where deletion is
//! allowed) and [`quote`] (how details quote a URL or key).

use std::fmt;

mod bucket;
mod endpoint;
mod key;
mod parse;
mod policy;
mod quote;

pub use bucket::{valid_bucket_name, validate_bucket};
pub use endpoint::S3Endpoint;
pub use key::validate_key;
pub use parse::parse_url;
pub use policy::LocationPolicy;
pub(crate) use quote::quote;

/// The longest key S3 accepts, in bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 1024;

/// One S3 object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    pub bucket: String,
    pub key: String,
}

impl ObjectRef {
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        ObjectRef {
            bucket: bucket.into(),
            key: key.into(),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

#[cfg(test)]
mod tests;
