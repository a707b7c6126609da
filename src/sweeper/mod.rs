//! Stale-object sweeps: list everything under the prefix in each allowed bucket, delete what is
//! older than the max age. Listing is streamed page by page; memory does not grow with the bucket.

pub mod timer;

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::config::SweepSettings;
use crate::retry::AwsError;
use crate::s3url::LocationPolicy;
use crate::store::{ObjectStore, MAX_KEYS_PER_DELETE};
use crate::telemetry::events::{DeleteBatchDone, Source};

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub scanned: u64,
    /// Deleted (or, in a dry run, would delete).
    pub deleted: u64,
}

/// One sweep over every allowed bucket.
pub async fn sweep_once(
    store: Arc<dyn ObjectStore>,
    policy: &LocationPolicy,
    settings: &SweepSettings,
) -> Result<SweepReport, AwsError> {
    let cutoff = SystemTime::now()
        .checked_sub(settings.max_age)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let mut report = SweepReport::default();
    for bucket in policy.buckets() {
        let mut token = None;
        loop {
            let page = store.list_page(bucket, policy.prefix(), token).await?;
            report.scanned += page.objects.len() as u64;
            let stale: Vec<String> = page
                .objects
                .into_iter()
                .filter(|o| o.last_modified < cutoff)
                .filter(|o| !(bucket == settings.lease.bucket && o.key == settings.lease.key))
                .map(|o| o.key)
                .collect();
            for chunk in stale.chunks(MAX_KEYS_PER_DELETE) {
                if settings.dry_run {
                    report.deleted += chunk.len() as u64;
                    continue;
                }
                let started = Instant::now();
                let outcomes = store.delete_objects(bucket, chunk).await?;
                let deleted = outcomes.iter().filter(|o| o.result.is_ok()).count();
                let transient = outcomes
                    .iter()
                    .filter(|o| o.result.as_ref().is_err_and(|e| e.is_transient()))
                    .count();
                DeleteBatchDone {
                    source: Source::Sweeper,
                    bucket,
                    requested: chunk.len(),
                    deleted,
                    transient_errors: transient,
                    permanent_errors: outcomes.len() - deleted - transient,
                    elapsed: started.elapsed(),
                }
                .emit();
                report.deleted += deleted as u64;
            }
            token = page.next;
            if token.is_none() {
                break;
            }
        }
    }
    Ok(report)
}
