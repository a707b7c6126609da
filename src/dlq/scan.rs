//! Receiving from the DLQ without losing track: distinct messages by id, each held hidden until
//! the end of the run and then made visible again (visibility 0) unless it was deleted.
//!
//! Why hold instead of releasing each message right after receiving it: SQS (and moto, which
//! returns messages in order) readily hands the same visible messages back on the next receive,
//! so a scan that released at once could see the same ten messages again and again and never
//! reach the rest (a `--reason` filter would starve). Holding is bounded by a short visibility
//! timeout, so a crash leaves a message hidden for at most that long; nothing is ever lost.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use backon::Retryable;
use tokio::time::Instant;

use crate::aws_error::AwsError;
use crate::queue::{Queue, Receipt, Received};

/// ChangeMessageVisibilityBatch / DeleteMessageBatch take at most this many entries.
pub const BATCH: usize = 10;

/// A message that could not be made visible again (it will reappear when its hold expires).
#[derive(Debug, Clone)]
pub struct RestoreFailure {
    pub message_id: String,
    pub error: AwsError,
}

/// The receive side of `peek` and `replay`.
pub struct Scanner<'a> {
    queue: &'a dyn Queue,
    /// Visibility timeout of every receive: how long a message is held.
    hold: Duration,
    /// Stop once a receive call has waited this long without anything new. Counted from the
    /// start of each `next_new`, not from the last new message: the caller's work between calls
    /// (sending, deleting, pacing) is not idleness, and counting it ended a slow replay early.
    idle: Duration,
    seen: HashSet<String>,
    /// Received and not deleted: message id → latest receipt.
    held: HashMap<String, Receipt>,
    waiting_since: Instant,
}

impl<'a> Scanner<'a> {
    pub fn new(queue: &'a dyn Queue, hold: Duration, idle: Duration) -> Self {
        Scanner {
            queue,
            hold,
            idle,
            seen: HashSet::new(),
            held: HashMap::new(),
            waiting_since: Instant::now(),
        }
    }

    /// Up to `max` (1..=10) messages never seen before in this run, all held hidden.
    /// `None` when nothing new arrived for the idle timeout. Messages seen before that come
    /// back (their hold expired) are held again with their new receipt and not returned.
    pub async fn next_new(&mut self, max: usize) -> Result<Option<Vec<Received>>, AwsError> {
        let max = u8::try_from(max.clamp(1, BATCH)).unwrap_or(10);
        self.waiting_since = Instant::now();
        loop {
            let left = self.idle.saturating_sub(self.waiting_since.elapsed());
            if left.is_zero() {
                return Ok(None);
            }
            // SQS waits in whole seconds; round up so a receive covers what is left.
            let wait = Duration::from_secs(left.as_secs() + u64::from(left.subsec_nanos() > 0))
                .clamp(Duration::from_secs(1), Duration::from_secs(20));
            let got = (|| self.queue.receive(max, wait, self.hold))
                .retry(short_retry())
                .when(|e: &AwsError| e.is_transient())
                .await?;
            let mut fresh = Vec::new();
            for m in got {
                self.held.insert(m.message_id.clone(), m.receipt.clone());
                if self.seen.insert(m.message_id.clone()) {
                    fresh.push(m);
                }
            }
            if !fresh.is_empty() {
                return Ok(Some(fresh));
            }
        }
    }

    /// The message was deleted: nothing to make visible again.
    pub fn forget(&mut self, message_id: &str) {
        self.held.remove(message_id);
    }

    /// Distinct messages received so far.
    pub fn seen(&self) -> usize {
        self.seen.len()
    }

    /// Make every held message visible again at once (visibility 0), in batches of 10.
    pub async fn restore(&mut self) -> Vec<RestoreFailure> {
        let held: Vec<(String, Receipt)> = self.held.drain().collect();
        let mut failures = Vec::new();
        for chunk in held.chunks(BATCH) {
            let receipts: Vec<Receipt> = chunk.iter().map(|(_, r)| r.clone()).collect();
            let results = (|| {
                self.queue
                    .change_visibility_batch(&receipts, Duration::ZERO)
            })
            .retry(short_retry())
            .when(|e: &AwsError| e.is_transient())
            .await;
            match results {
                Ok(results) => {
                    for ((id, _), result) in chunk.iter().zip(results) {
                        if let Err(error) = result {
                            failures.push(RestoreFailure {
                                message_id: id.clone(),
                                error,
                            });
                        }
                    }
                }
                Err(error) => failures.extend(chunk.iter().map(|(id, _)| RestoreFailure {
                    message_id: id.clone(),
                    error: error.clone(),
                })),
            }
        }
        failures
    }
}

/// A few quick retries of transient call failures (throttling, a dropped connection).
pub fn short_retry() -> backon::ExponentialBuilder {
    backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(2))
        .with_max_times(3)
        .with_jitter()
}

#[cfg(test)]
#[path = "scan_tests.rs"]
mod tests;
