//! Which receive loops poll an idle queue: one. Once a receive finds the queue drained (it came
//! back partial or empty), its loop parks while another loop's long poll is out, and a loop whose
//! receive brings messages wakes them: all of them after a full receive (a burst), one fewer
//! than it brought after a partial one. A lone message at light load wakes no one (its own
//! loop's probe is enough; waking every loop cost one empty probe per loop per message, 7
//! requests a message at 5 messages/s), while a long poll that returns the first few messages
//! of a burst brings the other loops in at once (waking them only after a full probe cost a
//! round trip per burst: 1.2-1.3x the per-receive batcher's drain time).
//!
//! Why: with every loop long-polling an idle queue, the first messages of a burst are spread over
//! all of them (each long poll returns as soon as anything is visible), so a burst starts with
//! several small receives and as many small delete batches; and each idle loop costs three
//! ReceiveMessage calls a minute. With one watcher the burst's first receive wakes the rest,
//! which then find the burst waiting and take full receives.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Shared by the receive loops of one process.
#[derive(Debug, Default)]
pub struct Watch {
    /// Long polls (not probes) in flight.
    polling: AtomicUsize,
    /// Loops parked (or about to park) in [`Watch::park_unless_alone`].
    parked: AtomicUsize,
    wake: Notify,
}

impl Watch {
    /// Park until woken if another loop is long-polling; return at once otherwise (this loop
    /// becomes a watcher) or when `stop` is cancelled. `true`: parked and woken because messages
    /// arrived (the loop's next receive should be a probe).
    pub async fn park_unless_alone(&self, stop: &CancellationToken) -> bool {
        self.parked.fetch_add(1, Ordering::SeqCst);
        let _unpark = Unpark(&self.parked);
        let woken = self.wake.notified();
        tokio::pin!(woken);
        // Registered before the check, so a wake-up between the check and the wait is not lost.
        woken.as_mut().enable();
        if self.polling.load(Ordering::SeqCst) == 0 {
            return false;
        }
        tokio::select! {
            _ = woken => true,
            _ = stop.cancelled() => false,
        }
    }

    /// A receive brought `count` messages: wake as many parked loops as it suggests are
    /// needed. A full receive (a burst) wakes them all; a partial one wakes `count - 1`, so a
    /// lone message at light load wakes none (its own loop's probe is enough) while the first
    /// few messages of a burst bring the other loops in at once.
    pub fn wake_for(&self, count: usize, full: usize) {
        if count >= full {
            self.wake_all();
            return;
        }
        let parked = self.parked.load(Ordering::SeqCst);
        for _ in 0..count.saturating_sub(1).min(parked) {
            self.wake.notify_one();
        }
    }

    /// A long poll is out while the guard lives.
    pub fn polling(&self) -> Polling<'_> {
        self.polling.fetch_add(1, Ordering::SeqCst);
        Polling { watch: self }
    }

    /// A full receive: every parked loop receives again.
    pub fn wake_all(&self) {
        self.wake.notify_waiters();
    }
}

/// Counts a loop out of [`Watch::park_unless_alone`] however it leaves.
struct Unpark<'a>(&'a AtomicUsize);

impl Drop for Unpark<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// See [`Watch::polling`].
#[derive(Debug)]
pub struct Polling<'a> {
    watch: &'a Watch,
}

impl Drop for Polling<'_> {
    fn drop(&mut self) {
        self.watch.polling.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
#[path = "watch_tests.rs"]
mod tests;
