//! Unit tests of `FakeQueue` itself: each SQS rule it enforces, and receipts that behave as SQS's.

use std::time::{Duration, SystemTime};

use super::FakeQueue;
use crate::aws_error::AwsError;
use crate::queue::{Attribute, Attributes, Outgoing, Queue, QueueSettings, Receipt};

const VIS: Duration = Duration::from_secs(30);

fn queue() -> FakeQueue {
    FakeQueue::new("fake://queue/q")
}

fn out(body: &str) -> Outgoing {
    Outgoing {
        body: body.into(),
        attributes: Attributes::new(),
    }
}

fn code<T: std::fmt::Debug>(r: Result<T, AwsError>) -> String {
    match r {
        Err(e) => e.code,
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

async fn receive_one(q: &FakeQueue) -> crate::queue::Received {
    let mut got = q.receive(10, Duration::ZERO, VIS).await.expect("receive");
    assert_eq!(got.len(), 1, "{got:?}");
    got.remove(0)
}

#[tokio::test(start_paused = true)]
async fn receive_parameters_outside_sqs_ranges_are_refused() {
    let q = queue();
    q.push("a", Attributes::new());
    let zero = Duration::ZERO;
    assert_eq!(
        code(q.receive(11, zero, VIS).await),
        "InvalidParameterValue"
    );
    assert_eq!(code(q.receive(0, zero, VIS).await), "InvalidParameterValue");
    let long_wait = Duration::from_secs(21);
    assert_eq!(
        code(q.receive(10, long_wait, VIS).await),
        "InvalidParameterValue"
    );
    let long_vis = Duration::from_secs(12 * 3600 + 1);
    assert_eq!(
        code(q.receive(1, zero, long_vis).await),
        "InvalidParameterValue"
    );
    // The limits themselves are allowed, and nothing was received by the refused calls.
    let got = q.receive(10, Duration::from_secs(20), Duration::from_secs(12 * 3600));
    let got = got.await.expect("limits are allowed");
    assert_eq!(got[0].receive_count, 1);
}

#[tokio::test(start_paused = true)]
async fn batches_of_more_than_ten_entries_are_refused_whole() {
    let q = queue();
    let receipts: Vec<Receipt> = (0..11).map(|i| Receipt(format!("m-{i}#1"))).collect();
    let msgs: Vec<Outgoing> = (0..11).map(|i| out(&format!("b{i}"))).collect();
    let too_many = "TooManyEntriesInBatchRequest";
    assert_eq!(code(q.delete_batch(&receipts).await), too_many);
    assert_eq!(
        code(q.change_visibility_batch(&receipts, VIS).await),
        too_many
    );
    assert_eq!(code(q.send_batch(&msgs).await), too_many);
    assert!(q.is_empty(), "a refused send stores nothing");
    let sent = q.send_batch(&msgs[..10]).await.expect("ten fit");
    assert!(sent.iter().all(Result::is_ok));
    assert_eq!(q.len(), 10);
}

#[tokio::test(start_paused = true)]
async fn empty_batches_return_at_once_without_a_call() {
    let q = queue();
    assert!(q.delete_batch(&[]).await.expect("empty").is_empty());
    assert!(q
        .change_visibility_batch(&[], VIS)
        .await
        .expect("empty")
        .is_empty());
    assert!(q.send_batch(&[]).await.expect("empty").is_empty());
    assert!(q.calls().is_empty(), "{:?}", q.calls());
}

#[tokio::test(start_paused = true)]
async fn a_send_with_more_than_ten_attributes_is_refused() {
    let q = queue();
    let with = |n: usize| Outgoing {
        body: "b".into(),
        attributes: (0..n)
            .map(|i| (format!("a{i}"), Attribute::string("v")))
            .collect(),
    };
    assert_eq!(
        code(q.send_batch(&[with(11)]).await),
        "InvalidParameterValue"
    );
    assert!(q.is_empty());
    q.send_batch(&[with(10)]).await.expect("ten attributes fit");
    assert_eq!(q.messages()[0].attributes.len(), 10);
}

#[tokio::test(start_paused = true)]
async fn message_size_is_bounded_by_the_queues_maximum_message_size() {
    let q = queue();
    // Default MaximumMessageSize: 256 KiB, body and attributes together.
    let max = 262_144;
    assert_eq!(
        code(q.send_batch(&[out(&"x".repeat(max + 1))]).await),
        "BatchRequestTooLong"
    );
    let mut tagged = out(&"x".repeat(max - 4));
    tagged.attributes.insert("k".into(), Attribute::string("v")); // 1 + 6 + 1 bytes
    assert_eq!(code(q.send_batch(&[tagged]).await), "BatchRequestTooLong");
    assert!(q.is_empty());
    q.send_batch(&[out(&"x".repeat(max))])
        .await
        .expect("exactly the maximum fits");
    // A queue configured for 1 MiB takes the larger message...
    q.set_settings(QueueSettings {
        maximum_message_size: Some(1_048_576),
        ..FakeQueue::default_settings("fake://queue/q")
    });
    q.send_batch(&[out(&"x".repeat(max + 1))])
        .await
        .expect("1 MiB queue");
    // ...but a batch is still at most 1 MiB in all.
    let two = [out(&"x".repeat(600_000)), out(&"x".repeat(600_000))];
    assert_eq!(code(q.send_batch(&two).await), "BatchRequestTooLong");
    assert_eq!(
        code(q.send_batch(&[out("")]).await),
        "InvalidParameterValue"
    );
    assert_eq!(q.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn visibility_change_needs_a_message_still_in_flight() {
    let q = queue();
    q.push("a", Attributes::new());
    let m = receive_one(&q).await;
    tokio::time::advance(Duration::from_secs(20)).await;
    q.change_visibility(&m.receipt, Duration::from_secs(60))
        .await
        .expect("in flight: extended");
    tokio::time::advance(Duration::from_secs(50)).await;
    assert!(
        q.receive(10, Duration::ZERO, VIS)
            .await
            .expect("receive")
            .is_empty(),
        "extended to 80 s"
    );
    tokio::time::advance(Duration::from_secs(11)).await;
    // Expired: SQS refuses the change, and the message is visible again.
    let refused = q
        .change_visibility(&m.receipt, Duration::from_secs(60))
        .await;
    assert_eq!(code(refused), "InvalidParameterValue");
    let again = receive_one(&q).await;
    assert_eq!(again.receive_count, 2);
    // The first receipt is stale now: refused too; a receipt no receive issued is invalid.
    assert_eq!(
        code(q.change_visibility(&m.receipt, VIS).await),
        "InvalidParameterValue"
    );
    let bogus = Receipt("not-a-receipt".into());
    assert_eq!(
        code(q.change_visibility(&bogus, VIS).await),
        "ReceiptHandleIsInvalid"
    );
}

#[tokio::test(start_paused = true)]
async fn a_stale_receipt_deletes_nothing_and_a_repeated_delete_is_accepted() {
    let q = queue();
    q.push("a", Attributes::new());
    let first = receive_one(&q).await;
    tokio::time::advance(VIS).await;
    let second = receive_one(&q).await;
    assert_ne!(first.receipt, second.receipt);
    let results = q
        .delete_batch(std::slice::from_ref(&first.receipt))
        .await
        .expect("call");
    assert!(
        results[0].is_ok(),
        "SQS accepts a stale receipt: {results:?}"
    );
    assert_eq!(q.len(), 1, "but does not delete with it");
    let results = q
        .delete_batch(std::slice::from_ref(&second.receipt))
        .await
        .expect("call");
    assert!(results[0].is_ok(), "{results:?}");
    assert!(q.is_empty());
    let again = q
        .delete_batch(&[second.receipt, first.receipt])
        .await
        .expect("call");
    assert!(
        again.iter().all(Result::is_ok),
        "already deleted: {again:?}"
    );
    let bogus = [Receipt("nope".into()), Receipt("m-99#1".into())];
    let results = q.delete_batch(&bogus).await.expect("call");
    for r in results {
        assert_eq!(code(r), "ReceiptHandleIsInvalid");
    }
}

#[tokio::test(start_paused = true)]
async fn a_receipt_from_a_later_receive_than_issued_is_invalid() {
    let q = queue();
    let id = q.push("a", Attributes::new());
    let m = receive_one(&q).await;
    let forged = Receipt(format!("{id}#2"));
    assert_eq!(
        code(q.delete_batch(&[forged]).await.expect("call").remove(0)),
        "ReceiptHandleIsInvalid"
    );
    assert_eq!(q.len(), 1);
    assert!(q.delete_batch(&[m.receipt]).await.expect("call")[0].is_ok());
    assert!(q.is_empty());
}

#[tokio::test(start_paused = true)]
async fn sent_at_is_the_send_time_on_every_receive() {
    let q = queue();
    let before = SystemTime::now();
    q.push("a", Attributes::new());
    let after = SystemTime::now();
    tokio::time::advance(Duration::from_secs(5)).await;
    let first = receive_one(&q).await;
    let sent = first.sent_at.expect("sent_at");
    assert!(
        before <= sent && sent <= after,
        "{before:?} <= {sent:?} <= {after:?}"
    );
    tokio::time::advance(VIS).await;
    let second = receive_one(&q).await;
    assert_eq!(second.sent_at, Some(sent));
}

#[tokio::test(start_paused = true)]
async fn a_denied_queue_refuses_every_call() {
    let q = queue();
    q.push("a", Attributes::new());
    let m = receive_one(&q).await;
    q.deny("AccessDenied");
    let r = std::slice::from_ref(&m.receipt);
    assert_eq!(
        code(q.receive(1, Duration::ZERO, VIS).await),
        "AccessDenied"
    );
    assert_eq!(code(q.delete_batch(r).await), "AccessDenied");
    assert_eq!(
        code(q.change_visibility_batch(r, VIS).await),
        "AccessDenied"
    );
    assert_eq!(code(q.send_batch(&[out("b")]).await), "AccessDenied");
    assert_eq!(code(q.depth().await), "AccessDenied");
    assert_eq!(code(q.settings().await), "AccessDenied");
    assert_eq!(q.len(), 1);
}
