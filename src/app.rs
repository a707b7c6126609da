//! `image-janitor run` wired together: the HTTP endpoints, the AWS clients and DLQ discovery
//! ([`run`]), then the daemon ([`serve`]): worker, sweeper timer and queue-depth poller under one
//! [`Supervisor`], until the shutdown signal or the first task to end, then the drain (CONTRACT §6).

use std::future::Future;
use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use tokio_util::sync::CancellationToken;

use crate::config::{ConfigError, RunSettings};
pub use crate::error::AppError;
use crate::queue::resolve::{pick_dlq, redrive_target};
use crate::queue::sqs::SqsQueue;
use crate::queue::Queue;
use crate::shutdown::TASKS_GRACE;
use crate::store::s3::S3Store;
use crate::store::ObjectStore;
use crate::supervisor::{Ended, Supervisor, Task};
use crate::telemetry::http::{self, Readiness};
use crate::worker::{Worker, WorkerSettings};

/// The daemon's seams: the main queue, the dead-letter queue, the object store.
pub struct Services {
    pub main: Arc<dyn Queue>,
    pub dlq: Arc<dyn Queue>,
    pub store: Arc<dyn ObjectStore>,
}

/// The daemon. Returns when `shutdown` resolves and the drain is over, or with an error when
/// start-up fails or a task ends early (after the same drain).
pub async fn run(
    settings: RunSettings,
    shutdown: impl Future<Output = ()>,
    metrics: Option<PrometheusHandle>,
) -> Result<(), AppError> {
    let mut tasks = Supervisor::new();
    let ready = Readiness::default();
    let http_stop = start_http(&settings, ready.clone(), metrics, &mut tasks).await?;
    let services = connect(&settings).await?;
    serve(services, &settings, tasks, (ready, http_stop), shutdown).await
}

/// Bind `JANITOR_HTTP_ADDR` and serve `/healthz`, `/readyz`, `/metrics` (under `tasks`) until
/// the returned token is cancelled.
pub async fn start_http(
    settings: &RunSettings,
    ready: Readiness,
    metrics: Option<PrometheusHandle>,
    tasks: &mut Supervisor,
) -> Result<CancellationToken, AppError> {
    let listener = http::bind(settings.http_addr)
        .await
        .map_err(|e| AppError::Runtime(format!("cannot listen on {}: {e}", settings.http_addr)))?;
    let stop = CancellationToken::new();
    let router = http::router(ready, metrics);
    tasks.spawn(Task::Http, http::serve(listener, router, stop.clone()));
    Ok(stop)
}

/// The SQS and S3 clients; the DLQ from the setting or the RedrivePolicy.
async fn connect(settings: &RunSettings) -> Result<Services, AppError> {
    let conf = crate::aws::load_config(settings.wait_time).await;
    let main = SqsQueue::from_conf(&conf, &settings.common.queue_url);
    let discovered = redrive_target(&main).await?;
    check_dry_run(settings.dry_run, discovered.as_deref())?;
    let dlq_url = pick_dlq(main.url(), settings.common.dlq_url.as_deref(), discovered)?;
    tracing::info!(
        queue = %settings.common.queue_url,
        dlq = %dlq_url,
        concurrency = settings.concurrency.get(),
        dry_run = settings.dry_run,
        "image-janitor started"
    );
    Ok(Services {
        dlq: Arc::new(main.sibling(dlq_url)),
        main: Arc::new(main),
        store: Arc::new(S3Store::from_conf(&conf, settings.common.force_path_style)),
    })
}

/// A dry run must not change any message's fate, but every receive counts toward the main
/// queue's `maxReceiveCount`: on a queue with a RedrivePolicy, a dry-run daemon would push its
/// whole backlog into the DLQ. Refuse to start there (exit 2, before anything is received).
fn check_dry_run(dry_run: bool, redrive: Option<&str>) -> Result<(), AppError> {
    match (dry_run, redrive) {
        (true, Some(dlq)) => Err(AppError::Config(ConfigError {
            setting: "JANITOR_DRY_RUN",
            problem: format!(
                "the main queue has a RedrivePolicy (to {dlq}): every dry-run receive would count toward its maxReceiveCount and push messages into the DLQ; dry-run against a queue without one (or use `sweep --dry-run`)"
            ),
        })),
        _ => Ok(()),
    }
}

/// Start the worker, the queue-depth poller and the sweeper timer under `tasks` (which already
/// runs the HTTP server, stopped by `http_stop`); ready until `shutdown` resolves or the first
/// task ends; then stop receiving, drain, stop the rest. A task that ended early, or failed
/// during the drain, makes the result an error (exit 1), logged once naming the task.
pub async fn serve(
    services: Services,
    settings: &RunSettings,
    mut tasks: Supervisor,
    (ready, http_stop): (Readiness, CancellationToken),
    shutdown: impl Future<Output = ()>,
) -> Result<(), AppError> {
    let Services { main, dlq, store } = services;
    let stop = CancellationToken::new();
    let worker_settings = WorkerSettings::from_run(settings);
    let worker = Worker::start(
        main.clone(),
        dlq.clone(),
        store.clone(),
        worker_settings,
        &mut tasks,
    );
    if let Some(every) = settings.queue_poll_interval {
        let poll = crate::depth::poll(main, dlq, every, stop.clone());
        tasks.spawn(Task::DepthPoller, poll);
    }
    if settings.sweep.interval.is_some() {
        let (policy, sweep) = (settings.common.policy.clone(), settings.sweep.clone());
        let timer = crate::sweeper::timer::run(store, policy, sweep, stop.clone());
        tasks.spawn(Task::SweeperTimer, timer);
    }
    ready.set(true);

    let failed = tokio::select! {
        _ = shutdown => None,
        exit = tasks.first_exit() => Some(exit),
    };
    if let Some(exit) = &failed {
        exit.report();
    }
    // Stop receiving at once; /readyz turns 503; drain what is in hand.
    ready.set(false);
    stop.cancel();
    let drained = worker.drain(settings.shutdown_timeout).await;
    http_stop.cancel();
    let mut late = tasks.finish(TASKS_GRACE).await;
    for exit in &late {
        exit.report();
    }
    late.retain(|e| e.ended != Ended::Overran);
    if let Some(exit) = failed.or_else(|| late.into_iter().next()) {
        return Err(AppError::Runtime(format!("{exit}; see the log")));
    }
    tracing::info!(drained, "image-janitor stopped");
    Ok(())
}

#[cfg(test)]
#[path = "app_tests.rs"]
mod tests;
