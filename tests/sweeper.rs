//! The sweeper end to end against moto: the one-shot `sweep` over several list pages in two
//! buckets (dry run first), what must survive, the lease blocking a one-shot, and three `run`
//! processes taking turns through the lease.

mod common;

use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};

use common::{eventually, Daemon, Env};

const LEASE_KEY: &str = "image-janitor/sweeper.lease";

/// Upload many small objects concurrently (setup must not dominate the test).
async fn put_many(env: &Env, bucket: &str, keys: &[String]) {
    stream::iter(keys)
        .for_each_concurrent(16, |k| env.put(bucket, k))
        .await;
}

fn keys(prefix: &str, name: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("{prefix}{name}/{i:05}.jpg"))
        .collect()
}

fn last_line(stdout: &str) -> &str {
    stdout.lines().last().unwrap_or_default()
}

/// Sleep until `since + age` has passed (plus a margin for LastModified's second granularity).
async fn wait_until_stale(since: Instant, age: Duration) {
    let until = since + age + Duration::from_millis(1500);
    tokio::time::sleep(until.saturating_duration_since(Instant::now())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_shot_sweep_pages_through_two_buckets_and_spares_the_rest() {
    let env = Env::fresh("sweep-once").await;
    let second = env.new_bucket("sweep-once-2").await;
    let forbidden = env.new_bucket("sweep-once-no").await;
    let p = env.prefix.clone();
    let stale_a = keys(&p, "a", 1100);
    let stale_b = keys(&p, "b", 1005);
    put_many(&env, &env.bucket, &stale_a).await;
    put_many(&env, &second, &stale_b).await;
    env.put(&env.bucket, "outside/old.jpg").await;
    env.put(&forbidden, &format!("{p}old.jpg")).await;
    let stale_done = Instant::now();
    // The fresh objects must stay younger than this through the dry run and until the real
    // sweep starts: on a loaded machine that took more than 5 s, so the margin is generous.
    let max_age = Duration::from_secs(20);
    wait_until_stale(stale_done, max_age).await;
    let fresh = [format!("{p}a/fresh-1.jpg"), format!("{p}a/fresh-2.jpg")];
    for k in &fresh {
        env.put(&env.bucket, k).await;
    }
    env.put(&second, &format!("{p}b/fresh.jpg")).await;
    let buckets = format!("{},{second}", env.bucket);
    // Deployed for both buckets (additional_bucket_names); `forbidden` stays outside the IAM.
    env.allow_bucket(&second);
    let stale = stale_a.len() + stale_b.len();
    let scanned = stale + 3;

    // Dry run: reports, deletes nothing, writes no lease.
    let mut cmd = env.janitor();
    cmd.env("JANITOR_BUCKETS", &buckets)
        .args(["sweep", "--dry-run", "--max-age", "20s"]);
    let (code, out, err) = env.run_cmd(cmd);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        last_line(&out),
        format!("would sweep {stale} objects (scanned {scanned})")
    );
    assert!(err.contains("would sweep"), "dry run logs sample keys");
    assert_eq!(env.keys(&env.bucket).await.len(), 1100 + 2 + 1);
    assert_eq!(env.keys(&second).await.len(), 1005 + 1);
    assert!(!env.exists(&env.bucket, LEASE_KEY).await);

    // The real sweep.
    let mut cmd = env.janitor();
    cmd.env("JANITOR_BUCKETS", &buckets)
        .args(["sweep", "--max-age", "20s"]);
    let started = Instant::now();
    let (code, out, err) = env.run_cmd(cmd);
    assert_eq!(code, 0, "{err}");
    common::progress(&format!("swept {stale} objects in {:?}", started.elapsed()));
    assert_eq!(
        last_line(&out),
        format!("swept {stale} objects (scanned {scanned})")
    );
    let audited = err.matches("\"event\":\"object_deleted\"").count();
    assert_eq!(audited, stale, "one audit event per deleted object");

    let mut left_a = env.keys(&env.bucket).await;
    left_a.sort();
    let mut want_a = vec![
        fresh[0].clone(),
        fresh[1].clone(),
        LEASE_KEY.to_owned(),
        "outside/old.jpg".to_owned(),
    ];
    want_a.sort();
    let log: Vec<&str> = err
        .lines()
        .filter(|l| !l.contains("object_deleted") && !l.contains("delete batch done"))
        .collect();
    assert_eq!(left_a, want_a, "sweep log:\n{}", log.join("\n"));
    assert_eq!(env.keys(&second).await, vec![format!("{p}b/fresh.jpg")]);
    assert_eq!(env.keys(&forbidden).await, vec![format!("{p}old.jpg")]);

    // The lease was released with the completion recorded.
    let lease = env
        .s3
        .get_object()
        .bucket(&env.bucket)
        .key(LEASE_KEY)
        .send()
        .await
        .expect("lease object");
    let body = lease.body.collect().await.expect("lease body").into_bytes();
    let lease: serde_json::Value = serde_json::from_slice(&body).expect("lease json");
    assert!(lease["last_completed_at"].is_string(), "{lease}");
    assert_eq!(lease["expires_at"], lease["last_completed_at"], "{lease}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_shot_sweep_is_skipped_while_another_holder_has_the_lease() {
    let env = Env::fresh("sweep-held").await;
    let key = format!("{}old.jpg", env.prefix);
    env.put(&env.bucket, &key).await;
    let live = serde_json::json!({
        "holder": "other-pod-1234",
        "expires_at": "2999-01-01T00:00:00Z",
    });
    env.s3
        .put_object()
        .bucket(&env.bucket)
        .key(LEASE_KEY)
        .body(live.to_string().into_bytes().into())
        .send()
        .await
        .expect("put lease");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut cmd = env.janitor();
    cmd.args(["sweep", "--max-age", "1s"]);
    let (code, out, err) = env.run_cmd(cmd);
    assert_eq!(code, 0, "{err}");
    assert_eq!(last_line(&out), "swept 0 objects (scanned 0)");
    assert!(err.contains("other-pod-1234"), "the log says why: {err}");
    assert!(env.exists(&env.bucket, &key).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_daemons_sweep_once_per_interval_between_them() {
    let env = Env::fresh("sweep-three").await;
    let stale = keys(&env.prefix, "t", 1200);
    put_many(&env, &env.bucket, &stale).await;
    let since = Instant::now();
    let max_age = Duration::from_secs(2);
    wait_until_stale(since, max_age).await;

    let started = Instant::now();
    let daemons: Vec<Daemon> = (0..3)
        .map(|_| {
            let mut cmd = env.janitor();
            cmd.env("JANITOR_SWEEP_INTERVAL", "2s")
                .env("JANITOR_SWEEP_MAX_AGE", "2s")
                .env("JANITOR_QUEUE_POLL_INTERVAL", "0");
            Daemon::start(cmd)
        })
        .collect();
    let sum = |sample: &str| daemons.iter().map(|d| d.metric(sample)).sum::<f64>();
    eventually(
        Duration::from_secs(40),
        "every stale object swept, and some sweeps skipped",
        || async {
            sum("janitor_objects_deleted_total{source=\"sweeper\"}") >= stale.len() as f64
                && sum("janitor_sweeps_total{outcome=\"skipped\"}") >= 2.0
        },
    )
    .await;
    // Let a few more intervals pass: nothing may be counted twice.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let deleted = sum("janitor_objects_deleted_total{source=\"sweeper\"}");
    let ok = sum("janitor_sweeps_total{outcome=\"ok\"}");
    let skipped = sum("janitor_sweeps_total{outcome=\"skipped\"}");
    let errors = sum("janitor_sweeps_total{outcome=\"error\"}");
    common::progress(&format!(
        "3 daemons: deleted {deleted}, sweeps ok {ok}, skipped {skipped}, error {errors}"
    ));
    assert_eq!(
        deleted,
        stale.len() as f64,
        "each object counted exactly once"
    );
    assert_eq!(errors, 0.0);
    assert!(skipped >= 2.0);
    assert_eq!(env.keys(&env.bucket).await, vec![LEASE_KEY.to_owned()]);
    // Once per interval between them: at most one sweep per 0.9 × 2 s (plus the first), where
    // three uncoordinated timers would have swept about 3 × elapsed / 2 s times.
    let elapsed = started.elapsed().as_secs_f64();
    assert!(
        ok >= 1.0 && ok <= elapsed / 1.8 + 2.0,
        "ok {ok} in {elapsed:.1}s"
    );
    let last_success = daemons
        .iter()
        .map(|d| d.metric("janitor_sweep_last_success_timestamp_seconds"))
        .fold(0.0, f64::max);
    assert!(last_success > 1.0e9, "{last_success}");
}
