//! Unit tests of `worker::watch`.

use std::sync::Arc;
use std::time::Duration;

use super::*;

#[tokio::test(start_paused = true)]
async fn parks_behind_a_long_poll_and_wakes_when_it_brings_messages() {
    let watch = Arc::new(Watch::default());
    let stop = CancellationToken::new();
    // Alone: no parking.
    assert!(!watch.park_unless_alone(&stop).await);
    let poll = watch.polling();
    let parked = {
        let (watch, stop) = (watch.clone(), stop.clone());
        tokio::spawn(async move { watch.park_unless_alone(&stop).await })
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        !parked.is_finished(),
        "parked while another loop long-polls"
    );
    drop(poll);
    watch.wake_all();
    let woken = tokio::time::timeout(Duration::from_secs(1), parked)
        .await
        .expect("woken")
        .expect("no panic");
    assert!(woken, "woken by messages");
}

#[tokio::test(start_paused = true)]
async fn shutdown_unparks() {
    let watch = Arc::new(Watch::default());
    let stop = CancellationToken::new();
    let _poll = watch.polling();
    let parked = {
        let (watch, stop) = (watch.clone(), stop.clone());
        tokio::spawn(async move { watch.park_unless_alone(&stop).await })
    };
    stop.cancel();
    let woken = tokio::time::timeout(Duration::from_secs(1), parked)
        .await
        .expect("unparked by the stop")
        .expect("no panic");
    assert!(!woken, "a stop is no wake-up");
}
