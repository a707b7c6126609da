//! The worker: N receive loops feeding per-message tasks, which share one delete batcher and one
//! acker so that requests are batched across messages, not only within one.

pub mod acker;
pub mod batcher;
pub mod forecast;
pub mod handle;
pub mod heartbeat;
pub mod intake;
#[cfg(test)]
mod pacing_tests;
mod start;
#[cfg(test)]
mod tests;
pub mod watch;

use std::sync::Arc;
use std::time::Duration;

use backon::BackoffBuilder;
use futures::FutureExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use handle::Ctx;
use intake::{HandOver, Intake, Reserved};
pub use start::{Worker, WorkerSettings};
use watch::Watch;

use crate::queue::Receipt;
use crate::retry::loop_backoff;
use crate::supervisor::{panic_message, Ended, Faults, Task};
use crate::telemetry::events::{MessagesReceived, ReceiveFailed, ReceiveRefused};

/// Messages per ReceiveMessage (the SQS maximum).
pub const RECEIVE_BATCH: usize = 10;

/// A receive loop makes at most one empty receive per this period. Long polls pace themselves;
/// short polling (`JANITOR_WAIT_TIME=0`) returns at once and would otherwise spin on an empty
/// queue, hundreds of ReceiveMessage calls per second per loop.
pub const EMPTY_RECEIVE_PERIOD: Duration = Duration::from_secs(1);

/// Receive-loop settings.
#[derive(Debug, Clone, Copy)]
pub struct LoopConfig {
    pub concurrency: usize,
    pub wait: Duration,
    pub visibility: Duration,
    /// Messages in hand at once across all loops (receives pause at the limit).
    pub max_inflight: usize,
}

/// One receive loop, until `ctx.stop` is cancelled; message tasks go to `tracker`. A permanent
/// receive error ends it with `Err` (the supervisor stops the process); a panicking message task
/// is reported to `faults`.
async fn receive_loop(
    id: usize,
    ctx: Arc<Ctx>,
    config: LoopConfig,
    tracker: TaskTracker,
    (permits, watch): (Arc<Semaphore>, Arc<Watch>),
    faults: Faults,
) -> Result<(), String> {
    let mut backoff = loop_backoff().build();
    let mut probe = Probe::new(ctx.batcher.intake().clone());
    let mut drained = false;
    loop {
        if drained && watch.park_unless_alone(&ctx.stop).await {
            probe.claim();
        }
        if ctx.stop.is_cancelled() {
            break;
        }
        let Some((permit, reserved)) = acquire(&permits, ctx.batcher.intake(), &ctx.stop).await
        else {
            break;
        };
        // A receive in flight is never cut short (dropping it could strand the messages it
        // took, invisible); what it returns after shutdown started is handed back at once.
        let receive_started = tokio::time::Instant::now();
        let was_probe = probe.owned;
        let wait = if was_probe {
            Duration::ZERO
        } else {
            config.wait
        };
        let polling = (!was_probe).then(|| watch.polling());
        let received = ctx
            .queue
            .receive(RECEIVE_BATCH as u8, wait, config.visibility)
            .await;
        drop(polling);
        let messages = match received {
            Ok(m) => {
                backoff = loop_backoff().build();
                m
            }
            Err(e) if e.is_transient() => {
                probe.give_up();
                let delay = backoff.next().unwrap_or(Duration::from_secs(20));
                ReceiveFailed {
                    receive_loop: id,
                    error: &e,
                    retry_in: delay,
                }
                .emit();
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = ctx.stop.cancelled() => break,
                }
                continue;
            }
            Err(e) => {
                probe.give_up();
                ReceiveRefused {
                    receive_loop: id,
                    error: &e,
                }
                .emit();
                return Err(format!(
                    "receive refused permanently: {}: {}",
                    e.code, e.message
                ));
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
        if ctx.stop.is_cancelled() {
            probe.give_up();
            let receipts: Vec<Receipt> = messages.iter().map(|m| m.receipt.clone()).collect();
            if !receipts.is_empty() {
                let _ = ctx
                    .queue
                    .change_visibility_batch(&receipts, Duration::ZERO)
                    .await;
            }
            break;
        }
        watch.wake_for(messages.len(), RECEIVE_BATCH);
        let holdings = ctx.batcher.intake().holding(messages.len());
        drop(reserved);
        let handovers = probe.received(messages.len());
        drained = messages.len() < RECEIVE_BATCH && !probe.owned;
        if messages.is_empty() && !was_probe {
            drop(permit);
            let idle = EMPTY_RECEIVE_PERIOD.saturating_sub(receive_started.elapsed());
            tokio::select! {
                _ = tokio::time::sleep(idle) => {}
                _ = ctx.stop.cancelled() => break,
            }
            continue;
        }
        let mut permit = permit;
        for ((msg, handover), holding) in messages.into_iter().zip(handovers).zip(holdings) {
            let Some(one) = permit.split(1) else { break };
            let ctx = ctx.clone();
            let faults = faults.clone();
            let message_id = msg.message_id.clone();
            tracker.spawn(async move {
                let _permit = (one, holding);
                let span = tracing::info_span!("message", message_id = %message_id);
                let result = std::panic::AssertUnwindSafe(tracing::Instrument::instrument(
                    handle::handle(ctx, msg, handover),
                    span,
                ))
                .catch_unwind()
                .await;
                if let Err(panic) = result {
                    let what = format!("{} (message {message_id})", panic_message(panic));
                    faults.report(Task::Message, Ended::Panicked(what));
                }
            });
        }
    }
    Ok(())
}

/// Permits for one receive's worth of messages, and the intake told they are reserved; while the
/// in-hand cap keeps this loop waiting, the intake knows (a batch may have to close for messages
/// to finish). `None` once shutdown starts.
async fn acquire(
    permits: &Arc<Semaphore>,
    intake: &Arc<Intake>,
    stop: &CancellationToken,
) -> Option<(OwnedSemaphorePermit, Reserved)> {
    let reserve = |p: OwnedSemaphorePermit| (p, intake.reserving(RECEIVE_BATCH));
    if let Ok(p) = permits.clone().try_acquire_many_owned(RECEIVE_BATCH as u32) {
        return Some(reserve(p));
    }
    let _starving = intake.starving();
    tokio::select! {
        p = permits.clone().acquire_many_owned(RECEIVE_BATCH as u32) => p.ok().map(reserve),
        _ = stop.cancelled() => None,
    }
}

/// A loop's probe: after a receive that may have more behind it (or a wake-up by another loop's
/// long poll), the next receive is a short poll whose answer tells the batcher whether more is
/// coming; the batch stays open until it returns (see [`intake`]). Released on drop.
struct Probe {
    intake: Arc<Intake>,
    owned: bool,
}

impl Probe {
    fn new(intake: Arc<Intake>) -> Self {
        Probe {
            intake,
            owned: false,
        }
    }

    /// Report a receive of `count` messages; one hand-over guard per message. A long poll that
    /// brought anything, or a full probe, may have more behind it: this loop probes next.
    fn received(&mut self, count: usize) -> Vec<HandOver> {
        let more_may_follow = if self.owned {
            count >= RECEIVE_BATCH
        } else {
            count > 0
        };
        let (guards, owned) = self.intake.received(count, more_may_follow, self.owned);
        self.owned = owned;
        guards
    }

    /// Woken by another loop's receive that brought messages: this loop probes next.
    fn claim(&mut self) {
        if !self.owned {
            self.owned = true;
            self.intake.claim_probe();
        }
    }

    /// This loop will not make the probe it owns (error, shutdown).
    fn give_up(&mut self) {
        if std::mem::take(&mut self.owned) {
            self.intake.drop_probe();
        }
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.give_up();
    }
}
