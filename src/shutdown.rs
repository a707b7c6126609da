//! Shutdown: SIGTERM/SIGINT as a future, and the timeouts that bound the whole shutdown.
//!
//! After the signal (or a failed task) `run` takes at most
//! `JANITOR_SHUTDOWN_TIMEOUT` + [`SHUTDOWN_MARGIN`]:
//!
//! 1. up to `JANITOR_SHUTDOWN_TIMEOUT` for the messages in hand to finish;
//! 2. past it, up to the long-poll wait (≤ [`MAX_WAIT`]) + [`HAND_BACK_GRACE`] for a receive in
//!    flight to return and for the abandoned messages to be handed back (visibility 0);
//! 3. up to [`TASKS_GRACE`] for the remaining tasks (batcher and acker flushing, the sweeper
//!    releasing its lease, the HTTP server) to stop; any still running are aborted.
//!
//! The pod's `terminationGracePeriodSeconds` must exceed that bound (infra/kubernetes, checked
//! by scripts/check_settings.py, which reads [`SHUTDOWN_MARGIN`] from this file).

use std::time::Duration;

/// The longest long-poll wait `JANITOR_WAIT_TIME` allows (SQS's maximum).
pub const MAX_WAIT: Duration = Duration::from_secs(20);

/// After the drain deadline: time for abandoned messages to be handed back, beyond the wait.
pub const HAND_BACK_GRACE: Duration = Duration::from_secs(5);

/// After the worker has drained: time for every other task to stop.
pub const TASKS_GRACE: Duration = Duration::from_secs(5);

/// What the shutdown may take beyond `JANITOR_SHUTDOWN_TIMEOUT`.
pub const SHUTDOWN_MARGIN: Duration = Duration::from_secs(30);

const _: () = assert!(
    MAX_WAIT.as_secs() + HAND_BACK_GRACE.as_secs() + TASKS_GRACE.as_secs()
        <= SHUTDOWN_MARGIN.as_secs()
);

/// Resolves on the first SIGTERM or SIGINT (Ctrl-C).
pub async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => tracing::info!("SIGTERM received; draining"),
                    _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received; draining"),
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops the process");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
