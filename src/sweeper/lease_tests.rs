//! Unit tests of the sweeper lease: the protocol's decisions, and its retry paths under scripted S3 failures.

use super::*;
use crate::fakes::{permanent, transient, FakeStore};
use crate::store::{KeyOutcome, ListPage, Versioned};

/// Attempts of one retried lease call: the first plus `delete_backoff`'s four retries.
const ATTEMPTS: usize = 5;

fn loc() -> LeaseLocation {
    LeaseLocation {
        bucket: "b-one".into(),
        key: "image-janitor/sweeper.lease".into(),
    }
}

fn clock() -> Clock {
    Clock::following_tokio(SystemTime::UNIX_EPOCH + Duration::from_secs(1_900_000_000))
}

/// Under the shipped IAM (no unconditioned ListBucket) S3 answers a read of the missing lease
/// with 403: the first run must create it without reading, and later runs (412 → read →
/// takeover) must work too.
#[tokio::test(start_paused = true)]
async fn first_and_later_runs_work_when_reading_a_missing_key_is_denied() {
    let store = FakeStore::new(&["b-one"]);
    store.deny_missing_reads();
    let (loc, clock, timing) = (loc(), clock(), LeaseTiming::default());
    let a = match acquire(&store, &loc, "a", timing, None, clock).await {
        Ok(Acquired::Held(a)) => a,
        other => panic!("a should create the lease on a fresh bucket: {other:?}"),
    };
    assert!(store.exists("b-one", &loc.key));
    a.release(&store, true).await.expect("release");

    // Held-by and min-gap decisions still come from the object read after the 412.
    let gap = Some(Duration::from_secs(600));
    match acquire(&store, &loc, "b", timing, gap, clock).await {
        Ok(Acquired::Skipped(Skip::RecentlyCompleted { .. })) => {}
        other => panic!("b should skip right after a's sweep: {other:?}"),
    }
    tokio::time::advance(Duration::from_secs(700)).await;
    let b = match acquire(&store, &loc, "b", timing, gap, clock).await {
        Ok(Acquired::Held(b)) => b,
        other => panic!("b should take over the released lease: {other:?}"),
    };
    assert_eq!(b.state().holder, "b");
    assert!(b.state().last_completed_at.is_some(), "history kept");
    match acquire(&store, &loc, "c", timing, None, clock).await {
        Ok(Acquired::Skipped(Skip::HeldBy { holder, .. })) => assert_eq!(holder, "b"),
        other => panic!("c should see b's live lease: {other:?}"),
    }
}

fn held_or_panic(r: Result<Acquired, LeaseError>) -> Lease {
    match r {
        Ok(Acquired::Held(l)) => l,
        other => panic!("expected the lease: {other:?}"),
    }
}

fn store_code(r: Result<impl fmt::Debug, LeaseError>) -> String {
    match r {
        Err(LeaseError::Store { source, .. }) => source.code,
        other => panic!("expected a store error: {other:?}"),
    }
}

/// A lease another holder let expire, so that acquiring it goes create (412) → read →
/// takeover. Returns how many conditional writes the store has seen (this one included).
async fn expired_lease(store: &FakeStore, clock: Clock) -> usize {
    let old = LeaseState {
        holder: "x".into(),
        expires_at: clock.now() - Duration::from_secs(1),
        last_completed_at: None,
    };
    let key = loc().key;
    let written = store
        .put_conditional("b-one", &key, old.encode(), None)
        .await;
    assert!(matches!(written, Ok(CondPut::Written(_))), "{written:?}");
    store.put_requests().len()
}

#[tokio::test(start_paused = true)]
async fn transient_read_and_write_failures_are_retried() {
    let store = FakeStore::new(&["b-one"]);
    let (loc, clock, timing) = (loc(), clock(), LeaseTiming::default());
    let before = expired_lease(&store, clock).await;
    store.fail_next_put(transient("s3", "PutObject", "SlowDown"));
    store.fail_next_put(transient("s3", "PutObject", "InternalError"));
    store.fail_next_get(transient("s3", "GetObject", "SlowDown"));
    let a = held_or_panic(acquire(&store, &loc, "a", timing, None, clock).await);
    assert_eq!(a.state().holder, "a");
    let puts = &store.put_requests()[before..];
    // Create tried three times (two failures, then 412), then the takeover with If-Match.
    assert_eq!(puts.len(), 4, "{puts:?}");
    assert!(puts[..3].iter().all(|(_, m)| m.is_none()), "{puts:?}");
    assert!(puts[3].1.is_some(), "{puts:?}");
}

#[tokio::test(start_paused = true)]
async fn permanent_failures_are_reported_at_once() {
    let store = FakeStore::new(&["b-one"]);
    let (loc, clock, timing) = (loc(), clock(), LeaseTiming::default());
    store.fail_next_put(permanent("s3", "PutObject", "AccessDenied"));
    let r = acquire(&store, &loc, "a", timing, None, clock).await;
    assert_eq!(store_code(r), "AccessDenied");
    assert_eq!(store.put_requests().len(), 1, "not retried");

    let before = expired_lease(&store, clock).await;
    store.fail_next_get(permanent("s3", "GetObject", "AccessDenied"));
    let r = acquire(&store, &loc, "a", timing, None, clock).await;
    assert_eq!(store_code(r), "AccessDenied");
    let puts = &store.put_requests()[before..];
    assert_eq!(puts.len(), 1, "no takeover after a failed read: {puts:?}");
}

#[tokio::test(start_paused = true)]
async fn transient_failures_give_up_after_the_backoff() {
    let store = FakeStore::new(&["b-one"]);
    let (loc, clock, timing) = (loc(), clock(), LeaseTiming::default());
    for _ in 0..ATTEMPTS + 1 {
        store.fail_next_put(transient("s3", "PutObject", "SlowDown"));
    }
    let r = acquire(&store, &loc, "a", timing, None, clock).await;
    assert_eq!(store_code(r), "SlowDown");
    assert_eq!(store.put_requests().len(), ATTEMPTS);
    assert!(!store.exists("b-one", &loc.key));
}

#[tokio::test(start_paused = true)]
async fn a_failed_renewal_is_retried_next_tick_until_the_lease_would_lapse() {
    let store = FakeStore::new(&["b-one"]);
    let (loc, clock, timing) = (loc(), clock(), LeaseTiming::default());
    let mut a = held_or_panic(acquire(&store, &loc, "a", timing, None, clock).await);
    let first_expiry = a.state().expires_at;
    store.fail_next_put(transient("s3", "PutObject", "SlowDown"));
    assert_eq!(store_code(a.renew(&store).await), "SlowDown");
    assert_eq!(
        a.state().expires_at,
        first_expiry,
        "unchanged by a failed renewal"
    );
    assert_eq!(store.put_requests().len(), 2, "renew itself does not retry");
    tokio::time::advance(Duration::from_secs(1)).await;
    a.renew(&store).await.expect("the next tick renews");
    let expiry = a.state().expires_at;
    assert_eq!(expiry, first_expiry + Duration::from_secs(1));
    // One renewal period before expiry, a failure still leaves time for the next tick...
    tokio::time::advance(timing.ttl - timing.renew_every - Duration::from_secs(1)).await;
    store.fail_next_put(transient("s3", "PutObject", "SlowDown"));
    assert_eq!(store_code(a.renew(&store).await), "SlowDown");
    // ...from then on it does not: the holder must stop before another may take over.
    tokio::time::advance(Duration::from_secs(1)).await;
    store.fail_next_put(transient("s3", "PutObject", "SlowDown"));
    match a.renew(&store).await {
        Err(LeaseError::Expired { last_error, .. }) => assert!(last_error.contains("SlowDown")),
        other => panic!("expected Expired: {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_deleted_lease_is_lost_not_a_store_error() {
    let store = FakeStore::new(&["b-one"]);
    let (loc, clock, timing) = (loc(), clock(), LeaseTiming::default());
    let mut a = held_or_panic(acquire(&store, &loc, "a", timing, None, clock).await);
    store.delete_one("b-one", &loc.key).await.expect("delete");
    assert!(matches!(
        a.renew(&store).await,
        Err(LeaseError::Lost { .. })
    ));
    let b = held_or_panic(acquire(&store, &loc, "b", timing, None, clock).await);
    store.delete_one("b-one", &loc.key).await.expect("delete");
    assert!(matches!(
        b.release(&store, true).await,
        Err(LeaseError::Lost { .. })
    ));
    assert!(!store.exists("b-one", &loc.key), "nothing recreated");
}

/// A store whose lease vanishes right after it is read (another replica deleted it).
struct VanishAfterRead(FakeStore);

#[async_trait::async_trait]
impl ObjectStore for VanishAfterRead {
    async fn delete_objects(
        &self,
        bucket: &str,
        keys: &[String],
    ) -> Result<Vec<KeyOutcome>, AwsError> {
        self.0.delete_objects(bucket, keys).await
    }
    async fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        continuation: Option<String>,
    ) -> Result<ListPage, AwsError> {
        self.0.list_page(bucket, prefix, continuation).await
    }
    async fn get_versioned(&self, bucket: &str, key: &str) -> Result<Option<Versioned>, AwsError> {
        let got = self.0.get_versioned(bucket, key).await;
        self.0.delete_one(bucket, key).await?;
        got
    }
    async fn put_conditional(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        if_match: Option<&str>,
    ) -> Result<CondPut, AwsError> {
        self.0.put_conditional(bucket, key, body, if_match).await
    }
    async fn delete_one(&self, bucket: &str, key: &str) -> Result<(), AwsError> {
        self.0.delete_one(bucket, key).await
    }
}

#[tokio::test(start_paused = true)]
async fn a_lease_deleted_between_read_and_takeover_is_contended() {
    let fake = FakeStore::new(&["b-one"]);
    let (loc, clock, timing) = (loc(), clock(), LeaseTiming::default());
    let before = expired_lease(&fake, clock).await;
    let store = VanishAfterRead(fake.clone());
    match acquire(&store, &loc, "a", timing, None, clock).await {
        Ok(Acquired::Skipped(Skip::Contended)) => {}
        other => panic!("expected Contended: {other:?}"),
    }
    let puts = &fake.put_requests()[before..];
    assert_eq!(puts.len(), 2, "the takeover was attempted: {puts:?}");
    assert!(puts[1].1.is_some());
}

#[tokio::test(start_paused = true)]
async fn release_retries_transient_failures_and_stops_on_permanent_ones() {
    let store = FakeStore::new(&["b-one"]);
    let (loc, clock, timing) = (loc(), clock(), LeaseTiming::default());
    let a = held_or_panic(acquire(&store, &loc, "a", timing, None, clock).await);
    store.fail_next_put(transient("s3", "PutObject", "SlowDown"));
    store.fail_next_put(transient("s3", "PutObject", "InternalError"));
    tokio::time::advance(Duration::from_secs(10)).await;
    let released_at = clock.now();
    a.release(&store, true)
        .await
        .expect("released after two retries");
    assert!(clock.now() > released_at, "backed off between attempts");
    assert_eq!(store.put_requests().len(), 4);
    let body = store.body("b-one", &loc.key).expect("kept");
    let state = LeaseState::decode(&body).expect("a lease");
    assert_eq!(state.expires_at, released_at, "expired at release");
    assert_eq!(state.last_completed_at, Some(released_at));

    let b = held_or_panic(acquire(&store, &loc, "a", timing, None, clock).await);
    let before = store.put_requests().len();
    store.fail_next_put(permanent("s3", "PutObject", "AccessDenied"));
    assert_eq!(store_code(b.release(&store, false).await), "AccessDenied");
    assert_eq!(store.put_requests().len(), before + 1, "not retried");

    let c = held_or_panic(acquire(&store, &loc, "a", timing, None, clock).await);
    let before = store.put_requests().len();
    for _ in 0..ATTEMPTS + 1 {
        store.fail_next_put(transient("s3", "PutObject", "SlowDown"));
    }
    assert_eq!(store_code(c.release(&store, false).await), "SlowDown");
    assert_eq!(store.put_requests().len(), before + ATTEMPTS);
}
