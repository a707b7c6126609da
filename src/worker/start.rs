//! The worker as one unit: [`Worker::start`] wires the context, delete batcher, acker and receive
//! loops (their tasks under the caller's supervisor), and [`Worker::drain`] ends them on shutdown:
//! stop receiving, finish what is in hand by a deadline, hand back the rest (visibility 0).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::acker::Acker;
use super::batcher::{BatcherConfig, DeleteBatcher};
use super::intake::Intake;
use super::watch::Watch;
use super::{receive_loop, Ctx, LoopConfig, RECEIVE_BATCH};
use crate::config::RunSettings;
use crate::deadletter::DeadLetter;
use crate::queue::Queue;
use crate::s3url::{LocationPolicy, S3Endpoint};
use crate::shutdown::HAND_BACK_GRACE;
use crate::store::ObjectStore;
use crate::supervisor::{Supervisor, Task};

/// How long the acker gathers a DeleteMessageBatch at most.
pub const ACK_LINGER: Duration = Duration::from_millis(20);

/// What the worker needs from the settings, and the tuning tests change.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub policy: LocationPolicy,
    pub endpoint: Option<S3Endpoint>,
    pub max_attempts: u32,
    pub dry_run: bool,
    pub loops: LoopConfig,
    pub batcher: BatcherConfig,
    pub ack_linger: Duration,
}

impl WorkerSettings {
    /// The worker of `image-janitor run`: up to two receives' worth of messages per loop in hand.
    pub fn from_run(s: &RunSettings) -> Self {
        WorkerSettings {
            policy: s.common.policy.clone(),
            endpoint: s.common.s3_endpoint.clone(),
            max_attempts: s.max_attempts.get(),
            dry_run: s.dry_run,
            loops: LoopConfig {
                concurrency: s.concurrency.get(),
                wait: s.wait_time,
                visibility: s.visibility_timeout,
                max_inflight: s.concurrency.get() * 2 * RECEIVE_BATCH,
            },
            batcher: BatcherConfig::default(),
            ack_linger: ACK_LINGER,
        }
    }
}

/// A running worker. Its batcher, acker and receive loops run under the supervisor given to
/// [`Worker::start`]; message tasks run on the worker's own tracker.
pub struct Worker {
    ctx: Arc<Ctx>,
    loops: TaskTracker,
    messages: TaskTracker,
    wait: Duration,
}

impl Worker {
    /// Wire and start the worker; `tasks` supervises its long-lived tasks.
    pub fn start(
        queue: Arc<dyn Queue>,
        dlq: Arc<dyn Queue>,
        store: Arc<dyn ObjectStore>,
        settings: WorkerSettings,
        tasks: &mut Supervisor,
    ) -> Worker {
        let (batcher, batcher_task) = DeleteBatcher::new(store, settings.batcher);
        tasks.spawn(Task::Batcher, batcher_task);
        let (acker, acker_task) = Acker::new(
            queue.clone(),
            settings.ack_linger,
            batcher.forecast().clone(),
        );
        tasks.spawn(Task::Acker, acker_task);
        let config = settings.loops;
        let ctx = Arc::new(Ctx {
            queue: queue.clone(),
            dead_letter: DeadLetter::new(queue, dlq),
            batcher,
            acker,
            policy: settings.policy,
            endpoint: settings.endpoint,
            visibility: config.visibility,
            max_attempts: settings.max_attempts,
            dry_run: settings.dry_run,
            stop: CancellationToken::new(),
            abandon: CancellationToken::new(),
        });
        let (loops, messages) = (TaskTracker::new(), TaskTracker::new());
        let capacity = config.max_inflight.max(RECEIVE_BATCH);
        let permits = Arc::new(Semaphore::new(capacity));
        ctx.batcher
            .intake()
            .set_receive_room(capacity - RECEIVE_BATCH);
        let watch = Arc::new(Watch::default());
        for id in 0..config.concurrency {
            let one = receive_loop(
                id,
                ctx.clone(),
                config,
                messages.clone(),
                (permits.clone(), watch.clone()),
                tasks.faults(),
            );
            tasks.spawn(Task::ReceiveLoop(id), loops.track_future(one));
        }
        loops.close();
        Worker {
            ctx,
            loops,
            messages,
            wait: config.wait,
        }
    }

    /// What the receive loops report to (tests read its state).
    pub fn intake(&self) -> &Arc<Intake> {
        self.ctx.batcher.intake()
    }

    /// Stop receiving now (a receive in flight returns what it took to the queue).
    pub fn stop(&self) {
        self.ctx.stop.cancel();
    }

    /// Stop receiving now; wait up to `deadline` for the messages in hand to finish; past it,
    /// abandon them (each is handed back with visibility 0). A receive in flight is let return
    /// (within the long-poll wait) and what it took is handed back. Returns whether everything
    /// finished by the deadline. The batcher and acker end once the worker is dropped here.
    pub async fn drain(self, deadline: Duration) -> bool {
        self.stop();
        let (loops, messages) = (self.loops.clone(), self.messages.clone());
        let drained = tokio::time::timeout(deadline, async {
            loops.wait().await;
            messages.close();
            messages.wait().await;
        })
        .await
        .is_ok();
        if !drained {
            tracing::warn!(
                timeout_ms = deadline.as_millis() as u64,
                "drain deadline passed; handing unfinished messages back"
            );
            self.ctx.abandon.cancel();
            let _ = tokio::time::timeout(self.wait + HAND_BACK_GRACE, async {
                loops.wait().await;
                messages.close();
                messages.wait().await;
            })
            .await;
        }
        drained
    }
}
