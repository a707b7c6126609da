//! `--rate`: a real rate limit on messages sent, as a token bucket holding one batch
//! (GCRA): a batch of `n` may go at `t`, the next no earlier than `t + n / rate`.

use std::time::Duration;

use tokio::time::Instant;

/// Paces sends to at most `rate` messages per second over the run.
#[derive(Debug)]
pub struct Pacer {
    rate: Option<f64>,
    next: Option<Instant>,
}

impl Pacer {
    /// `None` = unlimited. `rate` must be positive and finite (validated in `config`).
    pub fn new(rate: Option<f64>) -> Self {
        Pacer { rate, next: None }
    }

    /// How many messages to take per batch: a burst never exceeds about one second's worth.
    pub fn batch_size(&self) -> usize {
        match self.rate {
            Some(r) => (r.floor() as usize).clamp(1, super::scan::BATCH),
            None => super::scan::BATCH,
        }
    }

    /// Wait until `n` more messages may be sent, and account for them.
    pub async fn admit(&mut self, n: usize) {
        let Some(rate) = self.rate else { return };
        if n == 0 {
            return;
        }
        let now = Instant::now();
        let at = self.next.map_or(now, |t| t.max(now));
        tokio::time::sleep_until(at).await;
        self.next = Some(at + Duration::from_secs_f64(n as f64 / rate));
    }
}

#[cfg(test)]
#[path = "pace_tests.rs"]
mod tests;
