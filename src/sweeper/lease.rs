//! The sweeper lease: one small JSON object in S3, written only with conditional writes, so that
//! many replicas sweep once per interval between them rather than once each.
//!
//! Protocol (all writes conditional, so two replicas can never both believe they hold it):
//! - always try to create it first, with `If-None-Match: *`; only a 412 (it exists) leads to a
//!   read. Never read first: S3 answers a GetObject of a *missing* key with 404 only to a caller
//!   that may list the bucket without a prefix condition; the shipped IAM grants ListBucket only
//!   under `s3:prefix`, so on a fresh bucket that read is a 403 AccessDenied and the sweeper
//!   would never run (issue 10, item 1). The cost: one extra PutObject (412) per later sweep;
//! - present, expired (or our own), and no sweep completed within `min_gap` → take over with
//!   `If-Match: <etag we read>`; otherwise skip;
//! - while sweeping, renew (`If-Match`) every `renew_every`, pushing `expires_at` to now + `ttl`;
//!   a failed precondition means another replica took it: the lease is lost and the sweep stops;
//! - at the end, release: `expires_at = now`, and `last_completed_at = now` when the sweep
//!   completed. The object is kept (not deleted) because `last_completed_at` is what lets the
//!   other replicas skip until the next interval.

use std::fmt;
use std::time::{Duration, SystemTime};

use backon::{BackoffBuilder, Retryable};
use serde::{Deserialize, Serialize};

use super::clock::Clock;
use crate::aws_error::AwsError;
use crate::config::LeaseLocation;
use crate::store::{CondPut, ObjectStore};
use crate::timestamp::{parse_rfc3339, rfc3339_precise};

/// Lease timings.
#[derive(Debug, Clone, Copy)]
pub struct LeaseTiming {
    /// How long a lease stays live without renewal (a crashed holder blocks others this long).
    pub ttl: Duration,
    /// How often a holder renews while sweeping.
    pub renew_every: Duration,
}

impl LeaseTiming {
    /// The timing for a TTL (`JANITOR_SWEEP_LEASE_TTL`): renew every quarter of it, so a holder
    /// gets three tries before the lease can lapse under it.
    pub fn from_ttl(ttl: Duration) -> Self {
        LeaseTiming {
            ttl,
            renew_every: ttl / 4,
        }
    }
}

impl Default for LeaseTiming {
    /// TTL 2 min, renewed every 30 s.
    fn default() -> Self {
        LeaseTiming::from_ttl(crate::config::DEFAULT_LEASE_TTL)
    }
}

/// A lease operation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LeaseError {
    /// A conditional write failed: another replica wrote the lease since we last did.
    #[error("lost the sweeper lease s3://{bucket}/{key} to another replica")]
    Lost { bucket: String, key: String },
    /// The lease could not be renewed in time (S3 errors); another replica may take it over.
    #[error(
        "could not renew the sweeper lease s3://{bucket}/{key} before it expired: {last_error}"
    )]
    Expired {
        bucket: String,
        key: String,
        last_error: String,
    },
    #[error("sweeper lease s3://{bucket}/{key}: {source}")]
    Store {
        bucket: String,
        key: String,
        #[source]
        source: AwsError,
    },
}

/// Why a sweep was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// Another replica holds a live lease.
    HeldBy {
        holder: String,
        expires_in: Duration,
    },
    /// A sweep completed recently enough (`min_gap`).
    RecentlyCompleted { ago: Duration },
    /// Another replica wrote the lease between our read and our write.
    Contended,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::HeldBy { holder, expires_in } => write!(
                f,
                "another replica ({holder}) holds the sweeper lease for {}s more",
                expires_in.as_secs()
            ),
            Skip::RecentlyCompleted { ago } => {
                write!(f, "a sweep completed {}s ago", ago.as_secs())
            }
            Skip::Contended => f.write_str("another replica took the sweeper lease first"),
        }
    }
}

/// The lease body, as stored (RFC 3339 UTC timestamps, so operators can read it).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Body {
    holder: String,
    expires_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_completed_at: Option<String>,
}

/// A decoded lease body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseState {
    pub holder: String,
    pub expires_at: SystemTime,
    pub last_completed_at: Option<SystemTime>,
}

impl LeaseState {
    pub fn encode(&self) -> Vec<u8> {
        let body = Body {
            holder: self.holder.clone(),
            expires_at: rfc3339_precise(self.expires_at),
            last_completed_at: self.last_completed_at.map(rfc3339_precise),
        };
        serde_json::to_vec(&body).unwrap_or_default()
    }

    /// `None` for a body that is not a lease (treated as an expired lease with no history).
    pub fn decode(raw: &[u8]) -> Option<LeaseState> {
        let body: Body = serde_json::from_slice(raw).ok()?;
        Some(LeaseState {
            holder: body.holder,
            expires_at: parse_rfc3339(&body.expires_at)?,
            last_completed_at: body.last_completed_at.as_deref().and_then(parse_rfc3339),
        })
    }
}

/// This process's holder id: the host (pod) name plus a random suffix, so a restarted pod with
/// the same name is a different holder.
pub fn holder_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
        })
        .unwrap_or_else(|| "unknown-host".to_owned());
    format!("{host}-{:08x}", fastrand::u32(..))
}

/// A lease we hold.
#[derive(Debug)]
pub struct Lease {
    loc: LeaseLocation,
    etag: String,
    state: LeaseState,
    timing: LeaseTiming,
    clock: Clock,
}

/// Result of [`acquire`].
#[derive(Debug)]
pub enum Acquired {
    Held(Lease),
    Skipped(Skip),
}

/// Transient S3 errors on lease calls are retried a few times (backon), then reported.
async fn with_retry<T, F, Fut>(f: F) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, AwsError>>,
{
    f.retry(crate::retry::delete_backoff())
        .sleep(tokio::time::sleep)
        .when(AwsError::is_transient)
        .await
}

fn store_err(loc: &LeaseLocation, source: AwsError) -> LeaseError {
    LeaseError::Store {
        bucket: loc.bucket.clone(),
        key: loc.key.clone(),
        source,
    }
}

/// Try to take the lease. `min_gap`: skip if a sweep completed less than this long ago
/// (the timer passes about one interval; the one-shot `sweep` passes `None`).
pub async fn acquire(
    store: &dyn ObjectStore,
    loc: &LeaseLocation,
    holder: &str,
    timing: LeaseTiming,
    min_gap: Option<Duration>,
    clock: Clock,
) -> Result<Acquired, LeaseError> {
    let now = clock.now();
    let fresh = LeaseState {
        holder: holder.to_owned(),
        expires_at: now + timing.ttl,
        last_completed_at: None,
    };
    // Create first (`If-None-Match: *`): reading a missing key is AccessDenied under the shipped
    // IAM (see the module docs). A 412 means it exists: read it and decide.
    match put(store, loc, &fresh, None).await? {
        CondPut::Written(etag) => return Ok(held(loc, etag, fresh, timing, clock)),
        CondPut::PreconditionFailed => {}
    }
    let current = with_retry(|| store.get_versioned(&loc.bucket, &loc.key))
        .await
        .map_err(|e| store_err(loc, e))?;
    let Some(v) = current else {
        // Released by deletion between our create and our read: someone else is at it.
        return Ok(Acquired::Skipped(Skip::Contended));
    };
    let state = LeaseState::decode(&v.body);
    if state.is_none() {
        tracing::warn!(bucket = %loc.bucket, key = %loc.key, "sweeper lease body unreadable; taking it over");
    }
    if let Some(s) = &state {
        if s.holder != holder {
            if let Ok(left) = s.expires_at.duration_since(now) {
                if !left.is_zero() {
                    return Ok(Acquired::Skipped(Skip::HeldBy {
                        holder: s.holder.clone(),
                        expires_in: left,
                    }));
                }
            }
        }
        if let (Some(gap), Some(done)) = (min_gap, s.last_completed_at) {
            let ago = now.duration_since(done).unwrap_or(Duration::ZERO);
            if ago < gap {
                return Ok(Acquired::Skipped(Skip::RecentlyCompleted { ago }));
            }
        }
    }
    let next = LeaseState {
        last_completed_at: state.and_then(|s| s.last_completed_at),
        ..fresh
    };
    match put(store, loc, &next, Some(&v.etag)).await? {
        CondPut::Written(etag) => Ok(held(loc, etag, next, timing, clock)),
        CondPut::PreconditionFailed => Ok(Acquired::Skipped(Skip::Contended)),
    }
}

/// A conditional write of the lease, transient errors retried.
async fn put(
    store: &dyn ObjectStore,
    loc: &LeaseLocation,
    state: &LeaseState,
    if_match: Option<&str>,
) -> Result<CondPut, LeaseError> {
    let body = state.encode();
    let written =
        with_retry(|| store.put_conditional(&loc.bucket, &loc.key, body.clone(), if_match)).await;
    vanished_is_precondition(written, if_match).map_err(|e| store_err(loc, e))
}

/// S3 answers `If-Match` on a missing object with 404 `NoSuchKey`, not 412: the lease we read
/// (or wrote) was deleted since, so, as for a 412, someone else is at it.
fn vanished_is_precondition(
    written: Result<CondPut, AwsError>,
    if_match: Option<&str>,
) -> Result<CondPut, AwsError> {
    match written {
        Err(e) if if_match.is_some() && e.code == "NoSuchKey" => Ok(CondPut::PreconditionFailed),
        other => other,
    }
}

fn held(
    loc: &LeaseLocation,
    etag: String,
    state: LeaseState,
    timing: LeaseTiming,
    clock: Clock,
) -> Acquired {
    Acquired::Held(Lease {
        loc: loc.clone(),
        etag,
        state,
        timing,
        clock,
    })
}

impl Lease {
    pub fn state(&self) -> &LeaseState {
        &self.state
    }

    pub fn timing(&self) -> LeaseTiming {
        self.timing
    }

    fn lost(&self) -> LeaseError {
        LeaseError::Lost {
            bucket: self.loc.bucket.clone(),
            key: self.loc.key.clone(),
        }
    }

    async fn write(&mut self, store: &dyn ObjectStore, next: LeaseState) -> Result<(), LeaseError> {
        let written = store
            .put_conditional(
                &self.loc.bucket,
                &self.loc.key,
                next.encode(),
                Some(&self.etag),
            )
            .await;
        let written = vanished_is_precondition(written, Some(&self.etag))
            .map_err(|e| store_err(&self.loc, e))?;
        match written {
            CondPut::Written(etag) => {
                self.etag = etag;
                self.state = next;
                Ok(())
            }
            CondPut::PreconditionFailed => Err(self.lost()),
        }
    }

    /// Push the expiry to now + ttl. `Lost` if another replica wrote the lease meanwhile;
    /// `Expired` if S3 errors kept us from renewing until less than one renewal period was left
    /// (we must stop before another replica may legitimately take over); other errors are
    /// transient and the caller simply tries again at the next tick.
    pub async fn renew(&mut self, store: &dyn ObjectStore) -> Result<(), LeaseError> {
        let now = self.clock.now();
        let next = LeaseState {
            expires_at: now + self.timing.ttl,
            ..self.state.clone()
        };
        match self.write(store, next).await {
            Ok(()) => Ok(()),
            Err(LeaseError::Store { source, .. })
                if now + self.timing.renew_every >= self.state.expires_at =>
            {
                Err(LeaseError::Expired {
                    bucket: self.loc.bucket.clone(),
                    key: self.loc.key.clone(),
                    last_error: source.to_string(),
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Give the lease up: expire it now, and record `last_completed_at = now` if `completed`.
    pub async fn release(
        mut self,
        store: &dyn ObjectStore,
        completed: bool,
    ) -> Result<(), LeaseError> {
        let now = self.clock.now();
        let next = LeaseState {
            holder: self.state.holder.clone(),
            expires_at: now,
            last_completed_at: if completed {
                Some(now)
            } else {
                self.state.last_completed_at
            },
        };
        let mut backoff = crate::retry::delete_backoff().build();
        loop {
            let err = match self.write(store, next.clone()).await {
                Ok(()) => return Ok(()),
                Err(LeaseError::Store { source, .. }) if source.is_transient() => source,
                Err(e) => return Err(e),
            };
            match backoff.next() {
                Some(d) => tokio::time::sleep(d).await,
                None => return Err(store_err(&self.loc, err)),
            }
        }
    }
}

#[cfg(test)]
#[path = "lease_tests.rs"]
mod tests;
