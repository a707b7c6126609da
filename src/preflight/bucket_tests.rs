//! Unit tests of the bucket checks on the fake store: the delete probes, the sweeper's list, the
//! lease, the lifecycle window, and that no probe touches an existing object.

use std::time::{Duration, SystemTime};

use super::buckets::{key_above, key_under, PROBE_NAME};
use super::lifecycle::{judge, window};
use super::tests::{status, with, Fixture, BUCKET, PREFIX};
use super::{failures, Status};
use crate::s3url::LocationPolicy;
use crate::store::LifecycleRule;
use crate::sweeper::lease::LeaseState;

const LEASE: &str = "image-janitor/sweeper.lease";

#[test]
fn probe_keys_are_random_and_on_the_right_side_of_the_prefix() {
    let a = key_under(PREFIX);
    assert!(a.starts_with(&format!("{PREFIX}{PROBE_NAME}")), "{a}");
    assert_ne!(a, key_under(PREFIX));
    for prefix in [
        "keep-images/",
        "a/b/",
        "a/b",
        "keep-",
        "image-",
        "i",
        "image-janitor-preflight-",
    ] {
        let k = key_above(prefix).expect("a key above");
        assert!(!k.starts_with(prefix), "{k} is under {prefix}");
        assert!(k.contains(PROBE_NAME), "{k}");
    }
    assert!(key_above("a/b/").expect("key").starts_with("a/"));
    assert_eq!(key_above(""), None);
}

#[tokio::test]
async fn delete_denied_under_the_prefix_fails_that_check_alone() {
    let f = Fixture::new();
    f.store.deny_prefix(PREFIX);
    let checks = f.run().await;
    assert_eq!(
        with(&checks, Status::Fail),
        ["delete_under_prefix"],
        "{checks:#?}"
    );
    let c = checks
        .iter()
        .find(|c| c.name == "delete_under_prefix")
        .expect("check");
    assert!(c
        .fix
        .as_deref()
        .unwrap_or_default()
        .contains("arn:aws:s3:::bucket-a/keep-images/*"));
    // The probe asked for exactly one key under the prefix, and one above it.
    let requests = f.store.delete_requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(requests[0].1[0].starts_with(PREFIX));
    assert!(!requests[1].1[0].starts_with(PREFIX));
}

#[tokio::test]
async fn a_role_that_may_delete_outside_the_prefix_warns() {
    let f = Fixture::new();
    let store = crate::fakes::FakeStore::new(&[BUCKET]);
    store.set_lifecycle(
        BUCKET,
        vec![LifecycleRule {
            id: "x".into(),
            enabled: true,
            prefix: PREFIX.into(),
            expiration_days: Some(7),
            ..LifecycleRule::default()
        }],
    );
    let mut target = f.target();
    target.store = std::sync::Arc::new(store);
    let checks = super::run(&target, &f.settings).await;
    assert_eq!(
        with(&checks, Status::Warn),
        ["delete_outside_prefix"],
        "{checks:#?}"
    );
    assert_eq!(failures(&checks), 0);
}

#[tokio::test]
async fn with_an_empty_prefix_the_outside_probe_does_not_apply() {
    let mut f = Fixture::new();
    f.settings.policy = LocationPolicy::new([BUCKET.to_owned()], "");
    let checks = f.run().await;
    assert_eq!(status(&checks, "delete_outside_prefix"), Status::Skip);
    assert_eq!(
        f.store.delete_requests().len(),
        1,
        "only the probe under the (empty) prefix"
    );
}

#[tokio::test]
async fn list_denied_fails_and_a_disabled_sweeper_needs_neither_list_nor_lease() {
    let f = Fixture::new();
    f.store.deny_list();
    let checks = f.run().await;
    assert_eq!(
        with(&checks, Status::Fail),
        ["list_under_prefix"],
        "{checks:#?}"
    );

    let mut f = Fixture::new();
    f.store.deny_list();
    f.store.deny_put();
    f.settings.lease = None;
    let checks = f.run().await;
    assert_eq!(failures(&checks), 0, "{checks:#?}");
    assert_eq!(status(&checks, "list_under_prefix"), Status::Skip);
    assert_eq!(status(&checks, "lease"), Status::Skip);
    assert_eq!(f.store.list_requests(), 0);
}

#[tokio::test]
async fn the_lease_is_taken_and_released_for_real() {
    let f = Fixture::new();
    let checks = f.run().await;
    assert_eq!(status(&checks, "lease"), Status::Ok);
    let body = f
        .store
        .body(BUCKET, LEASE)
        .expect("the lease object exists");
    let state = LeaseState::decode(&body).expect("a lease body");
    assert!(state.holder.starts_with("preflight-"), "{state:?}");
    assert!(state.expires_at <= SystemTime::now(), "released: {state:?}");
    assert_eq!(state.last_completed_at, None);
}

#[tokio::test]
async fn the_lease_keeps_the_last_completed_sweep_and_a_refused_put_fails() {
    let f = Fixture::new();
    let done = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let old = LeaseState {
        holder: "pod-1".into(),
        expires_at: done,
        last_completed_at: Some(done),
    };
    use crate::store::ObjectStore;
    f.store
        .put_conditional(BUCKET, LEASE, old.encode(), None)
        .await
        .expect("seed the lease");
    let checks = f.run().await;
    assert_eq!(status(&checks, "lease"), Status::Ok);
    let state = LeaseState::decode(&f.store.body(BUCKET, LEASE).expect("lease")).expect("body");
    assert_eq!(
        state.last_completed_at,
        Some(done),
        "the sweep schedule does not move"
    );

    let f = Fixture::new();
    f.store.deny_put();
    let checks = f.run().await;
    assert_eq!(with(&checks, Status::Fail), ["lease"], "{checks:#?}");
}

#[tokio::test]
async fn a_lease_held_by_a_sweeping_replica_warns_and_is_left_alone() {
    let f = Fixture::new();
    let held = LeaseState {
        holder: "pod-2".into(),
        expires_at: SystemTime::now() + Duration::from_secs(600),
        last_completed_at: None,
    };
    use crate::store::ObjectStore;
    f.store
        .put_conditional(BUCKET, LEASE, held.encode(), None)
        .await
        .expect("seed the lease");
    let checks = f.run().await;
    assert_eq!(with(&checks, Status::Warn), ["lease"], "{checks:#?}");
    assert_eq!(f.store.body(BUCKET, LEASE), Some(held.encode()));
}

#[tokio::test]
async fn probes_never_touch_existing_objects() {
    let f = Fixture::new();
    let now = SystemTime::now();
    for key in [
        "keep-images/a.jpg",
        "keep-images/n/b.png",
        "other/c.jpg",
        "top.jpg",
    ] {
        f.store.put(BUCKET, key, now);
    }
    let before = f.store.keys();
    let checks = f.run().await;
    assert_eq!(failures(&checks), 0, "{checks:#?}");
    let mut after = f.store.keys();
    after.retain(|(_, k)| k != LEASE);
    assert_eq!(after, before);
}

fn rule(prefix: &str, days: Option<u32>) -> LifecycleRule {
    LifecycleRule {
        id: "r".into(),
        enabled: true,
        prefix: prefix.into(),
        expiration_days: days,
        ..LifecycleRule::default()
    }
}

#[test]
fn the_lifecycle_window_follows_the_sweepers_max_age() {
    let week = Duration::from_secs(7 * 86_400);
    assert_eq!(window(week), (7, 14));
    assert_eq!(window(Duration::from_secs(36 * 3600)), (2, 9));
    assert_eq!(window(Duration::from_secs(60)), (1, 8));
    let cases: Vec<(Vec<LifecycleRule>, Status)> = vec![
        (vec![rule(PREFIX, Some(7))], Status::Ok),
        (vec![rule("", Some(10))], Status::Ok),
        (vec![rule("keep-", Some(14))], Status::Ok),
        (vec![rule(PREFIX, Some(3))], Status::Warn),
        (vec![rule(PREFIX, Some(30))], Status::Warn),
        (vec![rule("keep-images/sub/", Some(7))], Status::Warn),
        (vec![rule("other/", Some(7))], Status::Warn),
        (vec![rule(PREFIX, None)], Status::Warn),
        (
            vec![LifecycleRule {
                enabled: false,
                ..rule(PREFIX, Some(7))
            }],
            Status::Warn,
        ),
        (
            vec![LifecycleRule {
                narrowed: true,
                ..rule(PREFIX, Some(7))
            }],
            Status::Warn,
        ),
        (vec![], Status::Warn),
        // The shortest covering rule decides.
        (vec![rule(PREFIX, Some(30)), rule("", Some(8))], Status::Ok),
    ];
    for (rules, want) in cases {
        let c = judge(&rules, BUCKET, PREFIX, week);
        assert_eq!(c.status, want, "{rules:?}: {c:?}");
        assert_eq!(c.fix.is_some(), want != Status::Ok);
    }
}

#[tokio::test]
async fn an_unreadable_lifecycle_configuration_warns() {
    let f = Fixture::new();
    f.store.deny_lifecycle();
    let checks = f.run().await;
    assert_eq!(with(&checks, Status::Warn), ["lifecycle"], "{checks:#?}");
    let c = checks
        .iter()
        .find(|c| c.name == "lifecycle")
        .expect("lifecycle");
    assert!(c
        .fix
        .as_deref()
        .unwrap_or_default()
        .contains("s3:GetLifecycleConfiguration"));
}
