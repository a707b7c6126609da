//! Stale-object sweeps: under the lease, list everything under the prefix in each allowed bucket
//! and delete what is older than the max age, listing and deleting concurrently (see `scan`).
//!
//! | module | job |
//! |---|---|
//! | [`scan`] | the streaming list → DeleteObjects pipeline for one bucket |
//! | [`census`] | what a sweep leaves under the prefix (the `janitor_prefix_*` gauges) |
//! | [`lease`] | the S3 lease object (conditional writes) that makes replicas take turns |
//! | [`timer`] | the timer inside `run` |
//! | [`clock`] | wall clock, replaceable in tests |
//!
//! Both the timer and the one-shot `image-janitor sweep` take the lease, so a CronJob and the
//! in-daemon timers never sweep at the same time. A dry run writes nothing, not even the lease.

pub mod census;
pub mod clock;
pub mod command;
pub mod lease;
pub mod scan;
pub mod timer;

#[cfg(test)]
mod census_sweep_tests;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio_util::sync::CancellationToken;

use self::census::BucketCensus;
use self::clock::Clock;
use self::lease::{Acquired, Lease, LeaseError, LeaseTiming, Skip};
use self::scan::{Scan, ScanError};
use crate::config::SweepSettings;
use crate::s3url::LocationPolicy;
use crate::store::ObjectStore;
use crate::telemetry::events::{LeaseTrouble, SweepFinished, SweepLeaseTrouble, SweepOutcome};

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub scanned: u64,
    /// Deleted (or, in a dry run, would delete).
    pub deleted: u64,
    /// Objects S3 refused to delete (per-key errors), counted; the sweep went on.
    pub failed: u64,
    /// `Some` when the sweep did not run because of the lease (nothing scanned or deleted).
    pub skipped: Option<Skip>,
    /// What remains under the prefix, one entry per bucket whose scan completed, in sweep order.
    pub buckets: Vec<BucketCensus>,
}

/// Why a sweep failed.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Scan(#[from] ScanError),
    #[error(transparent)]
    Lease(#[from] LeaseError),
    /// Shutdown was requested mid-sweep (the lease was released; not an error outcome).
    #[error("sweep interrupted by shutdown")]
    Interrupted,
}

/// A failed sweep still reports what it did before it stopped.
#[derive(Debug, thiserror::Error)]
#[error("{error} (after deleting {} of {} objects scanned)", .partial.deleted, .partial.scanned)]
pub struct SweepFailure {
    pub partial: SweepReport,
    #[source]
    pub error: SweepError,
}

/// The parts of a sweep that are not settings: who we are, lease timings, the clock.
#[derive(Clone)]
pub struct Sweeper {
    pub store: Arc<dyn ObjectStore>,
    pub policy: LocationPolicy,
    pub settings: SweepSettings,
    pub holder: String,
    pub timing: LeaseTiming,
    pub clock: Clock,
}

impl Sweeper {
    pub fn new(
        store: Arc<dyn ObjectStore>,
        policy: LocationPolicy,
        settings: SweepSettings,
    ) -> Self {
        Sweeper {
            store,
            policy,
            holder: lease::holder_id(),
            timing: LeaseTiming::from_ttl(settings.lease_ttl),
            settings,
            clock: Clock::System,
        }
    }

    /// One sweep: take the lease (unless dry run), sweep every allowed bucket while renewing it,
    /// release it. `min_gap`: skip if a sweep completed less than this long ago.
    /// `stop` interrupts the sweep promptly (the lease is released without recording completion).
    pub async fn sweep(
        &self,
        min_gap: Option<Duration>,
        stop: &CancellationToken,
    ) -> Result<SweepReport, SweepFailure> {
        let fail = |error: SweepError| SweepFailure {
            partial: SweepReport::default(),
            error,
        };
        if self.settings.dry_run {
            return self.sweep_buckets(None, stop).await;
        }
        let store = self.store.as_ref();
        let acquired = lease::acquire(
            store,
            &self.settings.lease,
            &self.holder,
            self.timing,
            min_gap,
            self.clock,
        )
        .await
        .map_err(|e| fail(e.into()))?;
        let lease = match acquired {
            Acquired::Held(lease) => lease,
            Acquired::Skipped(why) => {
                tracing::info!(reason = %why, "sweep skipped");
                return Ok(SweepReport {
                    skipped: Some(why),
                    ..SweepReport::default()
                });
            }
        };
        tracing::debug!(holder = %self.holder, "sweeper lease taken");
        let mut lease = Some(lease);
        let result = self.sweep_buckets(lease.as_mut(), stop).await;
        let completed = result.is_ok();
        let lease = lease.take();
        match (lease, result) {
            // Lost: someone else holds it now; do not touch it.
            (_, Err(f)) if matches!(f.error, SweepError::Lease(LeaseError::Lost { .. })) => Err(f),
            (Some(lease), result) => {
                if let Err(e) = lease.release(store, completed).await {
                    SweepLeaseTrouble {
                        trouble: LeaseTrouble::ReleaseFailed,
                        error: &e,
                    }
                    .emit();
                }
                result
            }
            (None, result) => result,
        }
    }

    /// Sweep every allowed bucket in turn, renewing `lease` (if any) on its own schedule.
    async fn sweep_buckets(
        &self,
        mut lease: Option<&mut Lease>,
        stop: &CancellationToken,
    ) -> Result<SweepReport, SweepFailure> {
        let halt = stop.child_token();
        let cutoff = self
            .clock
            .now()
            .checked_sub(self.settings.max_age)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let work = async {
            let mut report = SweepReport::default();
            for bucket in self.policy.buckets() {
                let scan = Scan {
                    store: self.store.as_ref(),
                    policy: &self.policy,
                    bucket,
                    cutoff,
                    lease: &self.settings.lease,
                    dry_run: self.settings.dry_run,
                    halt: &halt,
                    clock: self.clock,
                };
                let (tally, err) = scan.run().await;
                report.scanned += tally.scanned;
                report.deleted += tally.deleted;
                report.failed += tally.failed;
                if let Some(e) = err {
                    return Err((report, e));
                }
                report.buckets.push(BucketCensus {
                    bucket: bucket.to_owned(),
                    census: tally.census,
                });
            }
            Ok(report)
        };
        tokio::pin!(work);
        let renew_every = self.timing.renew_every;
        let mut next_renewal = tokio::time::Instant::now() + renew_every;
        let mut lease_error: Option<LeaseError> = None;
        let outcome = loop {
            tokio::select! {
                r = &mut work => break r,
                _ = tokio::time::sleep_until(next_renewal), if lease.is_some() && lease_error.is_none() => {
                    next_renewal += renew_every;
                    if let Some(l) = lease.as_deref_mut() {
                        match l.renew(self.store.as_ref()).await {
                            Ok(()) => tracing::debug!("sweeper lease renewed"),
                            Err(e @ (LeaseError::Lost { .. } | LeaseError::Expired { .. })) => {
                                SweepLeaseTrouble { trouble: LeaseTrouble::Lost, error: &e }.emit();
                                lease_error = Some(e);
                                halt.cancel();
                            }
                            Err(e) => SweepLeaseTrouble { trouble: LeaseTrouble::RenewFailed, error: &e }.emit(),
                        }
                    }
                }
            }
        };
        match (outcome, lease_error) {
            (Ok(report), None) => Ok(report),
            (Ok(report), Some(e)) | (Err((report, ScanError::Halted)), Some(e)) => {
                Err(SweepFailure {
                    partial: report,
                    error: e.into(),
                })
            }
            (Err((report, ScanError::Halted)), None) => Err(SweepFailure {
                partial: report,
                error: SweepError::Interrupted,
            }),
            (Err((report, e)), _) => Err(SweepFailure {
                partial: report,
                error: e.into(),
            }),
        }
    }

    /// Run one sweep and emit its `SweepFinished` event. Returns the report (or failure) too.
    pub async fn sweep_and_report(
        &self,
        min_gap: Option<Duration>,
        stop: &CancellationToken,
    ) -> Result<SweepReport, SweepFailure> {
        let started = Instant::now();
        let result = self.sweep(min_gap, stop).await;
        let dry_run = self.settings.dry_run;
        let elapsed = started.elapsed();
        // Buckets whose scan completed, even if a later one failed; never a partial listing.
        let completed = match &result {
            Ok(r) => &r.buckets,
            Err(f) => &f.partial.buckets,
        };
        for census in completed {
            census.emit(dry_run);
        }
        match outcome(&result) {
            Some((outcome, done)) => SweepFinished {
                outcome,
                scanned: done.scanned,
                deleted: done.deleted,
                elapsed,
                dry_run,
            }
            .emit(),
            None => {
                if let Err(f) = &result {
                    tracing::info!(
                        scanned = f.partial.scanned,
                        deleted = f.partial.deleted,
                        "sweep interrupted by shutdown; lease released"
                    );
                }
            }
        }
        result
    }
}

/// How a sweep ended, and the report of what it did (`None`: interrupted by shutdown, which is
/// no outcome: the sweep simply did not finish). Some objects refused is an `error` outcome
/// although the sweep went on: an operator has something to fix.
pub fn outcome(result: &Result<SweepReport, SweepFailure>) -> Option<(SweepOutcome, &SweepReport)> {
    match result {
        Ok(r) if r.skipped.is_some() => Some((SweepOutcome::Skipped, r)),
        Ok(r) if r.failed > 0 => {
            let why = format!(
                "{} objects could not be deleted (see the warnings above)",
                r.failed
            );
            Some((SweepOutcome::Failed(why), r))
        }
        Ok(r) => Some((SweepOutcome::Ok, r)),
        Err(f) if matches!(f.error, SweepError::Interrupted) => None,
        Err(f) => Some((SweepOutcome::Failed(f.error.to_string()), &f.partial)),
    }
}

/// One sweep over every allowed bucket, under the lease (the one-shot `image-janitor sweep`),
/// interrupted (lease released) when `shutdown` resolves. A sweep skipped because another
/// replica holds the lease returns a report with `skipped` set and nothing scanned.
pub async fn sweep_until(
    store: Arc<dyn ObjectStore>,
    policy: &LocationPolicy,
    settings: &SweepSettings,
    shutdown: impl Future<Output = ()>,
) -> Result<SweepReport, SweepFailure> {
    let sweeper = Sweeper::new(store, policy.clone(), settings.clone());
    let stop = CancellationToken::new();
    let sweep = sweeper.sweep_and_report(None, &stop);
    tokio::pin!(sweep);
    tokio::pin!(shutdown);
    tokio::select! {
        r = &mut sweep => r,
        _ = &mut shutdown => {
            stop.cancel();
            sweep.await
        }
    }
}
