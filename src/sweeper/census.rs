//! What a sweep leaves under the prefix of one bucket: objects, bytes, the oldest, and the stale
//! ones it could not delete — the accounting behind the `janitor_prefix_*` gauges.
//!
//! Why "what remains" rather than "what was listed": the gauges answer "is cleanup working?".
//! Objects the sweep deleted are gone, so counting them would keep the oldest age above the max
//! age right after a sweep that removed everything stale. The census is therefore the listing
//! minus what S3 confirmed deleted: fresh objects, stale ones that were refused or kept failing,
//! everything in a dry run, and objects without `LastModified` (never deleted, see below). The
//! sweeper's own lease object is not an image and is never counted.

use std::time::{Duration, SystemTime};

use crate::telemetry::events::PrefixObserved;

/// A group of objects: how many, their total size, the oldest known `LastModified`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Heap {
    pub objects: u64,
    pub bytes: u64,
    /// `None` when the group is empty or no member has a `LastModified`.
    pub oldest: Option<SystemTime>,
}

impl Heap {
    /// Count one object (`modified` = `None` for an object listed without `LastModified`).
    pub fn add(&mut self, size: u64, modified: Option<SystemTime>) {
        self.objects += 1;
        self.bytes = self.bytes.saturating_add(size);
        self.oldest = older(self.oldest, modified);
    }

    pub fn merge(&mut self, other: &Heap) {
        self.objects += other.objects;
        self.bytes = self.bytes.saturating_add(other.bytes);
        self.oldest = older(self.oldest, other.oldest);
    }
}

fn older(a: Option<SystemTime>, b: Option<SystemTime>) -> Option<SystemTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// What one bucket's scan left under the prefix. Complete only when `listed_at` is set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Census {
    /// Listed and not confirmed deleted.
    pub remaining: Heap,
    /// Of `remaining`, those older than the max age (refused, failed after retries, dry run).
    pub stale_remaining: u64,
    /// Of `remaining`, those listed without `LastModified`: skipped, their age unknown.
    pub undated: u64,
    /// When the listing finished (the sweeper's clock); `None` if it did not finish.
    pub listed_at: Option<SystemTime>,
}

impl Census {
    /// Age of the oldest remaining object when the listing finished; zero when none is dated
    /// (or its `LastModified` is ahead of our clock).
    pub fn oldest_age(&self) -> Duration {
        match (self.listed_at, self.remaining.oldest) {
            (Some(at), Some(oldest)) => at.duration_since(oldest).unwrap_or(Duration::ZERO),
            _ => Duration::ZERO,
        }
    }
}

/// One bucket's census as the sweep report carries it (only buckets whose scan completed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketCensus {
    pub bucket: String,
    pub census: Census,
}

impl BucketCensus {
    /// Set the `janitor_prefix_*` gauges of this bucket (see docs/metrics.md).
    pub fn emit(&self, dry_run: bool) {
        let c = &self.census;
        PrefixObserved {
            bucket: &self.bucket,
            objects: c.remaining.objects,
            bytes: c.remaining.bytes,
            oldest_age: c.oldest_age(),
            stale_remaining: c.stale_remaining,
            undated: c.undated,
            listed_at: c.listed_at.unwrap_or(SystemTime::UNIX_EPOCH),
            dry_run,
        }
        .emit();
    }

    /// The one-shot `sweep`'s per-bucket line, printed before its last line, e.g.
    /// `s3://b/keep-images/: 3 objects, 48 bytes remain; oldest 2h 5m; 0 stale not deleted`.
    pub fn summary_line(&self, prefix: &str) -> String {
        let c = &self.census;
        let age = humantime::format_duration(Duration::from_secs(c.oldest_age().as_secs()));
        let mut line = format!(
            "s3://{}/{}: {} objects, {} bytes remain; oldest {}; {} stale not deleted",
            self.bucket, prefix, c.remaining.objects, c.remaining.bytes, age, c.stale_remaining
        );
        if c.undated > 0 {
            line.push_str(&format!("; {} without LastModified skipped", c.undated));
        }
        line
    }
}

#[cfg(test)]
#[path = "census_tests.rs"]
mod tests;
