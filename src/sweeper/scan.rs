//! The streaming sweep of one bucket: a lister feeds batches of stale keys through a bounded
//! channel to a small pool of concurrent DeleteObjects requests, so listing and deleting overlap
//! and memory stays O(pages in flight), whatever the bucket size. Along the way it takes the
//! census of what remains under the prefix (see `census`).

use std::collections::HashMap;
use std::time::{Instant, SystemTime};

use backon::BackoffBuilder;
use backon::Retryable;
use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::census::{Census, Heap};
use super::clock::Clock;
use crate::aws_error::AwsError;
use crate::config::LeaseLocation;
use crate::s3url::{LocationPolicy, ObjectRef};
use crate::store::{ObjectStore, MAX_KEYS_PER_DELETE};
use crate::telemetry::events::{
    DeleteBatchDone, ObjectAudit, Source, SweepDeleteRefused, SweepKeysStillFailing,
    SweepListRetried,
};

/// Batches of keys waiting for a deleter (each ≤ 1000 keys).
const CHANNEL_BATCHES: usize = 2;
/// Concurrent DeleteObjects requests per bucket.
pub const DELETERS: usize = 4;
/// Keys logged at info level by a dry run.
const DRY_RUN_SAMPLES: usize = 10;

/// What sweeping one bucket did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub scanned: u64,
    /// Deleted, already absent, or (dry run) would be deleted.
    pub deleted: u64,
    /// Refused by S3 per key (e.g. AccessDenied), or still failing after retries.
    pub failed: u64,
    /// What remains under the prefix; `listed_at` is `None` unless the scan completed.
    pub census: Census,
}

/// A stale key on its way to a deleter, with what the census needs if it is not deleted.
#[derive(Debug, Clone)]
struct Candidate {
    key: String,
    size: u64,
    modified: SystemTime,
}

/// What one DeleteObjects batch (with its retries) did.
struct BatchDone {
    deleted: u64,
    failed: u64,
    /// The batch's objects not confirmed deleted (all of them in a dry run).
    left: Heap,
    error: Option<ScanError>,
}

/// Why the sweep of a bucket stopped early.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("listing s3://{bucket}: {source}")]
    List {
        bucket: String,
        #[source]
        source: AwsError,
    },
    #[error("deleting from s3://{bucket}: {source}")]
    Delete {
        bucket: String,
        #[source]
        source: AwsError,
    },
    /// The halt token fired (shutdown, or the lease was lost).
    #[error("halted")]
    Halted,
}

/// What one bucket sweep needs.
pub struct Scan<'a> {
    pub store: &'a dyn ObjectStore,
    pub policy: &'a LocationPolicy,
    pub bucket: &'a str,
    /// Objects last modified strictly before this are stale.
    pub cutoff: SystemTime,
    pub lease: &'a LeaseLocation,
    pub dry_run: bool,
    pub halt: &'a CancellationToken,
    /// Stamps the census (`listed_at`, hence the oldest age).
    pub clock: Clock,
}

impl Scan<'_> {
    fn is_lease(&self, key: &str) -> bool {
        self.bucket == self.lease.bucket && key == self.lease.key
    }

    /// Whether a listed key may be deleted: stale, inside the policy (belt and braces: the
    /// listing is already prefixed), and never the lease object.
    fn deletable(&self, key: &str, modified: SystemTime) -> bool {
        modified < self.cutoff
            && !self.is_lease(key)
            && self.policy.allows(&ObjectRef::new(self.bucket, key))
    }

    /// Sweep the bucket; on an early stop the tally so far is returned with the error (and a
    /// census without `listed_at`: a partial listing says nothing about the prefix).
    pub async fn run(&self) -> (Tally, Option<ScanError>) {
        let (tx, rx) = mpsc::channel::<Vec<Candidate>>(CHANNEL_BATCHES);
        let (listed, deleted) = tokio::join!(self.list(tx), self.delete(rx));
        let (scanned, mut census, list_err) = listed;
        let ((deleted, failed, left), delete_err) = deleted;
        let err = match (delete_err, list_err) {
            (Some(e), _) => Some(e),
            (None, Some(e)) => Some(e),
            (None, None) if self.halt.is_cancelled() => Some(ScanError::Halted),
            (None, None) => None,
        };
        census.remaining.merge(&left);
        census.stale_remaining += left.objects;
        if err.is_some() {
            census.listed_at = None;
        }
        let tally = Tally {
            scanned,
            deleted,
            failed,
            census,
        };
        (tally, err)
    }

    /// List every page under the prefix; send stale keys on in batches of up to 1000. Returns
    /// the census of the objects kept back (not stale, undated, outside the policy), with
    /// `listed_at` set when the listing reached its last page.
    async fn list(&self, tx: mpsc::Sender<Vec<Candidate>>) -> (u64, Census, Option<ScanError>) {
        let mut scanned = 0u64;
        let mut kept = Census::default();
        let mut pending: Vec<Candidate> = Vec::new();
        let mut samples = 0usize;
        let mut token: Option<String> = None;
        loop {
            if self.halt.is_cancelled() {
                return (scanned, kept, None);
            }
            let fetch = || {
                self.store
                    .list_page(self.bucket, self.policy.prefix(), token.clone())
            };
            let page = tokio::select! {
                r = fetch
                    .retry(crate::retry::delete_backoff())
                    .sleep(tokio::time::sleep)
                    .when(AwsError::is_transient)
                    .notify(|error, retry_in| SweepListRetried {
                        bucket: self.bucket,
                        error,
                        retry_in,
                    }.emit()) => r,
                _ = self.halt.cancelled() => return (scanned, kept, None),
            };
            let page = match page {
                Ok(p) => p,
                Err(source) => {
                    return (
                        scanned,
                        kept,
                        Some(ScanError::List {
                            bucket: self.bucket.to_owned(),
                            source,
                        }),
                    )
                }
            };
            scanned += page.objects.len() as u64;
            for o in page.objects {
                if self.is_lease(&o.key) {
                    continue; // not an image: neither deleted nor counted
                }
                let Some(modified) = o.last_modified else {
                    // Unknown age is never old (issue 10, item 9): keep it, count it, say so.
                    tracing::warn!(
                        bucket = self.bucket, key = %o.key,
                        "sweeper: listed without LastModified; skipped"
                    );
                    kept.remaining.add(o.size, None);
                    kept.undated += 1;
                    continue;
                };
                if !self.deletable(&o.key, modified) {
                    kept.remaining.add(o.size, Some(modified));
                    if modified < self.cutoff {
                        kept.stale_remaining += 1;
                    }
                    continue;
                }
                if self.dry_run && samples < DRY_RUN_SAMPLES {
                    samples += 1;
                    tracing::info!(bucket = self.bucket, key = %o.key, "dry run: would sweep");
                }
                pending.push(Candidate {
                    key: o.key,
                    size: o.size,
                    modified,
                });
                if pending.len() == MAX_KEYS_PER_DELETE {
                    let batch = std::mem::take(&mut pending);
                    if tx.send(batch).await.is_err() {
                        return (scanned, kept, None); // the deleters stopped (error or halt)
                    }
                }
            }
            token = page.next;
            if token.is_none() {
                break;
            }
        }
        kept.listed_at = Some(self.clock.now());
        if !pending.is_empty() && !self.halt.is_cancelled() {
            // If the deleters stopped, their error (or the halt) voids this census in `run`.
            let _ = tx.send(pending).await;
        }
        (scanned, kept, None)
    }

    /// Receive batches and keep up to [`DELETERS`] DeleteObjects requests in flight.
    /// Returns (deleted, failed, left: the candidates not confirmed deleted) and the first error.
    async fn delete(
        &self,
        mut rx: mpsc::Receiver<Vec<Candidate>>,
    ) -> ((u64, u64, Heap), Option<ScanError>) {
        let mut inflight = FuturesUnordered::new();
        let (mut deleted, mut failed) = (0u64, 0u64);
        let mut left = Heap::default();
        let mut error = None;
        let mut open = true;
        loop {
            tokio::select! {
                biased;
                Some(done) = inflight.next(), if !inflight.is_empty() => {
                    let done: BatchDone = done;
                    deleted += done.deleted;
                    failed += done.failed;
                    left.merge(&done.left);
                    if let (Some(e), None) = (done.error, &error) {
                        error = Some(e);
                        open = false;
                        rx.close();
                    }
                }
                batch = rx.recv(), if open && inflight.len() < DELETERS && !self.halt.is_cancelled() => {
                    match batch {
                        Some(keys) => inflight.push(self.delete_batch(keys)),
                        None => open = false,
                    }
                }
                _ = self.halt.cancelled(), if open => {
                    open = false;
                    rx.close();
                }
                else => break,
            }
        }
        ((deleted, failed, left), error)
    }

    /// One batch: DeleteObjects, retrying (backon) the whole request on transient failure and
    /// the keys that failed transiently; per-key permanent refusals are counted and audited.
    /// Every candidate not confirmed deleted, whatever the way out, ends up in `left`.
    async fn delete_batch(&self, batch: Vec<Candidate>) -> BatchDone {
        let mut unconfirmed: HashMap<String, (u64, SystemTime)> = HashMap::new();
        let mut remaining = Vec::with_capacity(batch.len());
        for c in batch {
            unconfirmed.insert(c.key.clone(), (c.size, c.modified));
            remaining.push(c.key);
        }
        let done = |deleted: u64, failed: u64, unconfirmed: &HashMap<_, _>, error| {
            let mut left = Heap::default();
            for (size, modified) in unconfirmed.values() {
                left.add(*size, Some(*modified));
            }
            BatchDone {
                deleted,
                failed,
                left,
                error,
            }
        };
        if self.dry_run {
            return done(remaining.len() as u64, 0, &unconfirmed, None);
        }
        let mut backoff = crate::retry::delete_backoff().build();
        let (mut deleted, mut failed) = (0u64, 0u64);
        loop {
            if self.halt.is_cancelled() {
                return done(deleted, failed, &unconfirmed, None);
            }
            let started = Instant::now();
            let result = self.store.delete_objects(self.bucket, &remaining).await;
            let mut retry = Vec::new();
            let fatal = match result {
                Ok(outcomes) => {
                    let (mut ok, mut transient, mut permanent) = (0usize, 0usize, 0usize);
                    for o in outcomes {
                        match o.result {
                            Ok(()) => {
                                ok += 1;
                                unconfirmed.remove(&o.key);
                                self.audit(&o.key, None);
                            }
                            Err(e) if e.is_transient() => {
                                transient += 1;
                                retry.push(o.key);
                            }
                            Err(e) => {
                                permanent += 1;
                                SweepDeleteRefused {
                                    bucket: self.bucket,
                                    key: &o.key,
                                    error: &e,
                                }
                                .emit();
                                self.audit(&o.key, Some(&e.code));
                            }
                        }
                    }
                    self.batch_done(remaining.len(), ok, transient, permanent, started);
                    deleted += ok as u64;
                    failed += permanent as u64;
                    None
                }
                Err(e) => {
                    let (t, p) = if e.is_transient() {
                        (remaining.len(), 0)
                    } else {
                        (0, remaining.len())
                    };
                    self.batch_done(remaining.len(), 0, t, p, started);
                    if e.is_transient() {
                        retry = std::mem::take(&mut remaining);
                        Some(e)
                    } else {
                        failed += remaining.len() as u64;
                        let error = Some(self.delete_error(e));
                        return done(deleted, failed, &unconfirmed, error);
                    }
                }
            };
            if retry.is_empty() {
                return done(deleted, failed, &unconfirmed, None);
            }
            match backoff.next() {
                Some(wait) => {
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = self.halt.cancelled() => return done(deleted, failed, &unconfirmed, None),
                    }
                    remaining = retry;
                }
                None => {
                    failed += retry.len() as u64;
                    return match fatal {
                        // The whole request kept failing: S3 is in trouble; stop the sweep.
                        Some(e) => {
                            let error = Some(self.delete_error(e));
                            done(deleted, failed, &unconfirmed, error)
                        }
                        None => {
                            SweepKeysStillFailing {
                                bucket: self.bucket,
                                keys: retry.len(),
                            }
                            .emit();
                            done(deleted, failed, &unconfirmed, None)
                        }
                    };
                }
            }
        }
    }

    fn delete_error(&self, source: AwsError) -> ScanError {
        ScanError::Delete {
            bucket: self.bucket.to_owned(),
            source,
        }
    }

    fn audit(&self, key: &str, refused: Option<&str>) {
        ObjectAudit {
            source: Source::Sweeper,
            bucket: self.bucket,
            key,
            message_id: None,
            page_id: None,
            refused,
        }
        .emit();
    }

    fn batch_done(
        &self,
        requested: usize,
        deleted: usize,
        transient: usize,
        permanent: usize,
        started: Instant,
    ) {
        DeleteBatchDone {
            source: Source::Sweeper,
            bucket: self.bucket,
            requested,
            deleted,
            transient_errors: transient,
            permanent_errors: permanent,
            elapsed: started.elapsed(),
        }
        .emit();
    }
}
