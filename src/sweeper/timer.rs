//! The sweeper timer inside `run`: first sweep after a jittered delay, then every interval.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::config::SweepSettings;
use crate::s3url::LocationPolicy;
use crate::store::ObjectStore;
use crate::telemetry::events::SweepFinished;

pub async fn run(
    store: Arc<dyn ObjectStore>,
    policy: LocationPolicy,
    settings: SweepSettings,
    stop: CancellationToken,
) {
    let Some(interval) = settings.interval else {
        return;
    };
    let first = interval
        .mul_f64(0.1 + fastrand::f64() * 0.2)
        .min(Duration::from_secs(300));
    let mut next = tokio::time::Instant::now() + first;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(next) => {}
            _ = stop.cancelled() => return,
        }
        let started = Instant::now();
        let result = tokio::select! {
            r = super::sweep_once(store.clone(), &policy, &settings) => r,
            _ = stop.cancelled() => return,
        };
        let (outcome, scanned, deleted, error) = match &result {
            Ok(r) => ("ok", r.scanned, r.deleted, None),
            Err(e) => ("error", 0, 0, Some(e.to_string())),
        };
        SweepFinished {
            outcome,
            scanned,
            deleted,
            elapsed: started.elapsed(),
            dry_run: settings.dry_run,
            error: error.as_deref(),
        }
        .emit();
        next = tokio::time::Instant::now() + interval;
    }
}
