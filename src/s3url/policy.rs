//! `JANITOR_BUCKETS` + `JANITOR_PREFIX` (CONTRACT §3): where deletion is allowed.

use std::collections::BTreeSet;

use super::quote::{quote, truncate};
use super::ObjectRef;
use crate::redact;

/// `JANITOR_BUCKETS` + `JANITOR_PREFIX` (CONTRACT §3): where deletion is allowed.
#[derive(Debug, Clone)]
pub struct LocationPolicy {
    buckets: BTreeSet<String>,
    prefix: String,
    /// Objects never deleted even when bucket and prefix allow them: the sweeper's lease
    /// (which lies under the prefix when `JANITOR_PREFIX` is empty).
    excluded: Vec<ObjectRef>,
}

impl LocationPolicy {
    /// Bucket names are taken as given (trimming and splitting is config's job).
    pub fn new(buckets: impl IntoIterator<Item = String>, prefix: impl Into<String>) -> Self {
        LocationPolicy {
            buckets: buckets.into_iter().collect(),
            prefix: prefix.into(),
            excluded: Vec::new(),
        }
    }

    /// The same policy, refusing `obj` as well.
    pub fn excluding(mut self, obj: ObjectRef) -> Self {
        if !self.excluded.contains(&obj) {
            self.excluded.push(obj);
        }
        self
    }

    /// Bucket in the set and key starting with the prefix (bytewise; an empty prefix allows every key).
    pub fn allows(&self, obj: &ObjectRef) -> bool {
        self.buckets.contains(&obj.bucket)
            && obj.key.starts_with(&self.prefix)
            && !self.excluded.contains(obj)
    }

    /// Like [`allows`](Self::allows); `Err` names the rule that failed (→ `forbidden_location`).
    pub fn check(&self, obj: &ObjectRef) -> Result<(), String> {
        if !self.buckets.contains(&obj.bucket) {
            let allowed: Vec<&str> = self.buckets().collect();
            return Err(format!(
                "bucket {} is not in JANITOR_BUCKETS ({})",
                quote(&obj.bucket),
                truncate(&allowed.join(","))
            ));
        }
        if !obj.key.starts_with(&self.prefix) {
            return Err(format!(
                "key {} in bucket {} does not start with JANITOR_PREFIX {}",
                // An s3:// key is taken literally, so it may end in what was meant as a query.
                quote(&redact::query(&obj.key)),
                quote(&obj.bucket),
                quote(&self.prefix)
            ));
        }
        if self.excluded.contains(obj) {
            return Err(format!(
                "key {} in bucket {} is the sweeper's lease object; it is never deleted",
                quote(&obj.key),
                quote(&obj.bucket)
            ));
        }
        Ok(())
    }

    /// The allowed buckets, sorted.
    pub fn buckets(&self) -> impl Iterator<Item = &str> {
        self.buckets.iter().map(String::as_str)
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
