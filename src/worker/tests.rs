//! Worker unit tests on the in-memory fakes with paused time: batching, partial failures,
//! backoff, dead-lettering, heartbeat ordering.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::batcher::{BatcherConfig, DeleteBatcher};
use super::{LoopConfig, Worker, WorkerSettings};
use crate::deadletter::{ATTR_ATTEMPTS, ATTR_REASON};
use crate::fakes::{permanent, transient, CapturedLogs, FakeQueue, FakeStore, QueueCall};
use crate::queue::{Attributes, Receipt};
use crate::s3url::{LocationPolicy, ObjectRef};
use crate::supervisor::{Supervisor, Task};

const BUCKET: &str = "images-bucket";
const PREFIX: &str = "keep-images/";

struct Rig {
    queue: FakeQueue,
    dlq: FakeQueue,
    store: FakeStore,
    worker: Worker,
    tasks: Supervisor,
}

fn body(keys: &[&str]) -> String {
    let images: Vec<String> = keys
        .iter()
        .map(|k| format!(r#"{{"s3_url":"s3://{BUCKET}/{PREFIX}{k}"}}"#))
        .collect();
    format!(
        r#"{{"type":"page.created","version":1,"page_id":"p","images":[{}]}}"#,
        images.join(",")
    )
}

fn start(queue: FakeQueue, store: FakeStore, visibility: Duration, max_attempts: u32) -> Rig {
    start_waiting(
        queue,
        store,
        visibility,
        max_attempts,
        Duration::from_secs(1),
    )
}

fn start_with_dlq(
    queue: FakeQueue,
    store: FakeStore,
    dlq: FakeQueue,
    visibility: Duration,
    max_attempts: u32,
) -> Rig {
    start_full(
        queue,
        store,
        dlq,
        visibility,
        max_attempts,
        Duration::from_secs(1),
    )
}

fn start_waiting(
    queue: FakeQueue,
    store: FakeStore,
    visibility: Duration,
    max_attempts: u32,
    wait: Duration,
) -> Rig {
    let dlq = FakeQueue::new("dlq");
    start_full(queue, store, dlq, visibility, max_attempts, wait)
}

fn start_full(
    queue: FakeQueue,
    store: FakeStore,
    dlq: FakeQueue,
    visibility: Duration,
    max_attempts: u32,
    wait: Duration,
) -> Rig {
    let settings = WorkerSettings {
        policy: LocationPolicy::new([BUCKET.to_owned()], PREFIX),
        endpoint: None,
        max_attempts,
        dry_run: false,
        loops: LoopConfig {
            concurrency: 2,
            wait,
            visibility,
            max_inflight: 40,
        },
        batcher: BatcherConfig::default(),
        ack_linger: Duration::from_millis(20),
    };
    let mut tasks = Supervisor::new();
    let worker = Worker::start(
        Arc::new(queue.clone()),
        Arc::new(dlq.clone()),
        Arc::new(store.clone()),
        settings,
        &mut tasks,
    );
    Rig {
        queue,
        dlq,
        store,
        worker,
        tasks,
    }
}

impl Rig {
    /// Run (virtual time) until `done` holds, at most `limit`.
    async fn until(&self, limit: Duration, done: impl Fn(&Rig) -> bool) {
        let deadline = tokio::time::Instant::now() + limit;
        while !done(self) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "condition not reached in {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Drain the worker (everything in hand finishes well within the hour) and check that
    /// no task failed on the way.
    async fn shutdown(self) -> (FakeQueue, FakeQueue, FakeStore) {
        assert!(self.worker.drain(Duration::from_secs(3600)).await);
        let failed = self.tasks.finish(Duration::from_secs(60)).await;
        assert!(failed.is_empty(), "tasks failed: {failed:?}");
        (self.queue, self.dlq, self.store)
    }
}

fn put_all(store: &FakeStore, keys: &[&str]) {
    for k in keys {
        store.put(BUCKET, &format!("{PREFIX}{k}"), SystemTime::now());
    }
}

#[tokio::test(start_paused = true)]
async fn batches_across_messages_and_acks_in_batches() {
    let queue = FakeQueue::new("main");
    let store = FakeStore::new(&[BUCKET]);
    for i in 0..20 {
        let keys: Vec<String> = (0..5).map(|j| format!("m{i}/{j}.jpg")).collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        put_all(&store, &refs);
        queue.push(&body(&refs), Attributes::new());
    }
    let rig = start(queue, store, Duration::from_secs(30), 5);
    rig.until(Duration::from_secs(10), |r| r.queue.is_empty())
        .await;
    let (queue, dlq, store) = rig.shutdown().await;
    assert_eq!(store.count(), 0);
    assert!(dlq.is_empty());
    let deletes = store.delete_requests();
    let keys: usize = deletes.iter().map(|(_, k)| k.len()).sum();
    assert_eq!(keys, 100);
    assert!(
        deletes.len() <= 4,
        "100 keys from 20 messages took {} DeleteObjects",
        deletes.len()
    );
    let acks: Vec<usize> = queue.delete_batch_sizes();
    assert_eq!(acks.iter().sum::<usize>(), 20);
    assert!(
        acks.len() <= 4,
        "20 acks took {} DeleteMessageBatch calls: {acks:?}",
        acks.len()
    );
}

#[tokio::test(start_paused = true)]
async fn batcher_never_sends_more_than_1000_keys_and_dedupes() {
    let store = FakeStore::new(&[BUCKET]);
    let (batcher, task) = DeleteBatcher::spawn(Arc::new(store.clone()), BatcherConfig::default());
    let mut joins = Vec::new();
    for m in 0..5 {
        let b = batcher.clone();
        // 600 keys each; messages 0 and 1 share all their keys.
        let objs: Vec<ObjectRef> = (0..600)
            .map(|i| ObjectRef {
                bucket: BUCKET.into(),
                key: format!("{PREFIX}{}/{i}", m.max(1)),
            })
            .collect();
        joins.push(tokio::spawn(async move { b.delete(&objs).await }));
    }
    for j in joins {
        let results = j.await.unwrap();
        assert_eq!(results.len(), 600);
        assert!(results.iter().all(Result::is_ok));
    }
    drop(batcher);
    task.await.unwrap();
    let requests = store.delete_requests();
    assert!(
        requests.iter().all(|(_, k)| k.len() <= 1000),
        "{:?}",
        requests.iter().map(|(_, k)| k.len()).collect::<Vec<_>>()
    );
    let total: usize = requests.iter().map(|(_, k)| k.len()).sum();
    assert_eq!(
        total, 2400,
        "4 distinct key sets of 600 (one shared by two messages)"
    );
}

#[tokio::test(start_paused = true)]
async fn per_key_access_denied_dead_letters_only_that_message() {
    let queue = FakeQueue::new("main");
    let store = FakeStore::new(&[BUCKET]);
    put_all(&store, &["ok/1.jpg", "ok/2.jpg", "bad/1.jpg"]);
    store.deny_key(&format!("{PREFIX}bad/1.jpg"));
    queue.push(&body(&["ok/1.jpg", "ok/2.jpg"]), Attributes::new());
    let bad_body = body(&["bad/1.jpg"]);
    queue.push(&bad_body, Attributes::new());
    let rig = start(queue, store, Duration::from_secs(30), 5);
    rig.until(Duration::from_secs(10), |r| r.queue.is_empty())
        .await;
    let (_, dlq, store) = rig.shutdown().await;
    let dead = dlq.messages();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body, bad_body);
    assert_eq!(
        dead[0].attributes[ATTR_REASON].string_value.as_deref(),
        Some("delete_rejected")
    );
    assert_eq!(
        dead[0].attributes[ATTR_ATTEMPTS].string_value.as_deref(),
        Some("1")
    );
    assert!(!store.exists(BUCKET, &format!("{PREFIX}ok/1.jpg")));
    assert!(store.exists(BUCKET, &format!("{PREFIX}bad/1.jpg")));
}

#[tokio::test(start_paused = true)]
async fn transient_failure_backs_off_then_succeeds_without_release() {
    let queue = FakeQueue::new("main");
    let store = FakeStore::new(&[BUCKET]);
    put_all(&store, &["f/1.jpg"]);
    store.flaky_key(&format!("{PREFIX}f/1.jpg"), 2);
    queue.push(&body(&["f/1.jpg"]), Attributes::new());
    let rig = start(queue, store, Duration::from_secs(30), 5);
    rig.until(Duration::from_secs(20), |r| r.queue.is_empty())
        .await;
    let (queue, dlq, store) = rig.shutdown().await;
    assert_eq!(
        store.delete_requests().len(),
        3,
        "two failures, then success"
    );
    assert!(dlq.is_empty());
    let released = queue
        .calls()
        .iter()
        .any(|c| matches!(c, QueueCall::ChangeVisibility { .. }));
    assert!(!released, "recovered in-process; no release needed");
}

#[tokio::test(start_paused = true)]
async fn whole_request_throttled_retries_then_succeeds() {
    let queue = FakeQueue::new("main");
    let store = FakeStore::new(&[BUCKET]);
    put_all(&store, &["t/1.jpg"]);
    store.fail_next_delete(transient("s3", "DeleteObjects", "SlowDown"));
    queue.push(&body(&["t/1.jpg"]), Attributes::new());
    let rig = start(queue, store, Duration::from_secs(30), 5);
    rig.until(Duration::from_secs(20), |r| r.queue.is_empty())
        .await;
    let (_, dlq, store) = rig.shutdown().await;
    assert_eq!(store.count(), 0);
    assert!(dlq.is_empty());
}

#[tokio::test(start_paused = true)]
async fn transient_until_max_attempts_is_retries_exhausted() {
    let queue = FakeQueue::new("main");
    let store = FakeStore::new(&[BUCKET]);
    put_all(&store, &["x/1.jpg"]);
    store.flaky_key(&format!("{PREFIX}x/1.jpg"), 1_000);
    let b = body(&["x/1.jpg"]);
    queue.push(&b, Attributes::new());
    let rig = start(queue, store, Duration::from_secs(30), 3);
    rig.until(Duration::from_secs(600), |r| r.queue.is_empty())
        .await;
    let (queue, dlq, _) = rig.shutdown().await;
    let dead = dlq.messages();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body, b);
    assert_eq!(
        dead[0].attributes[ATTR_REASON].string_value.as_deref(),
        Some("retries_exhausted")
    );
    assert_eq!(
        dead[0].attributes[ATTR_ATTEMPTS].string_value.as_deref(),
        Some("3")
    );
    // Released twice with a growing delay before the third receive gave up.
    let delays: Vec<Duration> = queue
        .calls()
        .iter()
        .filter_map(|c| match c {
            QueueCall::ChangeVisibility { timeout, .. } => Some(*timeout),
            _ => None,
        })
        .collect();
    assert_eq!(delays.len(), 2, "{delays:?}");
    assert!(delays[1] > delays[0], "{delays:?}");
}

#[tokio::test(start_paused = true)]
async fn permanent_failure_dead_letters_at_once() {
    let queue = FakeQueue::new("main");
    let store = FakeStore::new(&[BUCKET]);
    put_all(&store, &["p/1.jpg"]);
    store.fail_next_delete(permanent("s3", "DeleteObjects", "AccessDenied"));
    queue.push(&body(&["p/1.jpg"]), Attributes::new());
    let rig = start(queue, store, Duration::from_secs(30), 5);
    rig.until(Duration::from_secs(10), |r| r.queue.is_empty())
        .await;
    let (_, dlq, store) = rig.shutdown().await;
    assert_eq!(
        store.delete_requests().len(),
        1,
        "no retry of a permanent failure"
    );
    let dead = dlq.messages();
    assert_eq!(
        dead[0].attributes[ATTR_REASON].string_value.as_deref(),
        Some("delete_rejected")
    );
    assert!(dead[0].attributes["janitor.detail"]
        .string_value
        .as_deref()
        .unwrap_or_default()
        .contains("AccessDenied"));
}

#[tokio::test(start_paused = true)]
async fn failed_ack_entry_leaves_that_message_for_redelivery() {
    let queue = FakeQueue::new("main");
    let store = FakeStore::new(&[BUCKET]);
    put_all(&store, &["a/1.jpg", "b/1.jpg"]);
    // Slow deletes so both messages are in hand (with receipts) before their ack.
    store.set_delay(Duration::from_secs(1));
    let a = queue.push(&body(&["a/1.jpg"]), Attributes::new());
    queue.push(&body(&["b/1.jpg"]), Attributes::new());
    let rig = start(queue, store, Duration::from_secs(30), 5);
    rig.until(Duration::from_millis(500), |r| {
        r.queue.messages().iter().all(|m| m.receipt.is_some())
    })
    .await;
    rig.queue.fail_delete_entry_of(&a);
    rig.until(Duration::from_secs(10), |r| r.queue.len() == 1)
        .await;
    let left = rig.queue.messages();
    assert_eq!(
        left[0].id, a,
        "the failed entry stays; the other was deleted"
    );
    let (_, dlq, store) = rig.shutdown().await;
    assert!(dlq.is_empty());
    assert_eq!(store.count(), 0);
}

#[tokio::test(start_paused = true)]
async fn heartbeat_extends_while_slow_and_stops_before_the_ack() {
    let queue = FakeQueue::new("main");
    let store = FakeStore::new(&[BUCKET]);
    put_all(&store, &["slow/1.jpg"]);
    store.set_delay(Duration::from_secs(9));
    queue.push(&body(&["slow/1.jpg"]), Attributes::new());
    let rig = start(queue, store, Duration::from_secs(4), 5);
    rig.until(Duration::from_secs(30), |r| r.queue.is_empty())
        .await;
    let (queue, _, _) = rig.shutdown().await;
    let calls = queue.calls();
    let receipt = Receipt("m-1#1".into());
    let extends: Vec<usize> = calls
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c, QueueCall::ChangeVisibility { receipts, timeout } if receipts.contains(&receipt) && *timeout == Duration::from_secs(4)))
        .map(|(i, _)| i)
        .collect();
    let ack = calls
        .iter()
        .position(
            |c| matches!(c, QueueCall::DeleteBatch { receipts } if receipts.contains(&receipt)),
        )
        .expect("acked");
    assert!(
        extends.len() >= 3,
        "a 9 s delete with 4 s visibility needs extensions: {calls:?}"
    );
    assert!(
        extends.iter().all(|&i| i < ack),
        "an extension came after the ack: {calls:?}"
    );
    // Never received twice: the heartbeat kept it hidden.
    let receives_with_msgs = calls
        .iter()
        .filter(|c| matches!(c, QueueCall::Receive { got } if *got > 0))
        .count();
    assert_eq!(receives_with_msgs, 1);
}

#[tokio::test(start_paused = true)]
async fn shutdown_hands_back_messages_waiting_in_backoff() {
    let queue = FakeQueue::new("main");
    let store = FakeStore::new(&[BUCKET]);
    put_all(&store, &["w/1.jpg"]);
    store.flaky_key(&format!("{PREFIX}w/1.jpg"), 1_000);
    queue.push(&body(&["w/1.jpg"]), Attributes::new());
    let rig = start(queue, store, Duration::from_secs(30), 5);
    rig.until(Duration::from_secs(5), |r| {
        r.store.delete_requests().len() >= 2
    })
    .await;
    let (queue, dlq, _) = rig.shutdown().await;
    assert!(dlq.is_empty());
    let msgs = queue.messages();
    assert_eq!(msgs.len(), 1);
    assert!(
        msgs[0].visible_at <= tokio::time::Instant::now(),
        "handed back with visibility 0"
    );
    assert!(queue
        .calls()
        .iter()
        .any(|c| matches!(c, QueueCall::ChangeVisibility { timeout, .. } if timeout.is_zero())));
}

#[tokio::test(start_paused = true)]
async fn short_polling_an_empty_queue_pauses_between_receives() {
    let queue = FakeQueue::new("main");
    let store = FakeStore::new(&[BUCKET]);
    let rig = start_waiting(queue, store, Duration::from_secs(30), 5, Duration::ZERO);
    tokio::time::sleep(Duration::from_secs(10)).await;
    let receives = |q: &FakeQueue| {
        q.calls()
            .iter()
            .filter(|c| matches!(c, QueueCall::Receive { .. }))
            .count()
    };
    // 2 loops × one empty receive per second (+1 each at t = 0); a spin would be unbounded.
    let idle = receives(&rig.queue);
    assert!((2..=22).contains(&idle), "{idle} receives in 10 s");
    // Work that arrives is still picked up within the pause.
    put_all(&rig.store, &["late.jpg"]);
    rig.queue.push(&body(&["late.jpg"]), Attributes::new());
    rig.until(Duration::from_secs(2), |r| r.queue.is_empty())
        .await;
    let (_, dlq, store) = rig.shutdown().await;
    assert_eq!(store.count(), 0);
    assert!(dlq.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_whole_request_rejection_dead_letters_only_the_culprits() {
    let queue = FakeQueue::new("main");
    let store = FakeStore::new(&[BUCKET]);
    let mut innocent = Vec::new();
    let mut culprits = Vec::new();
    for i in 0..10 {
        let keys = [format!("m{i}/a.jpg"), format!("m{i}/b.jpg")];
        put_all(&store, &[keys[0].as_str(), keys[1].as_str()]);
        let b = body(&[keys[0].as_str(), keys[1].as_str()]);
        if i == 3 || i == 7 {
            store.poison_key(&format!("{PREFIX}{}", keys[1]));
            culprits.push(b.clone());
        } else {
            innocent.push(keys);
        }
        queue.push(&b, Attributes::new());
    }
    let rig = start(queue, store, Duration::from_secs(30), 5);
    rig.until(Duration::from_secs(30), |r| r.queue.is_empty())
        .await;
    let (_, dlq, store) = rig.shutdown().await;
    // The scenario happened: some request carried a culprit's key together with others.
    let requests = store.delete_requests();
    assert!(
        requests
            .iter()
            .any(|(_, keys)| keys.len() > 2 && keys.iter().any(|k| k.ends_with("m3/b.jpg"))),
        "the culprit never shared a request: {requests:?}"
    );
    let mut dead: Vec<String> = dlq.messages().into_iter().map(|m| m.body).collect();
    dead.sort();
    culprits.sort();
    assert_eq!(dead, culprits, "only the two culprits are dead-lettered");
    for m in dlq.messages() {
        assert_eq!(
            m.attributes[ATTR_REASON].string_value.as_deref(),
            Some("delete_rejected")
        );
    }
    for keys in innocent {
        for k in keys {
            assert!(!store.exists(BUCKET, &format!("{PREFIX}{k}")), "{k} left");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn clock_skew_never_dead_letters_even_at_max_attempts() {
    let queue = FakeQueue::new("main");
    let store = FakeStore::new(&[BUCKET]);
    put_all(&store, &["skew/1.jpg"]);
    for _ in 0..5 {
        store.fail_next_delete(transient("s3", "DeleteObjects", "RequestTimeTooSkewed"));
    }
    let id = queue.push(&body(&["skew/1.jpg"]), Attributes::new());
    // This receive is the last one JANITOR_MAX_ATTEMPTS allows.
    queue.set_receive_count(&id, 2);
    let rig = start(queue, store, Duration::from_secs(30), 3);
    rig.until(Duration::from_secs(60), |r| {
        r.queue.calls().iter().any(|c| {
            matches!(c, QueueCall::ChangeVisibility { timeout, .. } if !timeout.is_zero() && *timeout != Duration::from_secs(30))
        })
    })
    .await;
    let (queue, dlq, store) = rig.shutdown().await;
    assert!(dlq.is_empty(), "dead-lettered for the node's clock");
    assert_eq!(queue.len(), 1, "released, still in the queue");
    assert!(store.exists(BUCKET, &format!("{PREFIX}skew/1.jpg")));
    assert_eq!(store.delete_requests().len(), 5, "retried in process first");
}

#[tokio::test(start_paused = true)]
async fn heartbeat_covers_a_slow_dead_letter_send() {
    let queue = FakeQueue::new("main");
    let store = FakeStore::new(&[BUCKET]);
    queue.push("{not json", Attributes::new());
    let dlq = FakeQueue::new("dlq");
    dlq.set_send_delay(Duration::from_secs(20));
    let rig = start_with_dlq(queue, store, dlq, Duration::from_secs(4), 5);
    rig.until(Duration::from_secs(60), |r| r.queue.is_empty())
        .await;
    let (queue, dlq, _) = rig.shutdown().await;
    assert_eq!(dlq.len(), 1);
    let calls = queue.calls();
    let receipt = Receipt("m-1#1".into());
    let extends = calls
        .iter()
        .filter(|c| matches!(c, QueueCall::ChangeVisibility { receipts, timeout } if receipts.contains(&receipt) && *timeout == Duration::from_secs(4)))
        .count();
    assert!(
        extends >= 4,
        "a 20 s DLQ send with 4 s visibility needs extensions: {calls:?}"
    );
    let delete = calls
        .iter()
        .position(|c| matches!(c, QueueCall::DeleteBatch { .. }))
        .expect("deleted from the main queue");
    assert!(
        !calls[delete..]
            .iter()
            .any(|c| matches!(c, QueueCall::ChangeVisibility { .. })),
        "extended after the delete: {calls:?}"
    );
    let receives_with_msgs = calls
        .iter()
        .filter(|c| matches!(c, QueueCall::Receive { got } if *got > 0))
        .count();
    assert_eq!(receives_with_msgs, 1, "received twice: {calls:?}");
}

#[tokio::test(start_paused = true)]
async fn every_confirmed_deletion_is_audited_even_when_the_message_is_dead_lettered() {
    let (captured, _guard) = CapturedLogs::start();
    let queue = FakeQueue::new("main");
    let store = FakeStore::new(&[BUCKET]);
    put_all(&store, &["a/ok.jpg", "a/denied.jpg"]);
    store.deny_key(&format!("{PREFIX}a/denied.jpg"));
    queue.push(&body(&["a/ok.jpg", "a/denied.jpg"]), Attributes::new());
    let rig = start(queue, store, Duration::from_secs(30), 5);
    rig.until(Duration::from_secs(10), |r| r.queue.is_empty())
        .await;
    let (_, dlq, store) = rig.shutdown().await;
    assert_eq!(dlq.len(), 1, "dead-lettered for the denied key");
    assert!(!store.exists(BUCKET, &format!("{PREFIX}a/ok.jpg")));
    let audit: Vec<serde_json::Value> = captured
        .lines()
        .into_iter()
        .filter(|l| l["target"] == "janitor::audit")
        .collect();
    let event_for = |key: &str| {
        audit
            .iter()
            .find(|l| l["fields"]["key"] == format!("{PREFIX}{key}"))
            .map(|l| l["fields"]["event"].as_str().unwrap_or_default().to_owned())
    };
    assert_eq!(
        event_for("a/ok.jpg").as_deref(),
        Some("object_deleted"),
        "{audit:?}"
    );
    assert_eq!(
        event_for("a/denied.jpg").as_deref(),
        Some("object_refused"),
        "{audit:?}"
    );
    let deleted = &audit
        .iter()
        .find(|l| l["fields"]["event"] == "object_deleted")
        .unwrap()["fields"];
    assert_eq!(deleted["bucket"], BUCKET);
    assert_eq!(deleted["message_id"], "m-1");
    assert_eq!(deleted["source"], "worker");
}

#[tokio::test(start_paused = true)]
async fn a_message_whose_ack_finds_the_acker_gone_is_handed_back_at_once() {
    let queue = FakeQueue::new("main");
    let store = FakeStore::new(&[BUCKET]);
    put_all(&store, &["gone/a.jpg"]);
    queue.push(&body(&["gone/a.jpg"]), Attributes::new());
    // A handed-back message is received again at once: let receives take (virtual) time.
    queue.set_receive_delay(Duration::from_millis(100));
    // The acker's task never runs: every ack finds it gone.
    let mut tasks = Supervisor::with_hook(Box::new(|task, real| {
        if task == Task::Acker {
            Box::pin(async { Ok(()) })
        } else {
            real
        }
    }));
    let settings = WorkerSettings {
        policy: LocationPolicy::new([BUCKET.to_owned()], PREFIX),
        endpoint: None,
        max_attempts: 5,
        dry_run: false,
        loops: LoopConfig {
            concurrency: 1,
            wait: Duration::from_secs(1),
            visibility: Duration::from_secs(30),
            max_inflight: 10,
        },
        batcher: BatcherConfig::default(),
        ack_linger: Duration::from_millis(20),
    };
    let worker = Worker::start(
        Arc::new(queue.clone()),
        Arc::new(FakeQueue::new("dlq")),
        Arc::new(store.clone()),
        settings,
        &mut tasks,
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    assert_eq!(tasks.first_exit().await.task, Task::Acker);
    while !queue
        .calls()
        .iter()
        .any(|c| matches!(c, QueueCall::ChangeVisibility { timeout, .. } if timeout.is_zero()))
    {
        assert!(tokio::time::Instant::now() < deadline, "never handed back");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(store.count(), 0, "the object was deleted");
    assert_eq!(queue.len(), 1, "the message was not acked");
    assert!(
        queue.messages()[0].visible_at <= tokio::time::Instant::now(),
        "handed back with visibility 0, not left hidden for 30 s"
    );
    assert!(worker.drain(Duration::from_secs(60)).await);
}

#[tokio::test(start_paused = true)]
async fn a_batch_that_deleted_every_key_forecasts_its_messages_acks() {
    let store = FakeStore::new(&[BUCKET]);
    store.deny_key(&format!("{PREFIX}denied.jpg"));
    let (batcher, _task) = DeleteBatcher::spawn(Arc::new(store.clone()), BatcherConfig::default());
    let obj = |key: &str| ObjectRef {
        bucket: BUCKET.into(),
        key: format!("{PREFIX}{key}"),
    };
    let (ab, c) = ([obj("a.jpg"), obj("b.jpg")], [obj("c.jpg")]);
    let both = tokio::join!(batcher.delete(&ab), batcher.delete(&c));
    assert!(both.0.iter().chain(&both.1).all(Result::is_ok));
    assert_eq!(batcher.forecast().due(), 2, "two messages about to ack");
    batcher.forecast().clear();
    // A batch with a refused key: its messages will not all ack, so it forecasts none.
    let (d, denied) = ([obj("d.jpg")], [obj("denied.jpg")]);
    let mixed = tokio::join!(batcher.delete(&d), batcher.delete(&denied));
    assert!(mixed.0[0].is_ok() && mixed.1[0].is_err());
    assert_eq!(
        store.delete_requests().len(),
        2,
        "each pair shared a request"
    );
    assert_eq!(batcher.forecast().due(), 0);
}
