//! The sweeper timer inside `run`: first sweep after a jittered delay, then every interval
//! (plus up to 10 % jitter), never overlapping itself; replicas take turns through the lease.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::Sweeper;
use crate::config::SweepSettings;
use crate::s3url::LocationPolicy;
use crate::store::ObjectStore;

/// Delay before the first sweep: 10–30 % of the interval, at most 5 minutes, so replicas started
/// together do not all reach for the lease at once and a restart loop does not sweep each time.
pub fn first_delay(interval: Duration) -> Duration {
    interval
        .mul_f64(0.1 + fastrand::f64() * 0.2)
        .min(Duration::from_secs(300))
}

/// Delay between the end of one attempt and the next: the interval plus up to 10 %.
pub fn next_delay(interval: Duration) -> Duration {
    interval.mul_f64(1.0 + fastrand::f64() * 0.1)
}

/// A sweep that completed less than this long ago makes a replica skip: 90 % of the interval,
/// leaving slack for clock skew between hosts and for the jitter of the others' timers.
pub fn min_gap(interval: Duration) -> Duration {
    interval.mul_f64(0.9)
}

/// The timer, as `app::run` starts it. Returns when `stop` is cancelled (a sweep in progress is
/// interrupted promptly and its lease released) or at once if the interval is unset.
/// (The `janitor_prefix_*` gauges are zero-initialised once, at start-up, by
/// `telemetry::metrics::init_run`.)
pub fn run(
    store: Arc<dyn ObjectStore>,
    policy: LocationPolicy,
    settings: SweepSettings,
    stop: CancellationToken,
) -> impl Future<Output = ()> {
    run_with(Sweeper::new(store, policy, settings), stop)
}

/// [`run`] with a prepared [`Sweeper`] (tests set the clock, holder id and lease timings).
pub async fn run_with(sweeper: Sweeper, stop: CancellationToken) {
    let Some(interval) = sweeper.settings.interval else {
        return;
    };
    let mut next = Instant::now() + first_delay(interval);
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(next) => {}
            _ = stop.cancelled() => return,
        }
        // Sequential by construction: the next wait starts only after this sweep returns.
        let _ = sweeper
            .sweep_and_report(Some(min_gap(interval)), &stop)
            .await;
        if stop.is_cancelled() {
            return;
        }
        next = Instant::now() + next_delay(interval);
    }
}
