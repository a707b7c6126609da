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

#[tokio::test(start_paused = true)]
async fn a_partial_receive_wakes_one_fewer_loop_than_it_brought() {
    let watch = Arc::new(Watch::default());
    let stop = CancellationToken::new();
    let _poll = watch.polling();
    let parked: Vec<_> = (0..3)
        .map(|_| {
            let (watch, stop) = (watch.clone(), stop.clone());
            tokio::spawn(async move { watch.park_unless_alone(&stop).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(10)).await;
    let woken = |p: &[tokio::task::JoinHandle<bool>]| p.iter().filter(|h| h.is_finished()).count();
    watch.wake_for(1, 10);
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(woken(&parked), 0, "a lone message wakes no one");
    watch.wake_for(3, 10);
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(woken(&parked), 2, "three messages wake two loops");
    watch.wake_for(10, 10);
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(woken(&parked), 3, "a full receive wakes them all");
    assert_eq!(watch.parked.load(Ordering::SeqCst), 0);
}
