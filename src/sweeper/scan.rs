//! The streaming sweep of one bucket: a lister feeds batches of stale keys through a bounded
//! channel to a small pool of concurrent DeleteObjects requests, so listing and deleting overlap
//! and memory stays O(pages in flight), whatever the bucket size.

use std::time::{Instant, SystemTime};

use backon::BackoffBuilder;
use backon::Retryable;
use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::LeaseLocation;
use crate::retry::AwsError;
use crate::s3url::{LocationPolicy, ObjectRef};
use crate::store::{ObjectStore, MAX_KEYS_PER_DELETE};
use crate::telemetry::events::{DeleteBatchDone, ObjectAudit, Source};

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
}

impl Scan<'_> {
    /// Whether a listed key may be deleted: stale, inside the policy (belt and braces: the
    /// listing is already prefixed), and never the lease object.
    fn deletable(&self, key: &str, modified: SystemTime) -> bool {
        modified < self.cutoff
            && !(self.bucket == self.lease.bucket && key == self.lease.key)
            && self.policy.allows(&ObjectRef::new(self.bucket, key))
    }

    /// Sweep the bucket; on an early stop the tally so far is returned with the error.
    pub async fn run(&self) -> (Tally, Option<ScanError>) {
        let (tx, rx) = mpsc::channel::<Vec<String>>(CHANNEL_BATCHES);
        let (listed, deleted) = tokio::join!(self.list(tx), self.delete(rx));
        let (scanned, list_err) = listed;
        let ((deleted, failed), delete_err) = deleted;
        let tally = Tally {
            scanned,
            deleted,
            failed,
        };
        let err = match (delete_err, list_err) {
            (Some(e), _) => Some(e),
            (None, Some(e)) => Some(e),
            (None, None) if self.halt.is_cancelled() => Some(ScanError::Halted),
            (None, None) => None,
        };
        (tally, err)
    }

    /// List every page under the prefix; send stale keys on in batches of up to 1000.
    async fn list(&self, tx: mpsc::Sender<Vec<String>>) -> (u64, Option<ScanError>) {
        let mut scanned = 0u64;
        let mut pending: Vec<String> = Vec::new();
        let mut samples = 0usize;
        let mut token: Option<String> = None;
        loop {
            if self.halt.is_cancelled() {
                return (scanned, None);
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
                    .notify(|e, wait| tracing::warn!(
                        bucket = self.bucket, error = %e, retry_in_ms = wait.as_millis() as u64,
                        "sweeper: listing failed; retrying"
                    )) => r,
                _ = self.halt.cancelled() => return (scanned, None),
            };
            let page = match page {
                Ok(p) => p,
                Err(source) => {
                    return (
                        scanned,
                        Some(ScanError::List {
                            bucket: self.bucket.to_owned(),
                            source,
                        }),
                    )
                }
            };
            scanned += page.objects.len() as u64;
            for o in page.objects {
                if !self.deletable(&o.key, o.last_modified) {
                    continue;
                }
                if self.dry_run && samples < DRY_RUN_SAMPLES {
                    samples += 1;
                    tracing::info!(bucket = self.bucket, key = %o.key, "dry run: would sweep");
                }
                pending.push(o.key);
                if pending.len() == MAX_KEYS_PER_DELETE {
                    let batch = std::mem::take(&mut pending);
                    if tx.send(batch).await.is_err() {
                        return (scanned, None); // the deleters stopped (error or halt)
                    }
                }
            }
            token = page.next;
            if token.is_none() {
                break;
            }
        }
        if !pending.is_empty() && !self.halt.is_cancelled() {
            let _ = tx.send(pending).await;
        }
        (scanned, None)
    }

    /// Receive batches and keep up to [`DELETERS`] DeleteObjects requests in flight.
    async fn delete(&self, mut rx: mpsc::Receiver<Vec<String>>) -> ((u64, u64), Option<ScanError>) {
        let mut inflight = FuturesUnordered::new();
        let (mut deleted, mut failed) = (0u64, 0u64);
        let mut error = None;
        let mut open = true;
        loop {
            tokio::select! {
                biased;
                Some(done) = inflight.next(), if !inflight.is_empty() => {
                    let (d, f, e): (u64, u64, Option<ScanError>) = done;
                    deleted += d;
                    failed += f;
                    if let (Some(e), None) = (e, &error) {
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
        ((deleted, failed), error)
    }

    /// One batch: DeleteObjects, retrying (backon) the whole request on transient failure and
    /// the keys that failed transiently; per-key permanent refusals are counted and audited.
    /// Returns (deleted, failed, fatal error).
    async fn delete_batch(&self, keys: Vec<String>) -> (u64, u64, Option<ScanError>) {
        if self.dry_run {
            return (keys.len() as u64, 0, None);
        }
        let mut backoff = crate::retry::delete_backoff().build();
        let mut remaining = keys;
        let (mut deleted, mut failed) = (0u64, 0u64);
        loop {
            if self.halt.is_cancelled() {
                return (deleted, failed, None);
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
                                self.audit(&o.key, None);
                            }
                            Err(e) if e.is_transient() => {
                                transient += 1;
                                retry.push(o.key);
                            }
                            Err(e) => {
                                permanent += 1;
                                tracing::warn!(bucket = self.bucket, key = %o.key, error = %e, "sweeper: delete refused");
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
                        return (deleted, failed, Some(self.delete_error(e)));
                    }
                }
            };
            if retry.is_empty() {
                return (deleted, failed, None);
            }
            match backoff.next() {
                Some(wait) => {
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = self.halt.cancelled() => return (deleted, failed, None),
                    }
                    remaining = retry;
                }
                None => {
                    failed += retry.len() as u64;
                    return match fatal {
                        // The whole request kept failing: S3 is in trouble; stop the sweep.
                        Some(e) => (deleted, failed, Some(self.delete_error(e))),
                        None => {
                            tracing::warn!(
                                bucket = self.bucket,
                                keys = retry.len(),
                                "sweeper: keys still failing after retries"
                            );
                            (deleted, failed, None)
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
