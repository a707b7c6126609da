//! Events of the sweeper: how a sweep ended, its listing and delete trouble, its lease, and
//! what remains under the prefix.

use std::time::{Duration, SystemTime};

use crate::aws_error::AwsError;
use crate::telemetry::metrics as m;

/// How a sweep ended (the `outcome` label of `janitor_sweeps_total`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SweepOutcome {
    /// Every allowed bucket was swept and every stale object deleted.
    Ok,
    /// Not run: another replica held the lease, or a sweep completed recently.
    Skipped,
    /// The sweep stopped early, or some objects could not be deleted: why.
    Failed(String),
}

impl SweepOutcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            SweepOutcome::Ok => "ok",
            SweepOutcome::Skipped => "skipped",
            SweepOutcome::Failed(_) => "error",
        }
    }
}

/// A sweep ended.
pub struct SweepFinished {
    pub outcome: SweepOutcome,
    pub scanned: u64,
    pub deleted: u64,
    pub elapsed: Duration,
    pub dry_run: bool,
}

impl SweepFinished {
    pub fn emit(&self) {
        let outcome = self.outcome.as_str();
        match &self.outcome {
            SweepOutcome::Failed(error) => tracing::error!(
                scanned = self.scanned,
                deleted = self.deleted,
                error = error.as_str(),
                elapsed_ms = self.elapsed.as_millis() as u64,
                "sweep failed"
            ),
            SweepOutcome::Ok | SweepOutcome::Skipped => tracing::info!(
                outcome,
                scanned = self.scanned,
                deleted = self.deleted,
                dry_run = self.dry_run,
                elapsed_ms = self.elapsed.as_millis() as u64,
                "sweep finished"
            ),
        }
        metrics::counter!(m::SWEEPS, "outcome" => outcome).increment(1);
        metrics::counter!(m::SWEEP_SCANNED).increment(self.scanned);
        if self.outcome != SweepOutcome::Skipped {
            metrics::histogram!(m::SWEEP_DURATION).record(self.elapsed.as_secs_f64());
        }
        if self.outcome == SweepOutcome::Ok {
            let now = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0);
            metrics::gauge!(m::SWEEP_LAST_SUCCESS).set(now);
        }
    }
}

/// A page of the sweeper's listing failed transiently; it is asked for again after `retry_in`.
pub struct SweepListRetried<'a> {
    pub bucket: &'a str,
    pub error: &'a AwsError,
    pub retry_in: Duration,
}

impl SweepListRetried<'_> {
    pub fn emit(&self) {
        let e = self.error;
        tracing::warn!(
            bucket = self.bucket,
            code = %e.code,
            request_id = e.request_id.as_deref(),
            error = %e.message,
            retry_in_ms = self.retry_in.as_millis() as u64,
            "sweeper: listing failed; retrying"
        );
    }
}

/// S3 refused to delete one stale object (per-key error of a DeleteObjects); the sweep goes on.
pub struct SweepDeleteRefused<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub error: &'a AwsError,
}

impl SweepDeleteRefused<'_> {
    pub fn emit(&self) {
        let e = self.error;
        tracing::warn!(
            bucket = self.bucket,
            key = self.key,
            code = %e.code,
            request_id = e.request_id.as_deref(),
            error = %e.message,
            "sweeper: delete refused"
        );
    }
}

/// Stale objects whose deletes still failed transiently after the sweeper's retries.
pub struct SweepKeysStillFailing<'a> {
    pub bucket: &'a str,
    pub keys: usize,
}

impl SweepKeysStillFailing<'_> {
    pub fn emit(&self) {
        tracing::warn!(
            bucket = self.bucket,
            keys = self.keys,
            "sweeper: keys still failing after retries"
        );
    }
}

/// The sweeper's lease could not be renewed (`lost`: another replica has it, or it expired,
/// and the sweep stops; otherwise it is tried again) or released (it expires on its own).
pub struct SweepLeaseTrouble<'a> {
    pub trouble: LeaseTrouble,
    /// The lease error, whole (it names the lease object and the AWS error).
    pub error: &'a dyn std::fmt::Display,
}

/// What went wrong with the sweeper's lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseTrouble {
    Lost,
    RenewFailed,
    ReleaseFailed,
}

impl SweepLeaseTrouble<'_> {
    pub fn emit(&self) {
        let error = self.error;
        match self.trouble {
            LeaseTrouble::Lost => {
                tracing::warn!(error = %error, "sweeper lease lost; stopping the sweep")
            }
            LeaseTrouble::RenewFailed => {
                tracing::warn!(error = %error, "sweeper lease renewal failed; will retry")
            }
            LeaseTrouble::ReleaseFailed => tracing::warn!(
                error = %error,
                "could not release the sweeper lease; it expires on its own"
            ),
        }
    }
}

/// A sweep finished with one bucket (its listing complete): what remains under the prefix.
/// Sets the `janitor_prefix_*` gauges; the only label is the bucket.
pub struct PrefixObserved<'a> {
    pub bucket: &'a str,
    pub objects: u64,
    pub bytes: u64,
    /// Age of the oldest remaining object when the listing finished (0 when none).
    pub oldest_age: Duration,
    /// Objects older than the max age that the sweep saw and did not delete.
    pub stale_remaining: u64,
    /// Objects listed without `LastModified` (skipped; counted in `objects`).
    pub undated: u64,
    /// When the listing finished.
    pub listed_at: SystemTime,
    pub dry_run: bool,
}

impl PrefixObserved<'_> {
    pub fn emit(&self) {
        let at = self
            .listed_at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        tracing::info!(
            bucket = self.bucket,
            objects = self.objects,
            bytes = self.bytes,
            oldest_age_s = self.oldest_age.as_secs(),
            stale_remaining = self.stale_remaining,
            undated = self.undated,
            dry_run = self.dry_run,
            "prefix census"
        );
        let bucket = self.bucket.to_owned();
        metrics::gauge!(m::PREFIX_OBJECTS, "bucket" => bucket.clone()).set(self.objects as f64);
        metrics::gauge!(m::PREFIX_BYTES, "bucket" => bucket.clone()).set(self.bytes as f64);
        metrics::gauge!(m::PREFIX_OLDEST_AGE, "bucket" => bucket.clone())
            .set(self.oldest_age.as_secs_f64());
        metrics::gauge!(m::PREFIX_STALE_REMAINING, "bucket" => bucket.clone())
            .set(self.stale_remaining as f64);
        metrics::gauge!(m::PREFIX_SCAN_TIMESTAMP, "bucket" => bucket).set(at);
    }
}
