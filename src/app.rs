//! `image-janitor run` wired together: AWS clients, DLQ discovery, HTTP endpoints, receive loops,
//! sweeper timer, queue-depth poller, and the drain on shutdown (CONTRACT §6).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{ConfigError, RunSettings};
use crate::deadletter::DeadLetter;
use crate::queue::sqs::SqsQueue;
use crate::queue::Queue;
use crate::store::s3::S3Store;
use crate::store::ObjectStore;
use crate::telemetry::http::{self, Readiness};
use crate::worker::acker::Acker;
use crate::worker::batcher::{BatcherConfig, DeleteBatcher};
use crate::worker::{run_loops, Ctx, LoopConfig};

/// Why `run` stopped with an error. `main` maps these to exit codes 2 and 1.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Runtime(String),
}

/// Resolve the dead-letter queue: `JANITOR_DLQ_URL`, else the main queue's RedrivePolicy.
/// Either way the main queue is reached once (the readiness check).
pub async fn resolve_dlq(main: &SqsQueue, configured: Option<&str>) -> Result<String, AppError> {
    let discovered = main.dead_letter_target().await.map_err(|e| {
        AppError::Runtime(format!("cannot reach the main queue {}: {e}", main.url()))
    })?;
    match (configured, discovered) {
        (Some(url), _) => Ok(url.to_owned()),
        (None, Some(url)) => Ok(url),
        (None, None) => Err(AppError::Config(ConfigError {
            setting: "JANITOR_DLQ_URL",
            problem: "not set, and the main queue has no RedrivePolicy naming a dead-letter queue"
                .into(),
        })),
    }
}

/// The daemon. Returns when `shutdown` resolves and the drain is over, or on a fatal error.
pub async fn run(
    settings: RunSettings,
    shutdown: impl Future<Output = ()>,
    metrics: Option<PrometheusHandle>,
) -> Result<(), AppError> {
    let ready = Readiness::default();
    let listener = http::bind(settings.http_addr)
        .await
        .map_err(|e| AppError::Runtime(format!("cannot listen on {}: {e}", settings.http_addr)))?;
    let http_stop = CancellationToken::new();
    let http_task = tokio::spawn(http::serve(
        listener,
        http::router(ready.clone(), metrics),
        http_stop.clone(),
    ));

    let conf = crate::aws::load_config(settings.wait_time).await;
    let main = SqsQueue::from_conf(&conf, &settings.common.queue_url);
    let dlq_url = resolve_dlq(&main, settings.common.dlq_url.as_deref()).await?;
    let dlq: Arc<dyn Queue> = Arc::new(main.sibling(dlq_url.clone()));
    let main: Arc<dyn Queue> = Arc::new(main);
    let store: Arc<dyn ObjectStore> =
        Arc::new(S3Store::from_conf(&conf, settings.common.force_path_style));
    tracing::info!(
        queue = %settings.common.queue_url,
        dlq = %dlq_url,
        concurrency = settings.concurrency.get(),
        dry_run = settings.dry_run,
        "image-janitor started"
    );

    let stop = CancellationToken::new();
    let abandon = CancellationToken::new();
    let fatal = CancellationToken::new();
    let (batcher, batcher_task) = DeleteBatcher::spawn(store.clone(), BatcherConfig::default());
    let (acker, acker_task) = Acker::spawn(main.clone(), Duration::from_millis(20));
    let ctx = Arc::new(Ctx {
        queue: main.clone(),
        dead_letter: DeadLetter::new(main.clone(), dlq.clone()),
        batcher,
        acker,
        policy: settings.common.policy.clone(),
        endpoint: settings.common.s3_endpoint.clone(),
        visibility: settings.visibility_timeout,
        max_attempts: settings.max_attempts.get(),
        dry_run: settings.dry_run,
        stop: stop.clone(),
        abandon: abandon.clone(),
    });
    let tracker = TaskTracker::new();
    let loop_config = LoopConfig {
        concurrency: settings.concurrency.get(),
        wait: settings.wait_time,
        visibility: settings.visibility_timeout,
        max_inflight: settings.concurrency.get() * 2 * crate::worker::RECEIVE_BATCH,
    };
    let mut loops = tokio::spawn(run_loops(
        ctx.clone(),
        loop_config,
        tracker.clone(),
        fatal.clone(),
    ));
    let background = TaskTracker::new();
    if let Some(every) = settings.queue_poll_interval {
        background.spawn(crate::depth::poll(
            main.clone(),
            dlq.clone(),
            every,
            stop.clone(),
        ));
    }
    if settings.sweep.interval.is_some() {
        background.spawn(crate::sweeper::timer::run(
            store.clone(),
            settings.common.policy.clone(),
            settings.sweep.clone(),
            stop.clone(),
        ));
    }
    ready.set(true);

    let failed = tokio::select! {
        _ = shutdown => false,
        _ = fatal.cancelled() => true,
    };
    // Stop receiving at once; /readyz turns 503; drain what is in hand.
    ready.set(false);
    stop.cancel();
    let drain = settings.shutdown_timeout;
    let mut loops_done = false;
    let drained = tokio::time::timeout(drain, async {
        let _ = (&mut loops).await;
        loops_done = true;
        tracker.close();
        tracker.wait().await;
    })
    .await
    .is_ok();
    if !drained {
        tracing::warn!(
            timeout_ms = drain.as_millis() as u64,
            "drain deadline passed; handing unfinished messages back"
        );
        abandon.cancel();
        // Receives in flight end within the long-poll wait; what they took is handed back.
        if !loops_done {
            let _ = tokio::time::timeout(settings.wait_time + Duration::from_secs(10), &mut loops)
                .await;
        }
        tracker.close();
        let _ = tokio::time::timeout(Duration::from_secs(10), tracker.wait()).await;
    }
    background.close();
    let _ = tokio::time::timeout(Duration::from_secs(5), background.wait()).await;
    drop(ctx);
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        let _ = batcher_task.await;
        let _ = acker_task.await;
    })
    .await;
    http_stop.cancel();
    let _ = http_task.await;
    if failed {
        return Err(AppError::Runtime(
            "a worker task failed; see the log above".into(),
        ));
    }
    tracing::info!(drained, "image-janitor stopped");
    Ok(())
}
