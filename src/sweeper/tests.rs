//! Unit tests of the sweeper on the in-memory store with paused time: age boundary, pagination,
//! per-key errors, the lease (acquire, renew, expire, lost), turn-taking, no overlap, dry run.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::clock::Clock;
use super::lease::{self, Acquired, LeaseError, LeaseState, LeaseTiming, Skip};
use super::scan::Scan;
use super::{timer, SweepError, SweepReport, Sweeper};
use crate::aws_error::AwsError;
use crate::config::{LeaseLocation, SweepSettings};
use crate::fakes::{transient, FakeStore};
use crate::s3url::LocationPolicy;
use crate::store::{CondPut, KeyOutcome, ListPage, ObjectStore, Versioned};
use crate::telemetry::events::SweepOutcome;

const DAY: Duration = Duration::from_secs(86_400);
const LEASE_KEY: &str = "image-janitor/sweeper.lease";

fn base() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_900_000_000)
}

fn settings(dry_run: bool) -> SweepSettings {
    SweepSettings {
        max_age: 7 * DAY,
        interval: None,
        dry_run,
        lease: LeaseLocation {
            bucket: "b-one".into(),
            key: LEASE_KEY.into(),
        },
        lease_ttl: LeaseTiming::default().ttl,
    }
}

fn sweeper(store: Arc<dyn ObjectStore>, holder: &str, settings: SweepSettings) -> Sweeper {
    let mut s = Sweeper::new(
        store,
        LocationPolicy::new(["b-one".to_owned(), "b-two".to_owned()], "tmp/"),
        settings,
    );
    s.holder = holder.into();
    s.clock = Clock::following_tokio(base());
    s
}

fn stale() -> SystemTime {
    base() - 8 * DAY
}

async fn lease_state(store: &FakeStore) -> Option<LeaseState> {
    let v = store.get_versioned("b-one", LEASE_KEY).await.ok()??;
    LeaseState::decode(&v.body)
}

/// (operation, started, finished) of one store call.
type Call = (&'static str, tokio::time::Instant, tokio::time::Instant);

/// FakeStore with slow lists and deletes, recording when each call ran (paused tokio time).
#[derive(Clone)]
struct SlowStore {
    inner: FakeStore,
    list_delay: Duration,
    delete_delay: Duration,
    calls: Arc<Mutex<Vec<Call>>>,
}

impl SlowStore {
    fn new(inner: FakeStore, list_delay: Duration, delete_delay: Duration) -> Self {
        SlowStore {
            inner,
            list_delay,
            delete_delay,
            calls: Arc::default(),
        }
    }

    fn windows(&self, op: &str) -> Vec<(tokio::time::Instant, tokio::time::Instant)> {
        let calls = self.calls.lock().unwrap();
        calls
            .iter()
            .filter(|c| c.0 == op)
            .map(|c| (c.1, c.2))
            .collect()
    }

    fn record(&self, op: &'static str, start: tokio::time::Instant) {
        self.calls
            .lock()
            .unwrap()
            .push((op, start, tokio::time::Instant::now()));
    }
}

#[async_trait]
impl ObjectStore for SlowStore {
    async fn delete_objects(
        &self,
        bucket: &str,
        keys: &[String],
    ) -> Result<Vec<KeyOutcome>, AwsError> {
        let start = tokio::time::Instant::now();
        tokio::time::sleep(self.delete_delay).await;
        let r = self.inner.delete_objects(bucket, keys).await;
        self.record("delete", start);
        r
    }
    async fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        c: Option<String>,
    ) -> Result<ListPage, AwsError> {
        let start = tokio::time::Instant::now();
        tokio::time::sleep(self.list_delay).await;
        let r = self.inner.list_page(bucket, prefix, c).await;
        self.record("list", start);
        r
    }
    async fn get_versioned(&self, bucket: &str, key: &str) -> Result<Option<Versioned>, AwsError> {
        self.inner.get_versioned(bucket, key).await
    }
    async fn put_conditional(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        if_match: Option<&str>,
    ) -> Result<CondPut, AwsError> {
        self.inner
            .put_conditional(bucket, key, body, if_match)
            .await
    }
    async fn delete_one(&self, bucket: &str, key: &str) -> Result<(), AwsError> {
        self.inner.delete_one(bucket, key).await
    }
}

async fn sweep(s: &Sweeper) -> SweepReport {
    s.sweep(None, &CancellationToken::new())
        .await
        .expect("sweep")
}

#[tokio::test(start_paused = true)]
async fn age_boundary_is_strict() {
    let store = FakeStore::new(&["b-one", "b-two"]);
    let cutoff = base() - 7 * DAY;
    store.put("b-one", "tmp/older", cutoff - Duration::from_secs(1));
    store.put("b-one", "tmp/exactly", cutoff);
    store.put("b-one", "tmp/younger", cutoff + Duration::from_secs(1));
    let report = sweep(&sweeper(Arc::new(store.clone()), "a", settings(false))).await;
    assert_eq!((report.scanned, report.deleted, report.failed), (3, 1, 0));
    assert!(!store.exists("b-one", "tmp/older"));
    assert!(store.exists("b-one", "tmp/exactly"));
    assert!(store.exists("b-one", "tmp/younger"));
}

#[tokio::test(start_paused = true)]
async fn pages_are_streamed_and_batched_up_to_1000_keys() {
    let store = FakeStore::new(&["b-one", "b-two"]);
    store.set_page_size(300);
    for i in 0..2500 {
        store.put("b-one", &format!("tmp/{i:05}"), stale());
    }
    for i in 0..10 {
        store.put("b-two", &format!("tmp/{i:05}"), stale());
    }
    let report = sweep(&sweeper(Arc::new(store.clone()), "a", settings(false))).await;
    assert_eq!((report.scanned, report.deleted), (2510, 2510));
    // 9 pages in b-one (2500 / 300, rounded up), 1 in b-two.
    assert_eq!(store.list_requests(), 10);
    let mut sizes: Vec<usize> = store
        .delete_requests()
        .iter()
        .map(|(_, k)| k.len())
        .collect();
    sizes.sort_unstable();
    assert_eq!(sizes, vec![10, 500, 1000, 1000]);
    // Only the lease is left (written in b-one, outside the prefix).
    assert_eq!(store.count(), 1);
    assert!(store.exists("b-one", LEASE_KEY));
}

#[tokio::test(start_paused = true)]
async fn per_key_errors_are_counted_and_the_sweep_goes_on() {
    let store = FakeStore::new(&["b-one", "b-two"]);
    store.set_page_size(100);
    for i in 0..1500 {
        store.put("b-one", &format!("tmp/{i:05}"), stale());
    }
    store.put("b-two", "tmp/x", stale());
    store.deny_key("tmp/00007");
    store.flaky_key("tmp/01200", 2);
    store.fail_next_delete(transient("s3", "DeleteObjects", "SlowDown"));
    let report = sweep(&sweeper(Arc::new(store.clone()), "a", settings(false))).await;
    assert_eq!(
        (report.scanned, report.deleted, report.failed),
        (1501, 1500, 1)
    );
    assert!(store.exists("b-one", "tmp/00007"));
    assert!(!store.exists("b-one", "tmp/01200"));
    assert!(
        !store.exists("b-two", "tmp/x"),
        "the second bucket was swept too"
    );
}

#[tokio::test(start_paused = true)]
async fn dry_run_deletes_nothing_and_writes_no_lease() {
    let store = FakeStore::new(&["b-one", "b-two"]);
    for i in 0..30 {
        store.put("b-one", &format!("tmp/{i}"), stale());
    }
    store.put("b-one", "tmp/fresh", base());
    let report = sweep(&sweeper(Arc::new(store.clone()), "a", settings(true))).await;
    assert_eq!((report.scanned, report.deleted), (31, 30));
    assert!(store.delete_requests().is_empty());
    assert_eq!(store.count(), 31);
    assert!(!store.exists("b-one", LEASE_KEY));
}

#[tokio::test(start_paused = true)]
async fn only_allowed_buckets_and_the_prefix_are_touched() {
    let store = FakeStore::new(&["b-one", "b-two", "b-other"]);
    store.put("b-one", "tmp/a", stale());
    store.put("b-one", "keep/a", stale());
    store.put("b-one", "tmpx", stale());
    store.put("b-other", "tmp/a", stale());
    let report = sweep(&sweeper(Arc::new(store.clone()), "a", settings(false))).await;
    assert_eq!(report.deleted, 1);
    assert!(!store.exists("b-one", "tmp/a"));
    assert!(store.exists("b-one", "keep/a"));
    assert!(store.exists("b-one", "tmpx"));
    assert!(store.exists("b-other", "tmp/a"));
    assert!(store.delete_requests().iter().all(|(b, _)| b != "b-other"));
}

#[tokio::test(start_paused = true)]
async fn the_lease_object_is_never_swept_even_with_an_empty_prefix() {
    let store = FakeStore::new(&["b-one"]);
    store.put("b-one", LEASE_KEY, stale());
    store.put("b-one", "anything", stale());
    let policy = LocationPolicy::new(["b-one".to_owned()], "");
    let lease = settings(false).lease;
    let halt = CancellationToken::new();
    let scan = Scan {
        store: &store,
        policy: &policy,
        bucket: "b-one",
        cutoff: base() - 7 * DAY,
        lease: &lease,
        dry_run: false,
        halt: &halt,
        clock: Clock::following_tokio(base()),
    };
    let (tally, err) = scan.run().await;
    assert!(err.is_none());
    assert_eq!((tally.scanned, tally.deleted), (2, 1));
    assert!(store.exists("b-one", LEASE_KEY));
    assert!(!store.exists("b-one", "anything"));
    // And through a whole sweep with an empty prefix, lease taken and released.
    store.put("b-one", "again", stale());
    let mut s = sweeper(Arc::new(store.clone()), "a", settings(false));
    s.policy = policy;
    let report = sweep(&s).await;
    assert_eq!(report.deleted, 1);
    assert!(store.exists("b-one", LEASE_KEY));
}

#[tokio::test(start_paused = true)]
async fn lease_acquire_expire_takeover_lost_and_min_gap() {
    let store = FakeStore::new(&["b-one"]);
    let loc = settings(false).lease;
    let timing = LeaseTiming::default();
    let clock = Clock::following_tokio(base());
    let Acquired::Held(mut a) = lease::acquire(&store, &loc, "a", timing, None, clock)
        .await
        .unwrap()
    else {
        panic!("a should take a free lease");
    };
    assert_eq!(a.state().expires_at, base() + timing.ttl);
    // b is refused while a's lease is live.
    match lease::acquire(&store, &loc, "b", timing, None, clock)
        .await
        .unwrap()
    {
        Acquired::Skipped(Skip::HeldBy { holder, .. }) => assert_eq!(holder, "a"),
        other => panic!("{other:?}"),
    }
    // a renews; 100 s later (past the first expiry) b is still refused.
    tokio::time::advance(Duration::from_secs(60)).await;
    a.renew(&store).await.unwrap();
    tokio::time::advance(Duration::from_secs(100)).await;
    assert!(matches!(
        lease::acquire(&store, &loc, "b", timing, None, clock)
            .await
            .unwrap(),
        Acquired::Skipped(Skip::HeldBy { .. })
    ));
    // a stops renewing (crashed); once expired, b takes over; a's renewal finds it lost.
    tokio::time::advance(Duration::from_secs(30)).await;
    let Acquired::Held(b) = lease::acquire(&store, &loc, "b", timing, None, clock)
        .await
        .unwrap()
    else {
        panic!("b should take over an expired lease");
    };
    assert!(matches!(
        a.renew(&store).await,
        Err(LeaseError::Lost { .. })
    ));
    assert!(matches!(
        a.release(&store, true).await,
        Err(LeaseError::Lost { .. })
    ));
    // b completes: c is skipped for min_gap, then allowed; the one-shot (no min_gap) always runs.
    b.release(&store, true).await.unwrap();
    let st = lease_state(&store).await.unwrap();
    assert_eq!(st.last_completed_at, Some(st.expires_at));
    let gap = Some(Duration::from_secs(3600));
    assert!(matches!(
        lease::acquire(&store, &loc, "c", timing, gap, clock)
            .await
            .unwrap(),
        Acquired::Skipped(Skip::RecentlyCompleted { .. })
    ));
    tokio::time::advance(Duration::from_secs(3601)).await;
    let Acquired::Held(c) = lease::acquire(&store, &loc, "c", timing, gap, clock)
        .await
        .unwrap()
    else {
        panic!("c should sweep once min_gap has passed");
    };
    c.release(&store, false).await.unwrap();
    assert!(matches!(
        lease::acquire(&store, &loc, "d", timing, None, clock)
            .await
            .unwrap(),
        Acquired::Held(_)
    ));
}

#[tokio::test(start_paused = true)]
async fn a_long_sweep_renews_its_lease_and_a_second_sweeper_is_skipped() {
    let fake = FakeStore::new(&["b-one", "b-two"]);
    fake.set_page_size(1000);
    for i in 0..8000 {
        fake.put("b-one", &format!("tmp/{i:05}"), stale());
    }
    // 8 batches, 4 at a time, 100 s each: about 200 s, longer than the 120 s TTL.
    let slow = SlowStore::new(
        fake.clone(),
        Duration::from_secs(1),
        Duration::from_secs(100),
    );
    let a = sweeper(Arc::new(slow.clone()), "a", settings(false));
    let b = sweeper(Arc::new(slow.clone()), "b", settings(false));
    let first = tokio::spawn(async move { sweep(&a).await });
    tokio::time::sleep(Duration::from_secs(150)).await;
    let report_b = sweep(&b).await;
    assert!(
        matches!(report_b.skipped, Some(Skip::HeldBy { ref holder, .. }) if holder == "a"),
        "{report_b:?}"
    );
    assert_eq!(report_b.scanned, 0);
    let report_a = first.await.unwrap();
    assert_eq!(report_a.deleted, 8000);
    assert_eq!(fake.count(), 1, "only the lease is left");
    let st = lease_state(&fake).await.unwrap();
    assert_eq!(st.holder, "a");
    assert!(st.last_completed_at.is_some());
}

#[tokio::test(start_paused = true)]
async fn a_holder_that_loses_the_lease_stops_sweeping() {
    let fake = FakeStore::new(&["b-one", "b-two"]);
    for i in 0..12_000 {
        fake.put("b-one", &format!("tmp/{i:05}"), stale());
    }
    let slow = SlowStore::new(
        fake.clone(),
        Duration::from_secs(1),
        Duration::from_secs(40),
    );
    let a = sweeper(Arc::new(slow.clone()), "a", settings(false));
    let run = tokio::spawn(async move { a.sweep(None, &CancellationToken::new()).await });
    // At t=45 s another writer replaces the lease behind a's back.
    tokio::time::sleep(Duration::from_secs(45)).await;
    let cur = fake
        .get_versioned("b-one", LEASE_KEY)
        .await
        .unwrap()
        .unwrap();
    let thief = LeaseState {
        holder: "thief".into(),
        expires_at: base() + Duration::from_secs(3600),
        last_completed_at: None,
    };
    let put = fake
        .put_conditional("b-one", LEASE_KEY, thief.encode(), Some(&cur.etag))
        .await
        .unwrap();
    assert!(matches!(put, CondPut::Written(_)));
    let failure = run.await.unwrap().expect_err("the sweep must stop");
    assert!(
        matches!(failure.error, SweepError::Lease(LeaseError::Lost { .. })),
        "{failure}"
    );
    // The renewal at 60 s found it lost: the batches started before it finished, no new ones.
    let started_after_loss = slow
        .windows("delete")
        .iter()
        .filter(|(s, _)| s.duration_since(slow.windows("list")[0].0) > Duration::from_secs(60))
        .count();
    assert_eq!(started_after_loss, 0);
    assert!(
        fake.count() > 1000,
        "most objects are left for the new holder"
    );
    assert_eq!(
        lease_state(&fake).await.unwrap().holder,
        "thief",
        "a lost lease is not touched"
    );
}

#[tokio::test(start_paused = true)]
async fn timer_never_overlaps_and_replicas_take_turns() {
    let fake = FakeStore::new(&["b-one"]);
    // Each sweep lists for 25 s; the interval is 10 s.
    let slow = SlowStore::new(fake.clone(), Duration::from_secs(25), Duration::ZERO);
    let mut st = settings(false);
    st.interval = Some(Duration::from_secs(10));
    let mut s = sweeper(Arc::new(slow.clone()), "a", st);
    s.policy = LocationPolicy::new(["b-one".to_owned()], "tmp/");
    let stop = CancellationToken::new();
    let task = tokio::spawn(timer::run_with(s, stop.clone()));
    tokio::time::sleep(Duration::from_secs(300)).await;
    stop.cancel();
    task.await.unwrap();
    let lists = slow.windows("list");
    assert!(lists.len() >= 5, "{}", lists.len());
    for w in lists.windows(2) {
        assert!(w[1].0 >= w[0].1 + Duration::from_secs(10), "{w:?}");
    }

    // Three replicas, interval 60 s, instant sweeps, 20 minutes: about one sweep per interval
    // between them (≤ 20 / 0.9 + 1), not one each (≈ 60).
    let fake = FakeStore::new(&["b-one"]);
    let stop = CancellationToken::new();
    let mut tasks = Vec::new();
    for holder in ["r1", "r2", "r3"] {
        let mut st = settings(false);
        st.interval = Some(Duration::from_secs(60));
        let mut s = sweeper(Arc::new(fake.clone()), holder, st);
        s.policy = LocationPolicy::new(["b-one".to_owned()], "tmp/");
        tasks.push(tokio::spawn(timer::run_with(s, stop.clone())));
    }
    tokio::time::sleep(Duration::from_secs(1200)).await;
    stop.cancel();
    for t in tasks {
        t.await.unwrap();
    }
    let sweeps = fake.list_requests();
    assert!(
        (15..=23).contains(&sweeps),
        "{sweeps} sweeps in 20 intervals"
    );
}

#[tokio::test(start_paused = true)]
async fn shutdown_stops_a_sweep_promptly_and_releases_the_lease() {
    let fake = FakeStore::new(&["b-one"]);
    for i in 0..9000 {
        fake.put("b-one", &format!("tmp/{i:05}"), stale());
    }
    // Deletes take 30 s each: 9 batches would take about 90 s.
    let slow = SlowStore::new(
        fake.clone(),
        Duration::from_secs(1),
        Duration::from_secs(30),
    );
    let mut st = settings(false);
    st.interval = Some(Duration::from_secs(10));
    let mut s = sweeper(Arc::new(slow.clone()), "a", st);
    s.policy = LocationPolicy::new(["b-one".to_owned()], "tmp/");
    let stop = CancellationToken::new();
    let task = tokio::spawn(timer::run_with(s, stop.clone()));
    // The first sweep starts within 3 s; stop it while its first deletes are in flight.
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert!(lease_state(&fake).await.is_some());
    stop.cancel();
    let stopped_at = tokio::time::Instant::now();
    task.await.unwrap();
    // Requests already sent are allowed to finish (so every deletion is audited); none is started.
    assert!(
        stopped_at.elapsed() <= Duration::from_secs(30),
        "{:?}",
        stopped_at.elapsed()
    );
    assert!(slow
        .windows("delete")
        .iter()
        .all(|(start, _)| *start < stopped_at));
    assert_eq!(
        fake.count(),
        9001 - 4000,
        "only the 4 batches in flight were deleted"
    );
    let st = lease_state(&fake).await.unwrap();
    assert!(
        st.expires_at <= base() + Duration::from_secs(60),
        "released: {st:?}"
    );
    assert_eq!(
        st.last_completed_at, None,
        "an interrupted sweep is not a completed one"
    );
}

/// `SweepFinished.outcome` comes from the sweep's own result, through the real sweep path.
#[tokio::test(start_paused = true)]
async fn the_outcome_is_built_from_the_sweeps_result() {
    let stop = CancellationToken::new();
    let store = FakeStore::new(&["b-one", "b-two"]);
    store.put("b-one", "tmp/a", stale());
    let a = sweeper(Arc::new(store.clone()), "a", settings(false));
    let ok = a.sweep(None, &stop).await;
    assert!(matches!(super::outcome(&ok), Some((SweepOutcome::Ok, r)) if r.deleted == 1));

    // Just completed: a second sweep with a minimum gap is skipped.
    let again = a.sweep(Some(Duration::from_secs(3600)), &stop).await;
    assert!(matches!(super::outcome(&again), Some((SweepOutcome::Skipped, r)) if r.scanned == 0));

    // A refused key: the sweep goes on, but the outcome is an error naming the count.
    store.put("b-one", "tmp/denied", stale());
    store.deny_key("tmp/denied");
    let refused = a.sweep(None, &stop).await;
    match super::outcome(&refused) {
        Some((SweepOutcome::Failed(why), r)) => {
            assert_eq!(r.failed, 1);
            assert!(why.contains("1 objects could not be deleted"), "{why}");
        }
        other => panic!("{other:?}"),
    }

    // A listing refused: the sweep fails, the partial report is what it did.
    store.deny_list();
    let failed = a.sweep(None, &stop).await;
    assert!(failed.is_err());
    assert!(
        matches!(super::outcome(&failed), Some((SweepOutcome::Failed(why), _)) if why.contains("b-one"))
    );

    // Interrupted by shutdown: no outcome at all.
    let interrupted = Err(super::SweepFailure {
        partial: SweepReport::default(),
        error: SweepError::Interrupted,
    });
    assert_eq!(super::outcome(&interrupted), None);
    assert_eq!(SweepOutcome::Failed(String::new()).as_str(), "error");
    assert_eq!(SweepOutcome::Skipped.as_str(), "skipped");
    assert_eq!(SweepOutcome::Ok.as_str(), "ok");
}
