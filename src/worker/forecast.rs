//! How many acknowledgements are about to reach the acker. A DeleteObjects that deleted every
//! key wakes all its messages at once, and each then acknowledges within a few scheduler turns
//! (audit events, the heartbeat's stop): the batcher says how many, before it wakes them, and
//! the acker keeps a DeleteMessageBatch open for them instead of guessing from idle turns, which
//! sent batches of 1 when a turn ran long.
//!
//! A forecast is an upper bound: a message with keys in two buckets is counted by both batches,
//! and one that another batch still holds up acknowledges later. The acker's linger bounds the
//! wait for such a message, and a forecast not met by then is dropped.

use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, Default)]
pub struct AckForecast {
    due: AtomicUsize,
}

impl AckForecast {
    /// `n` acknowledgements are on their way.
    pub fn expect(&self, n: usize) {
        self.due.fetch_add(n, Ordering::AcqRel);
    }

    /// One acknowledgement reached the acker.
    pub fn arrived(&self) {
        let _ = self
            .due
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |d| d.checked_sub(1));
    }

    /// Acknowledgements still expected.
    pub fn due(&self) -> usize {
        self.due.load(Ordering::Acquire)
    }

    /// The linger passed with acknowledgements still expected: they are not coming soon.
    pub fn clear(&self) {
        self.due.store(0, Ordering::Release);
    }
}
