//! Unit tests of `worker::acker`.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::fakes::FakeQueue;
use crate::queue::{Attributes, Receipt};

#[tokio::test(start_paused = true)]
async fn one_receipt_acknowledged_twice_goes_out_once_and_answers_both() {
    let queue = FakeQueue::new("https://sqs.us-east-1.amazonaws.com/123456789012/q");
    for i in 0..3 {
        queue.push(&format!("body {i}"), Attributes::new());
    }
    let got = queue
        .receive(10, Duration::ZERO, Duration::from_secs(30))
        .await
        .expect("receive");
    assert_eq!(got.len(), 3);
    let (acker, task) = Acker::spawn(
        Arc::new(queue.clone()),
        Duration::from_millis(20),
        Arc::default(),
    );
    // The first message twice (two tasks holding the same handle), then the others: one batch.
    let mut acks = Vec::new();
    for m in [&got[0], &got[0], &got[1], &got[2]] {
        let (acker, receipt) = (acker.clone(), m.receipt.clone());
        acks.push(tokio::spawn(async move { acker.ack(receipt, None).await }));
    }
    for a in acks {
        assert!(a.await.expect("no panic").is_ok(), "every ack succeeds");
    }
    drop(acker);
    task.await.expect("acker ends");
    assert!(queue.is_empty(), "all three deleted");
    let batches = queue.delete_batch_sizes();
    assert_eq!(batches, vec![3], "one request, each handle once");
}

/// `n` messages received from a fresh fake queue, and an acker on it sharing `forecast`.
async fn rig(n: usize, forecast: Arc<AckForecast>) -> (FakeQueue, Vec<Receipt>, Acker) {
    let queue = FakeQueue::new("https://sqs.us-east-1.amazonaws.com/123456789012/q");
    for i in 0..n {
        queue.push(&format!("body {i}"), Attributes::new());
    }
    let got = queue
        .receive(10, Duration::ZERO, Duration::from_secs(30))
        .await
        .expect("receive");
    let receipts = got.into_iter().map(|m| m.receipt).collect();
    let (acker, _task) = Acker::spawn(Arc::new(queue.clone()), Duration::from_millis(20), forecast);
    (queue, receipts, acker)
}

/// Each receipt acknowledged by its own task, the i-th after i ms (virtual time): messages that
/// take a while to settle after their DeleteObjects came back.
async fn ack_staggered(acker: &Acker, receipts: Vec<Receipt>) {
    let acks: Vec<_> = receipts
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let acker = acker.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(i as u64)).await;
                acker.ack(r, None).await
            })
        })
        .collect();
    for a in acks {
        assert!(a.await.expect("no panic").is_ok());
    }
}

#[tokio::test(start_paused = true)]
async fn forecast_acks_share_one_request_however_slowly_they_settle() {
    let forecast = Arc::new(AckForecast::default());
    let (queue, receipts, acker) = rig(6, forecast.clone()).await;
    forecast.expect(6);
    ack_staggered(&acker, receipts).await;
    assert_eq!(
        queue.delete_batch_sizes(),
        vec![6],
        "one DeleteMessageBatch"
    );
    assert_eq!(forecast.due(), 0);
}

#[tokio::test(start_paused = true)]
async fn without_a_forecast_slow_acks_go_out_as_they_come() {
    let (queue, receipts, acker) = rig(3, Arc::default()).await;
    ack_staggered(&acker, receipts).await;
    assert_eq!(
        queue.delete_batch_sizes(),
        vec![1, 1, 1],
        "nothing said more were coming"
    );
}

#[tokio::test(start_paused = true)]
async fn a_forecast_not_met_by_the_linger_is_dropped() {
    let forecast = Arc::new(AckForecast::default());
    let (queue, receipts, acker) = rig(2, forecast.clone()).await;
    // Three forecast, one comes: it waits out the 20 ms linger, then the forecast is dropped, so
    // the next ack (100 ms later) does not wait for acks that are not coming.
    forecast.expect(3);
    let start = tokio::time::Instant::now();
    acker.ack(receipts[0].clone(), None).await.expect("ack");
    assert_eq!(start.elapsed(), Duration::from_millis(20));
    assert_eq!(forecast.due(), 0);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let start = tokio::time::Instant::now();
    acker.ack(receipts[1].clone(), None).await.expect("ack");
    assert!(start.elapsed() < Duration::from_millis(1), "sent at once");
    assert_eq!(queue.delete_batch_sizes(), vec![1, 1]);
}
