//! The `dlq peek` / `dlq replay` entry points: AWS clients, DLQ resolution (JANITOR_DLQ_URL,
//! else the main queue's RedrivePolicy), printing, and the error that `main` maps to exit 1.

use std::io::Write;
use std::time::Duration;

use super::peek::{peek as peek_queue, write_report, PeekOptions};
use super::progress::Progress;
use super::render;
use super::replay::replay as replay_queue;
use crate::config::{ConfigError, DlqCommon, PeekSettings, ReplaySettings};
use crate::error::AppError;
use crate::queue::resolve::resolve_dlq;
use crate::queue::sqs::SqsQueue;
use crate::queue::{Queue, QueueId};
use crate::telemetry::events::DlqReplayFinished;

/// The main queue and the DLQ; fails with a configuration error when no DLQ can be found.
async fn connect(common: &DlqCommon) -> Result<(SqsQueue, SqsQueue), AppError> {
    let conf = crate::aws::load_config(Duration::from_secs(20)).await;
    let main = SqsQueue::from_conf(&conf, &common.queue_url);
    let dlq_url = resolve_dlq(&main, common.dlq_url.as_deref()).await?;
    let dlq = main.sibling(dlq_url);
    Ok((main, dlq))
}

fn output_error(e: std::io::Error) -> AppError {
    AppError::Runtime(format!("cannot write the output: {e}"))
}

/// `image-janitor dlq peek`.
pub async fn peek(common: &DlqCommon, settings: &PeekSettings) -> Result<(), AppError> {
    let (_main, dlq) = connect(common).await?;
    let report = peek_queue(&dlq, &PeekOptions::new(settings.max))
        .await
        .map_err(|e| AppError::Runtime(format!("dlq peek: {e}")))?;
    write_report(
        &report,
        settings.json,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    )
    .map_err(output_error)
}

/// `image-janitor dlq replay`.
pub async fn replay(common: &DlqCommon, settings: &ReplaySettings) -> Result<(), AppError> {
    let (main, dlq) = connect(common).await?;
    let target = match &settings.to {
        Some(url) if QueueId::same_url(url, dlq.url()) => {
            return Err(AppError::Config(ConfigError {
                setting: "--to",
                problem: format!("{url} is the dead-letter queue itself"),
            }))
        }
        Some(url) => main.sibling(url.clone()),
        None => main,
    };
    let depth = dlq.depth().await.map_err(|e| {
        AppError::Runtime(format!(
            "dlq replay: cannot read the dead-letter queue {}: {e}",
            dlq.url()
        ))
    })?;
    let progress = Progress::new(depth.visible);
    let opts = &settings.options;
    let report = replay_queue(&dlq, &target, opts, &progress).await;
    progress.finish();
    for f in &report.restore_failures {
        eprintln!(
            "image-janitor: dlq replay: message {}: could not be made visible again at once ({}); it reappears when its visibility timeout ends",
            render::clean(&f.message_id),
            f.error
        );
    }
    DlqReplayFinished {
        dlq: dlq.url(),
        target: target.url(),
        replayed: report.replayed,
        skipped: report.skipped,
        would_replay: report.would_replay,
        failed: report.failures.len(),
        dry_run: opts.dry_run,
    }
    .emit();
    let mut out = std::io::stdout().lock();
    if opts.dry_run {
        writeln!(
            out,
            "would replay {} messages (skipped {})",
            report.would_replay, report.skipped
        )
        .map_err(output_error)?;
    }
    writeln!(out, "{}", render::summary(report.replayed, report.skipped)).map_err(output_error)?;
    out.flush().map_err(output_error)?;
    if let Some(e) = report.aborted {
        return Err(AppError::Runtime(format!("dlq replay stopped early: {e}")));
    }
    if !report.failures.is_empty() {
        return Err(AppError::Runtime(format!(
            "dlq replay: {} messages were not moved cleanly (see above); they are still in the dead-letter queue",
            report.failures.len()
        )));
    }
    Ok(())
}
