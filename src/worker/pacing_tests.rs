//! Batch-closing tests on the fakes with paused time: batches close when nothing more can join
//! (every probe back, the in-hand cap), never by waiting out a timer, and no message is left
//! behind. The lingers are set to an hour so that a batch which only a timer
//! would close makes the test fail instead of pass slowly.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::batcher::BatcherConfig;
use super::intake::{Intake, Snapshot};
use super::{LoopConfig, Worker, WorkerSettings};
use crate::fakes::{FakeQueue, FakeStore, QueueCall};
use crate::queue::Attributes;
use crate::s3url::LocationPolicy;
use crate::supervisor::Supervisor;

const BUCKET: &str = "images-bucket";
const PREFIX: &str = "keep-images/";
const HOUR: Duration = Duration::from_secs(3600);

struct Rig {
    queue: FakeQueue,
    store: FakeStore,
    intake: Arc<Intake>,
    worker: Worker,
    _tasks: Supervisor,
}

/// `count` messages of `k` images each, queued and their objects stored, before the loops start.
fn fill(queue: &FakeQueue, store: &FakeStore, count: usize, k: usize) {
    for i in 0..count {
        let images: Vec<String> = (0..k)
            .map(|j| {
                let key = format!("{PREFIX}m{i}/{j}.jpg");
                store.put(BUCKET, &key, SystemTime::now());
                format!(r#"{{"s3_url":"s3://{BUCKET}/{key}"}}"#)
            })
            .collect();
        let body = format!(
            r#"{{"type":"page.created","version":1,"images":[{}]}}"#,
            images.join(",")
        );
        queue.push(&body, Attributes::new());
    }
}

fn start(queue: FakeQueue, store: FakeStore, concurrency: usize, max_inflight: usize) -> Rig {
    // Receives take a round trip, so message tasks run (and hand their keys over) while the
    // next receive is out, as against SQS.
    queue.set_receive_delay(Duration::from_millis(10));
    let visibility = Duration::from_secs(30);
    let settings = WorkerSettings {
        policy: LocationPolicy::new([BUCKET.to_owned()], PREFIX),
        endpoint: None,
        max_attempts: 5,
        dry_run: false,
        loops: LoopConfig {
            concurrency,
            wait: Duration::from_secs(20),
            visibility,
            max_inflight,
        },
        batcher: BatcherConfig {
            linger: HOUR,
            ..BatcherConfig::default()
        },
        ack_linger: HOUR,
    };
    let mut tasks = Supervisor::new();
    let worker = Worker::start(
        Arc::new(queue.clone()),
        Arc::new(FakeQueue::new("dlq")),
        Arc::new(store.clone()),
        settings,
        &mut tasks,
    );
    let intake = worker.intake().clone();
    Rig {
        queue,
        store,
        intake,
        worker,
        _tasks: tasks,
    }
}

impl Rig {
    /// Run (virtual time) until the queue is empty; fails after `limit`, far below the lingers.
    async fn drained(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while !self.queue.is_empty() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "not drained in {limit:?}: {} messages left, intake {:?}",
                self.queue.len(),
                self.intake.snapshot()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Drain the worker; the intake's counts afterwards (its fixed receive room left out, so
    /// that "nothing left" compares with `Snapshot::default()`).
    async fn shutdown(self) -> Left {
        self.worker.drain(24 * HOUR).await;
        let left = Snapshot {
            receive_room: None,
            ..self.intake.snapshot()
        };
        (self.queue, self.store, left)
    }
}

/// What a drained worker left: the queue, the store and the intake's counts.
type Left = (FakeQueue, FakeStore, Snapshot);

trait AssertCapped {
    /// `messages` of `k` images each all deleted and acknowledged, no DeleteObjects carrying
    /// more than `cap` messages' keys, at most `max_requests` of them, nothing left pending.
    fn assert_capped(self, messages: usize, k: usize, cap: usize, max_requests: usize);
}

impl AssertCapped for Left {
    fn assert_capped(self, messages: usize, k: usize, cap: usize, max_requests: usize) {
        let (queue, store, intake) = self;
        assert_eq!(store.count(), 0);
        let keys = key_counts(&store);
        assert_eq!(keys.iter().sum::<usize>(), messages * k);
        assert!(
            keys.iter().all(|&n| n <= cap * k),
            "at most {cap} messages in hand: {keys:?}"
        );
        assert!(
            keys.len() <= max_requests,
            "{messages} messages at a cap of {cap} took {} DeleteObjects: {keys:?}",
            keys.len()
        );
        assert_eq!(queue.delete_batch_sizes().iter().sum::<usize>(), messages);
        assert_eq!(intake, Snapshot::default());
    }
}

fn key_counts(store: &FakeStore) -> Vec<usize> {
    store
        .delete_requests()
        .iter()
        .map(|(_, k)| k.len())
        .collect()
}

fn receives(queue: &FakeQueue) -> usize {
    queue
        .calls()
        .iter()
        .filter(|c| matches!(c, QueueCall::Receive { .. }))
        .count()
}

#[tokio::test(start_paused = true)]
async fn messages_that_arrive_together_share_one_delete_request() {
    let (queue, store) = (FakeQueue::new("main"), FakeStore::new(&[BUCKET]));
    fill(&queue, &store, 30, 2);
    let rig = start(queue, store, 2, 40);
    rig.drained(Duration::from_secs(5)).await;
    let (queue, store, intake) = rig.shutdown().await;
    assert_eq!(store.count(), 0);
    // Three full receives: a full one is followed by a probe, so the batch stays open until a
    // probe comes back empty, then closes with all 60 keys (per receive it would be 3 x 20).
    assert_eq!(key_counts(&store), vec![60]);
    assert_eq!(queue.delete_batch_sizes(), vec![10, 10, 10]);
    assert_eq!(intake, Snapshot::default(), "nothing left handing over");
}

#[tokio::test(start_paused = true)]
async fn a_batch_closes_as_soon_as_a_probe_finds_the_queue_drained() {
    let (queue, store) = (FakeQueue::new("main"), FakeStore::new(&[BUCKET]));
    fill(&queue, &store, 3, 4);
    let rig = start(queue, store, 2, 40);
    rig.drained(Duration::from_millis(500)).await;
    let (queue, store, intake) = rig.shutdown().await;
    assert_eq!(store.count(), 0);
    assert_eq!(key_counts(&store), vec![12]);
    assert_eq!(queue.delete_batch_sizes(), vec![3]);
    let receives: Vec<usize> = queue
        .calls()
        .iter()
        .filter_map(|c| match c {
            QueueCall::Receive { got } if *got > 0 => Some(*got),
            _ => None,
        })
        .collect();
    assert_eq!(receives, vec![3]);
    let empty = queue
        .calls()
        .iter()
        .filter(|c| matches!(c, QueueCall::Receive { got: 0 }))
        .count();
    assert!(
        empty <= 2,
        "one empty probe (and maybe one idle long poll): {empty}"
    );
    assert_eq!(intake, Snapshot::default());
}

#[tokio::test(start_paused = true)]
async fn the_in_hand_cap_closes_a_batch_and_nothing_is_left_behind() {
    let (queue, store) = (FakeQueue::new("main"), FakeStore::new(&[BUCKET]));
    fill(&queue, &store, 55, 3);
    // Room for 20 messages: two receives, then the loops wait for permits, which only a
    // closed batch can free.
    let rig = start(queue, store, 2, 20);
    rig.drained(Duration::from_secs(5)).await;
    rig.shutdown().await.assert_capped(55, 3, 20, 4);
}

#[tokio::test(start_paused = true)]
async fn a_receive_of_more_than_1000_keys_is_split_at_the_cap() {
    let (queue, store) = (FakeQueue::new("main"), FakeStore::new(&[BUCKET]));
    fill(&queue, &store, 10, 150);
    let rig = start(queue, store, 1, 20);
    rig.drained(Duration::from_secs(5)).await;
    let (_, store, _) = rig.shutdown().await;
    assert_eq!(store.count(), 0);
    assert_eq!(key_counts(&store), vec![1000, 500]);
}

#[tokio::test(start_paused = true)]
async fn a_receive_that_returns_after_shutdown_started_is_handed_back_untouched() {
    let (queue, store) = (FakeQueue::new("main"), FakeStore::new(&[BUCKET]));
    let rig = start(queue, store, 1, 40);
    // Virtual time: the loop is in its 20 s long poll on the empty queue (the fake records a
    // receive only when it returns, so there is nothing to poll for).
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        rig.queue.calls().is_empty(),
        "the first receive is still out"
    );
    rig.worker.stop();
    // Messages arrive while that long poll is still out: it returns them after the stop.
    fill(&rig.queue, &rig.store, 4, 2);
    let (queue, store, intake) = rig.shutdown().await;
    assert!(
        store.delete_requests().is_empty(),
        "nothing deleted after the stop"
    );
    assert_eq!(queue.len(), 4);
    assert!(
        queue
            .messages()
            .iter()
            .all(|m| m.visible_at <= tokio::time::Instant::now()),
        "handed back with visibility 0"
    );
    assert!(queue
        .calls()
        .iter()
        .any(|c| matches!(c, QueueCall::ChangeVisibility { timeout, .. } if timeout.is_zero())));
    assert_eq!(
        intake,
        Snapshot::default(),
        "no hand-over or probe left pending"
    );
}

#[tokio::test(start_paused = true)]
async fn idle_loops_park_behind_one_long_poll_and_a_burst_wakes_them() {
    let (queue, store) = (FakeQueue::new("main"), FakeStore::new(&[BUCKET]));
    let rig = start(queue, store, 4, 80);
    tokio::time::sleep(Duration::from_secs(60)).await;
    // One loop long-polls (20 s each: 3 a minute); the other three parked after their first
    // empty receive. Four loops polling would make 12.
    let idle = receives(&rig.queue);
    assert!(idle <= 7, "{idle} receives in an idle minute");
    fill(&rig.queue, &rig.store, 40, 1);
    rig.drained(Duration::from_secs(5)).await;
    let full = rig
        .queue
        .calls()
        .iter()
        .filter(|c| matches!(c, QueueCall::Receive { got: 10 }))
        .count();
    assert!(full >= 3, "the woken loops took full receives");
    let (_, store, intake) = rig.shutdown().await;
    assert_eq!(store.count(), 0);
    assert_eq!(intake, Snapshot::default());
}

#[tokio::test(start_paused = true)]
async fn a_lone_message_costs_one_long_poll_and_one_probe_not_one_per_loop() {
    let (queue, store) = (FakeQueue::new("main"), FakeStore::new(&[BUCKET]));
    let rig = start(queue, store, 4, 80);
    // Idle: one loop long-polls, the other three are parked behind it.
    tokio::time::sleep(Duration::from_secs(60)).await;
    for round in 0..5 {
        let before = receives(&rig.queue);
        fill(&rig.queue, &rig.store, 1, 1);
        rig.drained(Duration::from_secs(5)).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        // The watcher's long poll brings it, and that loop alone probes once to learn that
        // nothing follows; then it long-polls again. Waking the parked loops too made four
        // empty probes per message (7 requests a message at 5 messages/s).
        let spent = receives(&rig.queue) - before;
        assert!(
            spent <= 3,
            "round {round}: {spent} receives for one message"
        );
    }
    assert_eq!(key_counts(&rig.store), vec![1; 5], "one DeleteObjects each");
    let (_, store, intake) = rig.shutdown().await;
    assert_eq!(store.count(), 0);
    assert_eq!(intake, Snapshot::default());
}

#[tokio::test(start_paused = true)]
async fn a_burst_that_wakes_parked_loops_goes_out_as_one_delete_request() {
    let (queue, store) = (FakeQueue::new("main"), FakeStore::new(&[BUCKET]));
    let rig = start(queue, store, 4, 200);
    // Idle: one loop long-polls, the other three are parked behind it.
    tokio::time::sleep(Duration::from_secs(60)).await;
    fill(&rig.queue, &rig.store, 100, 1);
    rig.drained(Duration::from_secs(5)).await;
    let (queue, store, intake) = rig.shutdown().await;
    assert_eq!(store.count(), 0);
    // The watcher's receive wakes the others; each woken loop probes, and every probe out holds
    // the batch open, so the whole burst shares one DeleteObjects.
    assert_eq!(key_counts(&store), vec![100]);
    assert_eq!(queue.delete_batch_sizes().iter().sum::<usize>(), 100);
    assert_eq!(intake, Snapshot::default());
}

#[tokio::test(start_paused = true)]
async fn stopping_during_a_burst_finishes_or_hands_back_every_message() {
    let (queue, store) = (FakeQueue::new("main"), FakeStore::new(&[BUCKET]));
    fill(&queue, &store, 100, 2);
    let rig = start(queue, store, 4, 200);
    // The first receives are back and the loops' probes are out.
    tokio::time::sleep(Duration::from_millis(15)).await;
    assert!(
        rig.intake.snapshot().probes > 0,
        "probes out: {:?}",
        rig.intake.snapshot()
    );
    let (queue, store, intake) = rig.shutdown().await;
    assert_eq!(intake, Snapshot::default(), "no probe or hand-over left");
    let left = queue.messages();
    assert!(left.len() < 100, "the messages in hand were finished");
    // Every message still queued kept both its objects, and is visible again now.
    assert_eq!(store.count(), 2 * left.len());
    let now = tokio::time::Instant::now();
    assert!(left.iter().all(|m| m.visible_at <= now));
    assert_eq!(
        queue.delete_batch_sizes().iter().sum::<usize>(),
        100 - left.len()
    );
}

#[tokio::test(start_paused = true)]
async fn messages_that_arrive_while_probes_are_out_join_the_open_batch() {
    let (queue, store) = (FakeQueue::new("main"), FakeStore::new(&[BUCKET]));
    fill(&queue, &store, 10, 1);
    let rig = start(queue, store, 4, 200);
    // A stream: one message every 2 ms (receives take 10 ms), 90 in all. Every loop that got
    // messages probes, and each probe out holds the batch open, so the stream goes out in a few
    // large DeleteObjects; with only one probe counted at a time it went out in 17.
    for i in 0..90 {
        tokio::time::sleep(Duration::from_millis(2)).await;
        let key = format!("{PREFIX}s{i}.jpg");
        rig.store.put(BUCKET, &key, SystemTime::now());
        let body = format!(
            r#"{{"type":"page.created","version":1,"images":[{{"s3_url":"s3://{BUCKET}/{key}"}}]}}"#
        );
        rig.queue.push(&body, Attributes::new());
    }
    rig.drained(Duration::from_secs(5)).await;
    let (queue, store, intake) = rig.shutdown().await;
    assert_eq!(store.count(), 0);
    let keys = key_counts(&store);
    assert_eq!(keys.iter().sum::<usize>(), 100);
    assert!(keys.len() <= 4, "100 streamed messages: {keys:?}");
    assert_eq!(queue.delete_batch_sizes().iter().sum::<usize>(), 100);
    assert_eq!(intake, Snapshot::default());
}

#[tokio::test(start_paused = true)]
async fn under_a_backlog_batches_fill_the_in_hand_cap_while_acks_are_out() {
    let (queue, store) = (FakeQueue::new("main"), FakeStore::new(&[BUCKET]));
    fill(&queue, &store, 400, 1);
    // Acknowledgements take a round trip and go out at most four at a time, so the 80 acks of
    // a full batch free permits in two steps. The loops that receive with the first 40 and then
    // wait for permits again must not close the batch: the messages still being acknowledged
    // free permits on their own, and what the loops receive then joins the same batch.
    queue.set_delete_delay(Duration::from_millis(30));
    let rig = start(queue, store, 4, 80);
    rig.drained(Duration::from_secs(10)).await;
    rig.shutdown().await.assert_capped(400, 1, 80, 7);
}

#[tokio::test(start_paused = true)]
async fn waves_at_moto_round_trips_never_wait_for_a_timer() {
    let (queue, store) = (FakeQueue::new("main"), FakeStore::new(&[BUCKET]));
    let rig = start(queue, store, 4, 80);
    // Receives as slow as moto's under load: a loop's permits sit in a receive for a long time,
    // and a long poll on a drained queue holds them until the next wave.
    rig.queue.set_receive_delay(Duration::from_millis(300));
    rig.queue.set_delete_delay(Duration::from_millis(30));
    for wave in 0..5 {
        fill(&rig.queue, &rig.store, 100, 5);
        rig.drained(Duration::from_secs(20)).await;
        assert_eq!(rig.store.count(), 0, "wave {wave}");
    }
    rig.shutdown().await.assert_capped(500, 5, 80, 12);
}
