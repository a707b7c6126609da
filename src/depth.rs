//! The queue-depth poller: reads both queues' approximate depth every
//! `JANITOR_QUEUE_POLL_INTERVAL` for the `janitor_queue_messages` gauge.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::queue::Queue;
use crate::telemetry::events::{QueueDepthFailed, QueueDepthObserved};

/// Poll until `stop` is cancelled. Failures are logged and retried at the next tick.
pub async fn poll(
    main: Arc<dyn Queue>,
    dlq: Arc<dyn Queue>,
    every: Duration,
    stop: CancellationToken,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.cancelled() => return,
        }
        for (name, queue) in [("main", &main), ("dlq", &dlq)] {
            match queue.depth().await {
                Ok(d) => QueueDepthObserved {
                    queue: name,
                    visible: d.visible,
                    inflight: d.inflight,
                    delayed: d.delayed,
                }
                .emit(),
                Err(error) => QueueDepthFailed {
                    queue: name,
                    error: &error,
                }
                .emit(),
            }
        }
    }
}
