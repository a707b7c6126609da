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
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn paces_batches_over_the_run() {
        let mut p = Pacer::new(Some(20.0));
        assert_eq!(p.batch_size(), 10);
        let start = Instant::now();
        for _ in 0..5 {
            p.admit(10).await;
        }
        // 5 batches of 10 at 20/s: the 5th may start at 4 × 0.5 s.
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn slow_rates_send_one_at_a_time_and_unlimited_never_waits() {
        let mut p = Pacer::new(Some(0.5));
        assert_eq!(p.batch_size(), 1);
        let start = Instant::now();
        p.admit(1).await;
        p.admit(1).await;
        assert_eq!(start.elapsed(), Duration::from_secs(2));
        let mut free = Pacer::new(None);
        free.admit(10).await;
        free.admit(10).await;
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }
}
