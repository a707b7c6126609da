//! Unit tests of `dlq::pace`.

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
