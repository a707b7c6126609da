//! Unit tests of `retry`.

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
