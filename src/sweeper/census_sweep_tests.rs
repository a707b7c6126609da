//! Unit tests of the prefix census on the in-memory store with paused time: deleted vs
//! remaining vs refused, dry run, objects without `LastModified` (never deleted), no census from
//! a partial listing, and the gauges the census sets.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use metrics_exporter_prometheus::PrometheusBuilder;
use tokio_util::sync::CancellationToken;

use super::census::{BucketCensus, Census};
use super::clock::Clock;
use super::{SweepError, SweepReport, Sweeper};
use crate::config::{LeaseLocation, SweepSettings};
use crate::fakes::{permanent, FakeStore};
use crate::s3url::LocationPolicy;
use crate::store::ObjectStore;

const DAY: Duration = Duration::from_secs(86_400);
const MAX_AGE: Duration = Duration::from_secs(7 * 86_400);
const LEASE_KEY: &str = "image-janitor/sweeper.lease";

fn base() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_900_000_000)
}

fn sweeper(store: &FakeStore, prefix: &str, dry_run: bool) -> Sweeper {
    let settings = SweepSettings {
        max_age: MAX_AGE,
        interval: None,
        dry_run,
        lease: LeaseLocation {
            bucket: "b-one".into(),
            key: LEASE_KEY.into(),
        },
        lease_ttl: Duration::from_secs(120),
    };
    let store: Arc<dyn ObjectStore> = Arc::new(store.clone());
    let policy = LocationPolicy::new(["b-one".to_owned(), "b-two".to_owned()], prefix);
    let mut s = Sweeper::new(store, policy, settings);
    s.holder = "census-test".into();
    s.clock = Clock::following_tokio(base());
    s
}

async fn sweep(s: &Sweeper) -> SweepReport {
    s.sweep(None, &CancellationToken::new())
        .await
        .expect("sweep")
}

fn census<'a>(report: &'a SweepReport, bucket: &str) -> &'a Census {
    &report
        .buckets
        .iter()
        .find(|b| b.bucket == bucket)
        .unwrap_or_else(|| panic!("no census for {bucket}: {report:?}"))
        .census
}

#[tokio::test(start_paused = true)]
async fn the_census_is_the_listing_minus_what_s3_confirmed_deleted() {
    let store = FakeStore::new(&["b-one", "b-two"]);
    let stale = |days: u64| base() - MAX_AGE - Duration::from_secs(days * 3600);
    store.put_sized("b-one", "tmp/old-1", stale(5), 100);
    store.put_sized("b-one", "tmp/old-2", stale(1), 200);
    store.put_sized("b-one", "tmp/refused", stale(3), 30);
    store.put_sized("b-one", "tmp/flaky", stale(9), 4000);
    store.put_sized("b-one", "tmp/fresh-1", base() - DAY, 7);
    store.put_sized("b-one", "tmp/fresh-2", base() - 2 * DAY, 5);
    store.put_sized("b-one", "elsewhere/old", stale(20), 999);
    store.put_sized("b-two", "tmp/young", base() - Duration::from_secs(60), 11);
    store.deny_key("tmp/refused");
    store.flaky_key("tmp/flaky", 2); // deleted on the third attempt
    let report = sweep(&sweeper(&store, "tmp/", false)).await;
    assert_eq!((report.scanned, report.deleted, report.failed), (7, 3, 1));
    assert_eq!(
        report
            .buckets
            .iter()
            .map(|b| b.bucket.as_str())
            .collect::<Vec<_>>(),
        ["b-one", "b-two"]
    );

    let one = census(&report, "b-one");
    // Left: the refused stale object and the two fresh ones; not the lease (outside the prefix
    // here), not the object outside the prefix.
    assert_eq!(one.remaining.objects, 3);
    assert_eq!(one.remaining.bytes, 30 + 7 + 5);
    assert_eq!(
        one.remaining.oldest,
        Some(stale(3)),
        "the refused object is the oldest"
    );
    assert_eq!(one.stale_remaining, 1);
    assert_eq!(one.undated, 0);
    let listed_at = one.listed_at.expect("listing completed");
    assert!(listed_at >= base() && listed_at < base() + Duration::from_secs(60));
    assert_eq!(
        one.oldest_age(),
        listed_at.duration_since(stale(3)).unwrap()
    );
    assert!(one.oldest_age() > MAX_AGE);

    let two = census(&report, "b-two");
    assert_eq!((two.remaining.objects, two.remaining.bytes), (1, 11));
    assert_eq!(two.stale_remaining, 0);
    assert!(two.oldest_age() >= Duration::from_secs(60) && two.oldest_age() < MAX_AGE);
}

#[tokio::test(start_paused = true)]
async fn after_a_sweep_that_deletes_everything_stale_the_oldest_is_younger_than_the_max_age() {
    let store = FakeStore::new(&["b-one", "b-two"]);
    store.set_page_size(7);
    for i in 0..40 {
        store.put_sized("b-one", &format!("tmp/old-{i:02}"), base() - 30 * DAY, 10);
    }
    let youngest_stale = base() - MAX_AGE - Duration::from_secs(1);
    store.put_sized("b-one", "tmp/old-last", youngest_stale, 10);
    store.put_sized(
        "b-one",
        "tmp/new-a",
        base() - MAX_AGE + Duration::from_secs(1),
        3,
    );
    store.put_sized("b-one", "tmp/new-b", base() - Duration::from_secs(5), 4);
    // Before: a dry run sees the stale ones.
    let before = sweep(&sweeper(&store, "tmp/", true)).await;
    assert!(census(&before, "b-one").oldest_age() > MAX_AGE);
    let after = sweep(&sweeper(&store, "tmp/", false)).await;
    assert_eq!(after.deleted, 41);
    let one = census(&after, "b-one");
    assert_eq!((one.remaining.objects, one.remaining.bytes), (2, 7));
    assert_eq!(one.stale_remaining, 0);
    assert!(
        one.oldest_age() < MAX_AGE,
        "oldest {:?} vs max age {MAX_AGE:?}",
        one.oldest_age()
    );
    assert!(one.oldest_age() >= MAX_AGE - Duration::from_secs(1));
    // A prefix swept empty: zero objects, zero bytes, age 0.
    let two = census(&after, "b-two");
    assert_eq!(
        *two,
        Census {
            listed_at: two.listed_at,
            ..Census::default()
        }
    );
    assert!(two.listed_at.is_some());
    assert_eq!(two.oldest_age(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn a_dry_run_counts_everything_listed_as_remaining_and_deletes_nothing() {
    let store = FakeStore::new(&["b-one", "b-two"]);
    for i in 0..25 {
        store.put_sized("b-one", &format!("tmp/old-{i}"), base() - 9 * DAY, 2);
    }
    store.put_sized("b-one", "tmp/fresh", base() - DAY, 50);
    let report = sweep(&sweeper(&store, "tmp/", true)).await;
    assert_eq!(
        (report.scanned, report.deleted),
        (26, 25),
        "would delete 25"
    );
    assert!(store.delete_requests().is_empty());
    let one = census(&report, "b-one");
    assert_eq!((one.remaining.objects, one.remaining.bytes), (26, 100));
    assert_eq!(one.stale_remaining, 25);
    assert_eq!(one.remaining.oldest, Some(base() - 9 * DAY));
}

#[tokio::test(start_paused = true)]
async fn an_object_listed_without_last_modified_is_skipped_never_deleted() {
    let store = FakeStore::new(&["b-one", "b-two"]);
    store.put_undated("b-one", "tmp/undated", 64);
    store.put_sized("b-one", "tmp/stale", base() - 8 * DAY, 1);
    store.put_sized("b-one", "tmp/fresh", base() - DAY, 2);
    for dry_run in [true, false] {
        let report = sweep(&sweeper(&store, "tmp/", dry_run)).await;
        assert_eq!(report.deleted, 1, "dry run {dry_run}: only tmp/stale");
        let one = census(&report, "b-one");
        assert_eq!(one.undated, 1);
        assert!(one.remaining.objects >= 2, "undated + fresh are counted");
        assert_eq!(
            one.remaining.oldest,
            Some(if dry_run {
                base() - 8 * DAY
            } else {
                base() - DAY
            }),
            "an undated object has no age; it never becomes the oldest"
        );
        assert_eq!(one.stale_remaining, u64::from(dry_run));
    }
    assert!(store.exists("b-one", "tmp/undated"));
    assert!(!store.exists("b-one", "tmp/stale"));
    assert!(store
        .delete_requests()
        .iter()
        .all(|(_, keys)| !keys.iter().any(|k| k == "tmp/undated")));
    // Even with the widest prefix, where the lease is listed too: it is never counted.
    let report = sweep(&sweeper(&store, "", false)).await;
    let one = census(&report, "b-one");
    assert_eq!((one.remaining.objects, one.undated), (2, 1), "{one:?}");
    assert!(store.exists("b-one", LEASE_KEY));
}

#[tokio::test(start_paused = true)]
async fn a_bucket_whose_scan_failed_gets_no_census() {
    // b-two does not exist: its listing fails permanently after b-one was swept.
    let store = FakeStore::new(&["b-one"]);
    store.put_sized("b-one", "tmp/fresh", base() - DAY, 9);
    let failure = sweeper(&store, "tmp/", false)
        .sweep(None, &CancellationToken::new())
        .await
        .expect_err("b-two cannot be listed");
    assert!(matches!(failure.error, SweepError::Scan(_)), "{failure}");
    let buckets: Vec<&str> = failure
        .partial
        .buckets
        .iter()
        .map(|b| b.bucket.as_str())
        .collect();
    assert_eq!(buckets, ["b-one"], "the completed bucket keeps its census");

    // A whole DeleteObjects refused in b-one stops its scan: no census for it either.
    let store = FakeStore::new(&["b-one", "b-two"]);
    store.put_sized("b-one", "tmp/old", base() - 9 * DAY, 9);
    store.fail_next_delete(permanent("s3", "DeleteObjects", "AccessDenied"));
    let failure = sweeper(&store, "tmp/", false)
        .sweep(None, &CancellationToken::new())
        .await
        .expect_err("whole request refused");
    assert!(failure.partial.buckets.is_empty(), "{:?}", failure.partial);
}

#[test]
fn the_gauges_carry_the_census_of_each_bucket_and_start_at_zero() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let mut census = Census {
        stale_remaining: 2,
        listed_at: Some(base()),
        ..Census::default()
    };
    census
        .remaining
        .add(1500, Some(base() - Duration::from_secs(3600)));
    census.remaining.add(500, None);
    metrics::with_local_recorder(&recorder, || {
        crate::telemetry::metrics::zero_init_prefix(["b-one", "b-two"]);
        BucketCensus {
            bucket: "b-one".into(),
            census,
        }
        .emit(false);
    });
    let text = handle.render();
    let sample = |name: &str, bucket: &str| -> f64 {
        let prefix = format!("{name}{{bucket=\"{bucket}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("{prefix} missing in\n{text}"))
            .parse()
            .expect("a number")
    };
    assert_eq!(sample("janitor_prefix_objects", "b-one"), 2.0);
    assert_eq!(sample("janitor_prefix_bytes", "b-one"), 2000.0);
    assert_eq!(
        sample("janitor_prefix_oldest_object_age_seconds", "b-one"),
        3600.0
    );
    assert_eq!(
        sample("janitor_prefix_stale_objects_remaining", "b-one"),
        2.0
    );
    assert_eq!(
        sample("janitor_prefix_scan_timestamp_seconds", "b-one"),
        1_900_000_000.0
    );
    for name in [
        "janitor_prefix_objects",
        "janitor_prefix_bytes",
        "janitor_prefix_oldest_object_age_seconds",
        "janitor_prefix_stale_objects_remaining",
        "janitor_prefix_scan_timestamp_seconds",
    ] {
        assert_eq!(sample(name, "b-two"), 0.0, "{name} zero-initialised");
    }
}
