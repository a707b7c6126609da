//! The worker: N receive loops feeding per-message tasks, which share one delete batcher and one
//! acker so that requests are batched across messages, not only within one.

pub mod acker;
pub mod batcher;
pub mod handle;
pub mod heartbeat;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use backon::BackoffBuilder;
use futures::FutureExt;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use handle::Ctx;

use crate::queue::Receipt;
use crate::retry::loop_backoff;
use crate::telemetry::events::MessagesReceived;

/// Messages per ReceiveMessage (the SQS maximum).
pub const RECEIVE_BATCH: usize = 10;

/// A receive loop makes at most one empty receive per this period. Long polls pace themselves;
/// short polling (`JANITOR_WAIT_TIME=0`) returns at once and would otherwise spin on an empty
/// queue, hundreds of ReceiveMessage calls per second per loop.
pub const EMPTY_RECEIVE_PERIOD: Duration = Duration::from_secs(1);

/// After a receive that returned fewer than 10 messages, a loop waits this long before the next
/// one, so that light traffic is gathered into fuller receives and delete batches.
pub const PARTIAL_RECEIVE_PAUSE: Duration = Duration::from_millis(250);

/// Receive-loop settings.
#[derive(Debug, Clone, Copy)]
pub struct LoopConfig {
    pub concurrency: usize,
    pub wait: Duration,
    pub visibility: Duration,
    /// Messages in hand at once across all loops (receives pause at the limit).
    pub max_inflight: usize,
}

/// Run the receive loops until `ctx.stop` is cancelled; message tasks go to `tracker`.
/// A panicking message task or a permanent receive error cancels `fatal`.
pub async fn run_loops(
    ctx: Arc<Ctx>,
    config: LoopConfig,
    tracker: TaskTracker,
    fatal: CancellationToken,
) {
    let permits = Arc::new(Semaphore::new(config.max_inflight.max(RECEIVE_BATCH)));
    let mut loops = Vec::new();
    for id in 0..config.concurrency {
        loops.push(tokio::spawn(receive_loop(
            id,
            ctx.clone(),
            config,
            tracker.clone(),
            permits.clone(),
            fatal.clone(),
        )));
    }
    for l in loops {
        if l.await.is_err() {
            fatal.cancel();
        }
    }
}

async fn receive_loop(
    id: usize,
    ctx: Arc<Ctx>,
    config: LoopConfig,
    tracker: TaskTracker,
    permits: Arc<Semaphore>,
    fatal: CancellationToken,
) {
    let mut backoff = loop_backoff().build();
    loop {
        if ctx.stop.is_cancelled() {
            break;
        }
        let permit = tokio::select! {
            p = permits.clone().acquire_many_owned(RECEIVE_BATCH as u32) => match p { Ok(p) => p, Err(_) => break },
            _ = ctx.stop.cancelled() => break,
        };
        // A receive in flight is never cut short (dropping it could strand the messages it
        // took, invisible); what it returns after shutdown started is handed back at once.
        let receive_started = tokio::time::Instant::now();
        let received = ctx
            .queue
            .receive(RECEIVE_BATCH as u8, config.wait, config.visibility)
            .await;
        let messages = match received {
            Ok(m) => {
                backoff = loop_backoff().build();
                m
            }
            Err(e) if e.is_transient() => {
                let delay = backoff.next().unwrap_or(Duration::from_secs(20));
                tracing::warn!(receive_loop = id, code = %e.code, request_id = e.request_id.as_deref(), error = %e.message, retry_in_ms = delay.as_millis() as u64, "receive failed; backing off");
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = ctx.stop.cancelled() => break,
                }
                continue;
            }
            Err(e) => {
                tracing::error!(receive_loop = id, code = %e.code, request_id = e.request_id.as_deref(), error = %e.message, "receive refused permanently; stopping");
                fatal.cancel();
                break;
            }
        };
        let now = std::time::SystemTime::now();
        MessagesReceived {
            count: messages.len(),
            oldest_age: messages
                .iter()
                .filter_map(|m| m.sent_at.and_then(|t| now.duration_since(t).ok()))
                .max(),
        }
        .emit();
        if messages.is_empty() {
            let idle = EMPTY_RECEIVE_PERIOD.saturating_sub(receive_started.elapsed());
            tokio::select! {
                _ = tokio::time::sleep(idle) => {}
                _ = ctx.stop.cancelled() => break,
            }
            continue;
        }
        if ctx.stop.is_cancelled() {
            let receipts: Vec<Receipt> = messages.iter().map(|m| m.receipt.clone()).collect();
            let _ = ctx
                .queue
                .change_visibility_batch(&receipts, Duration::ZERO)
                .await;
            break;
        }
        let partial = messages.len() < RECEIVE_BATCH;
        let mut permit = permit;
        for msg in messages {
            let Some(one) = permit.split(1) else { break };
            let ctx = ctx.clone();
            let fatal = fatal.clone();
            let message_id = msg.message_id.clone();
            tracker.spawn(async move {
                let _permit = one;
                let span = tracing::info_span!("message", message_id = %message_id);
                let result = std::panic::AssertUnwindSafe(tracing::Instrument::instrument(
                    handle::handle(ctx, msg),
                    span,
                ))
                .catch_unwind()
                .await;
                if result.is_err() {
                    tracing::error!(message_id = %message_id, "message task panicked; shutting down");
                    fatal.cancel();
                }
            });
        }
        if partial {
            // A partial receive means the queue is nearly empty: let messages gather so the
            // next receive (and the delete batch it feeds) is fuller. Costs ≤ this in latency.
            tokio::select! {
                _ = tokio::time::sleep(PARTIAL_RECEIVE_PAUSE) => {}
                _ = ctx.stop.cancelled() => break,
            }
        }
    }
}
