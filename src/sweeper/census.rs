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
mod tests {
    use super::*;

    fn t(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn heaps_count_sum_and_keep_the_oldest_dated_member() {
        let mut a = Heap::default();
        a.add(10, Some(t(500)));
        a.add(5, None);
        a.add(1, Some(t(300)));
        assert_eq!((a.objects, a.bytes, a.oldest), (3, 16, Some(t(300))));
        let mut b = Heap::default();
        b.add(7, None);
        assert_eq!(b.oldest, None, "an undated object has no age");
        b.merge(&a);
        assert_eq!((b.objects, b.bytes, b.oldest), (4, 23, Some(t(300))));
        let mut c = Heap::default();
        c.add(1, Some(t(100)));
        b.merge(&c);
        assert_eq!(b.oldest, Some(t(100)));
    }

    #[test]
    fn oldest_age_is_zero_for_an_empty_prefix_or_a_clock_behind_the_object() {
        let mut c = Census {
            listed_at: Some(t(1000)),
            ..Census::default()
        };
        assert_eq!(c.oldest_age(), Duration::ZERO);
        c.remaining.add(1, Some(t(400)));
        assert_eq!(c.oldest_age(), Duration::from_secs(600));
        c.listed_at = Some(t(100));
        assert_eq!(c.oldest_age(), Duration::ZERO);
    }

    #[test]
    fn summary_line_names_the_location_and_every_figure() {
        let mut census = Census {
            listed_at: Some(t(10_000)),
            stale_remaining: 2,
            ..Census::default()
        };
        census.remaining.add(40, Some(t(10_000 - 7530)));
        census.remaining.add(8, Some(t(9_999)));
        let b = BucketCensus {
            bucket: "imgs".into(),
            census,
        };
        assert_eq!(
            b.summary_line("keep-images/"),
            "s3://imgs/keep-images/: 2 objects, 48 bytes remain; oldest 2h 5m 30s; 2 stale not deleted"
        );
        let mut undated = b.clone();
        undated.census.undated = 1;
        assert!(undated
            .summary_line("p/")
            .ends_with("; 1 without LastModified skipped"));
    }
}
