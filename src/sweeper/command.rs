//! The `image-janitor sweep` entry point: the S3 client, one sweep under the lease (SIGTERM or
//! SIGINT interrupt it and release the lease), and the summary lines of CONTRACT §5.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::config::{Common, SweepSettings};
use crate::error::AppError;
use crate::store::s3::S3Store;
use crate::store::ObjectStore;

/// `image-janitor sweep`. A sweep skipped for the lease prints `swept 0 objects (scanned 0)`.
pub async fn sweep(
    common: &Common,
    settings: &SweepSettings,
    shutdown: impl Future<Output = ()>,
) -> Result<(), AppError> {
    let conf = crate::aws::load_config(Duration::from_secs(20)).await;
    let store: Arc<dyn ObjectStore> = Arc::new(S3Store::from_conf(&conf, common.force_path_style));
    let report = super::sweep_until(store, &common.policy, settings, shutdown)
        .await
        .map_err(|e| AppError::Runtime(format!("sweep failed: {e}")))?;
    // What remains under the prefix, per bucket (docs/sweeper.md), before the contract's last line.
    for bucket in &report.buckets {
        println!("{}", bucket.summary_line(common.policy.prefix()));
    }
    let verb = if settings.dry_run {
        "would sweep"
    } else {
        "swept"
    };
    println!(
        "{verb} {} objects (scanned {})",
        report.deleted, report.scanned
    );
    if report.failed > 0 {
        return Err(AppError::Runtime(format!(
            "{} stale objects could not be deleted (see the log)",
            report.failed
        )));
    }
    Ok(())
}
