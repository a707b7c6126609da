//! Which receive loops poll an idle queue: one. Once a receive finds the queue drained (it came
//! back partial or empty), its loop parks while another loop's long poll is out, and a loop whose
//! receive comes back full (ten messages: a burst) wakes them all. A partial long poll wakes
//! no one: its own loop probes once, and wakes the rest only if that probe comes back full (at
//! light load, waking every loop cost one empty probe per loop per message).
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
    wake: Notify,
}

impl Watch {
    /// Park until woken if another loop is long-polling; return at once otherwise (this loop
    /// becomes a watcher) or when `stop` is cancelled. `true`: parked and woken because messages
    /// arrived (the loop's next receive should be a probe).
    pub async fn park_unless_alone(&self, stop: &CancellationToken) -> bool {
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
