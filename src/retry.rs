//! Backoff policies: how long to wait before trying a transient failure again.
//! What counts as transient is [`crate::aws_error`]'s job.

use std::time::Duration;

use backon::ExponentialBuilder;

/// In-process retry for transient delete failures: exponential with full jitter, bounded.
/// Total worst-case wait is about 0.2 + 0.4 + 0.8 + 1.6 = 3 s before the message is released.
pub fn delete_backoff() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(2))
        .with_factor(2.0)
        .with_max_times(4)
        .with_jitter()
}

/// Backoff for a receive loop or poller whose AWS call failed: never a hot loop.
pub fn loop_backoff() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(250))
        .with_max_delay(Duration::from_secs(20))
        .with_factor(2.0)
        .without_max_times()
        .with_jitter()
}

/// Visibility delay for a message released after in-process retries failed: grows with the
/// receive count (5 s, 10 s, 20 s, ... capped at 15 min), with ±20 % jitter so that messages
/// that failed together do not all come back together.
pub fn release_delay(receive_count: u32) -> Duration {
    let exp = receive_count.saturating_sub(1).min(16);
    let base = 5u64.saturating_mul(1u64 << exp).min(900);
    let jitter = 0.8 + fastrand::f64() * 0.4;
    Duration::from_secs_f64(base as f64 * jitter).min(Duration::from_secs(900))
}

#[cfg(test)]
mod tests {
    use super::*;
    use backon::BackoffBuilder;

    /// backon's jitter adds up to one more delay: a step of `d` waits in `[d, 2d)`.
    fn within(d: Duration, step: Duration) -> bool {
        d >= step && d < step * 2
    }

    #[test]
    fn delete_backoff_is_four_doubling_steps_from_200ms() {
        for _ in 0..20 {
            let delays: Vec<Duration> = delete_backoff().build().collect();
            assert_eq!(delays.len(), 4, "{delays:?}");
            for (d, ms) in delays.iter().zip([200, 400, 800, 1600]) {
                assert!(within(*d, Duration::from_millis(ms)), "{delays:?}");
            }
        }
    }

    #[test]
    fn loop_backoff_never_gives_up_and_is_capped_at_20s() {
        let delays: Vec<Duration> = loop_backoff().build().take(50).collect();
        assert_eq!(delays.len(), 50, "a receive loop never stops retrying");
        assert!(within(delays[0], Duration::from_millis(250)), "{delays:?}");
        assert!(within(delays[1], Duration::from_millis(500)), "{delays:?}");
        for d in &delays[10..] {
            assert!(within(*d, Duration::from_secs(20)), "{delays:?}");
        }
    }

    #[test]
    fn release_delay_grows_and_is_capped() {
        for _ in 0..50 {
            let d1 = release_delay(1).as_secs_f64();
            assert!((4.0..=6.0).contains(&d1), "{d1}");
            let d3 = release_delay(3).as_secs_f64();
            assert!((16.0..=24.0).contains(&d3), "{d3}");
            assert!(release_delay(40) <= Duration::from_secs(900));
        }
    }
}
