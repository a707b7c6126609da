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
use crate::queue::{Queue, QueueId};
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
    let discovered = redrive_target(main).await?;
    pick_dlq(main.url(), configured, discovered)
}

/// The DLQ named by the main queue's RedrivePolicy, if any (one GetQueueAttributes).
async fn redrive_target(main: &SqsQueue) -> Result<Option<String>, AppError> {
    main.dead_letter_target()
        .await
        .map_err(|e| AppError::Runtime(format!("cannot reach the main queue {}: {e}", main.url())))
}

fn pick_dlq(
    main: &str,
    configured: Option<&str>,
    discovered: Option<String>,
) -> Result<String, AppError> {
    let url =
        match (configured, discovered) {
            (Some(url), _) => url.to_owned(),
            (None, Some(url)) => url,
            (None, None) => return Err(AppError::Config(ConfigError {
                setting: "JANITOR_DLQ_URL",
                problem:
                    "not set, and the main queue has no RedrivePolicy naming a dead-letter queue"
                        .into(),
            })),
        };
    if QueueId::same_url(&url, main) {
        return Err(AppError::Config(ConfigError {
            setting: "JANITOR_DLQ_URL",
            problem: format!("the dead-letter queue {url} is the main queue itself"),
        }));
    }
    Ok(url)
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
    let discovered = redrive_target(&main).await?;
    check_dry_run(settings.dry_run, discovered.as_deref())?;
    let dlq_url = pick_dlq(main.url(), settings.common.dlq_url.as_deref(), discovered)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    const MAIN: &str = "http://127.0.0.1:4566/123456789012/jobs";
    const DLQ: &str = "http://127.0.0.1:4566/123456789012/jobs-dlq";

    fn setting(r: Result<impl std::fmt::Debug, AppError>) -> &'static str {
        match r {
            Err(AppError::Config(e)) => e.setting,
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    #[test]
    fn the_dlq_comes_from_the_setting_else_the_redrive_policy() {
        assert_eq!(pick_dlq(MAIN, Some(DLQ), None).unwrap(), DLQ);
        assert_eq!(pick_dlq(MAIN, None, Some(DLQ.into())).unwrap(), DLQ);
        assert_eq!(setting(pick_dlq(MAIN, None, None)), "JANITOR_DLQ_URL");
    }

    #[test]
    fn a_dlq_that_is_the_main_queue_is_refused_however_spelled() {
        let spelled = "http://localhost:4566/123456789012/jobs/";
        assert_eq!(
            setting(pick_dlq(MAIN, Some(spelled), None)),
            "JANITOR_DLQ_URL"
        );
        assert_eq!(
            setting(pick_dlq(MAIN, None, Some(MAIN.into()))),
            "JANITOR_DLQ_URL"
        );
    }

    #[test]
    fn dry_run_refuses_a_queue_with_a_redrive_policy() {
        assert_eq!(setting(check_dry_run(true, Some(DLQ))), "JANITOR_DRY_RUN");
        assert!(check_dry_run(true, None).is_ok());
        assert!(check_dry_run(false, Some(DLQ)).is_ok());
    }
}
