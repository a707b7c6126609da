//! Unit tests of `worker::acker`.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::fakes::{FakeQueue, QueueCall};
use crate::queue::Attributes;

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
    let (acker, task) = Acker::spawn(Arc::new(queue.clone()), Duration::from_millis(20));
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
    let batches: Vec<usize> = queue
        .calls()
        .iter()
        .filter_map(|c| match c {
            QueueCall::DeleteBatch { receipts } => Some(receipts.len()),
            _ => None,
        })
        .collect();
    assert_eq!(batches, vec![3], "one request, each handle once");
}
