//! Fault scenario 6: a replica killed (SIGKILL) while it holds the sweeper lease. It cannot
//! release it, so another replica must skip until the lease expires, then take it over and sweep
//! what the first one left. `JANITOR_SWEEP_LEASE_TTL` shortens the TTL to seconds.
//!
//! Nothing here races the wall clock: the stale objects are backdated by the proxy (a day old
//! against a one-hour max age), and replica A is killed while the proxy holds its listing of the
//! second bucket at a gate, so it has provably swept the first bucket and nothing of the second.

mod common;

use std::time::{Duration, Instant, SystemTime};

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use common::faultproxy::{FaultProxy, GateRule};
use common::{eventually, Daemon, Env};

const LEASE_KEY: &str = "image-janitor/sweeper.lease";
/// Renewed every 4 s while A sweeps, so a live A keeps it live through 12 s of scheduling and
/// emulator delay (B must see it live); B then waits at most this long after A's SIGKILL.
const TTL: &str = "16s";
const MAX_AGE: Duration = Duration::from_secs(3600);
/// How old the stale objects look in listings (through the strict proxy, for both replicas).
const STALE: Duration = Duration::from_secs(86_400);

fn keys(prefix: &str, name: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("{prefix}{name}/{i:04}.jpg"))
        .collect()
}

/// The lease object as JSON, or None when absent.
async fn lease(env: &Env, bucket: &str) -> Option<serde_json::Value> {
    let out = env
        .s3
        .get_object()
        .bucket(bucket)
        .key(LEASE_KEY)
        .send()
        .await
        .ok()?;
    let body = out.body.collect().await.ok()?.into_bytes();
    serde_json::from_slice(&body).ok()
}

/// How many keys under `prefix` are in `bucket`.
async fn count_under(env: &Env, bucket: &str, prefix: &str) -> usize {
    let keys = env.keys(bucket).await;
    keys.iter().filter(|k| k.starts_with(prefix)).count()
}

fn holder(lease: &serde_json::Value) -> &str {
    lease["holder"].as_str().unwrap_or_default()
}

fn unix_seconds(rfc3339: &serde_json::Value) -> f64 {
    let s = rfc3339.as_str().expect("timestamp string");
    let t = SystemTime::from(OffsetDateTime::parse(s, &Rfc3339).expect("RFC 3339"));
    t.duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
}

/// A replica named `host` (its lease holder id is `host-<random>`), sweeping every second.
fn replica(env: &Env, buckets: &str, host: &str) -> std::process::Command {
    let mut cmd = env.janitor();
    cmd.env("JANITOR_BUCKETS", buckets)
        .env("JANITOR_SWEEP_INTERVAL", "1s")
        .env("JANITOR_SWEEP_MAX_AGE", format!("{}s", MAX_AGE.as_secs()))
        .env("JANITOR_SWEEP_LEASE_TTL", TTL)
        .env("JANITOR_QUEUE_POLL_INTERVAL", "0")
        .env("HOSTNAME", host);
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_holding_the_lease_is_taken_over_after_expiry() {
    let test_started = Instant::now();
    let env = Env::fresh("sweep-takeover").await;
    let other = env.new_bucket("sweep-takeover-2").await;
    // Buckets are swept in name order; the lease lives in the first one *listed*.
    let (first, second) = if env.bucket < other {
        (env.bucket.clone(), other.clone())
    } else {
        (other.clone(), env.bucket.clone())
    };
    let buckets = format!("{},{other}", env.bucket);
    env.allow_bucket(&other);
    let p = env.prefix.clone();
    let stale_first = keys(&p, "one", 150);
    let stale_second = keys(&p, "two", 250);
    env.put_all(&first, &stale_first).await;
    env.put_all(&second, &stale_second).await;
    env.put(&first, "outside/old.jpg").await;
    env.strict.backdate(
        stale_first
            .iter()
            .chain(&stale_second)
            .cloned()
            .chain(["outside/old.jpg".to_owned()]),
        STALE,
    );
    // Fresh objects: really new, so younger than MAX_AGE for the whole test.
    let fresh = [format!("{p}one/fresh.jpg"), format!("{p}two/fresh.jpg")];
    env.put(&first, &fresh[0]).await;
    env.put(&second, &fresh[1]).await;

    // Replica A talks through a gate in front of the strict proxy: its listing of the second
    // bucket is held, so it sits there holding (and renewing) the lease until it is killed.
    let proxy = FaultProxy::start(env.endpoint());
    let gate = proxy.gate(GateRule::s3("ListObjectsV2").bucket(&second));
    let mut a_cmd = replica(&env, &buckets, "replica-a");
    a_cmd.env("AWS_ENDPOINT_URL", proxy.url());
    let mut a = Daemon::start(a_cmd);
    gate.wait_arrived(1, Duration::from_secs(60)).await;
    let held = lease(&env, &env.bucket).await.expect("A's lease");
    assert!(holder(&held).starts_with("replica-a-"), "{held}");
    assert_eq!(
        count_under(&env, &first, &format!("{p}one/")).await,
        1,
        "A swept the first bucket (all but the fresh object) before listing the second"
    );

    // Replica B, through the strict proxy only, starts while A is alive at the gate: it must
    // skip, naming A, for as long as A renews.
    let b = Daemon::start(replica(&env, &buckets, "replica-b"));
    eventually(
        Duration::from_secs(60),
        "replica B skips while A holds the lease",
        || async { b.metric("janitor_sweeps_total{outcome=\"skipped\"}") >= 1.0 },
    )
    .await;
    assert_eq!(b.metric("janitor_sweeps_total{outcome=\"ok\"}"), 0.0);

    a.signal("KILL");
    let status = a.wait_exit(Duration::from_secs(10)).expect("A exits");
    assert!(!status.success(), "SIGKILL: {status:?}");
    let killed = Instant::now();
    assert_eq!(
        gate.seen(),
        1,
        "A listed the second bucket once, and was killed holding that listing"
    );
    drop(gate); // A's held listing goes on to moto with nobody waiting for it
    let orphan = lease(&env, &env.bucket).await.expect("A's lease is left");
    assert!(holder(&orphan).starts_with("replica-a-"), "{orphan}");
    assert!(
        orphan["last_completed_at"].is_null(),
        "A never completed: {orphan}"
    );
    let expires_at = unix_seconds(&orphan["expires_at"]);
    assert_eq!(
        count_under(&env, &second, &p).await,
        stale_second.len() + 1,
        "A was killed before it deleted anything in the second bucket"
    );

    // B takes over once A's lease has expired (TTL after A's last renewal).
    eventually(
        Duration::from_secs(60),
        "replica B takes over and completes a sweep",
        || async { b.metric("janitor_sweeps_total{outcome=\"ok\"}") >= 1.0 },
    )
    .await;
    let took_over = killed.elapsed();
    let skipped = b.metric("janitor_sweeps_total{outcome=\"skipped\"}");
    let deleted = b.metric("janitor_objects_deleted_total{source=\"sweeper\"}");
    let success_at = b.metric("janitor_sweep_last_success_timestamp_seconds");
    let logs = b.logs();
    common::progress(&format!(
        "B: skipped {skipped}, then swept {deleted} objects {took_over:?} after A's SIGKILL \
         (lease expired {:.1}s before B's success)",
        success_at - expires_at
    ));
    assert!(
        skipped >= 1.0,
        "B skipped while A's lease was live; log:\n{logs}"
    );
    assert!(
        env.strict.backdated() >= (stale_first.len() + stale_second.len()) as u64,
        "the sweeps saw the stale objects as a day old ({} listing entries backdated)",
        env.strict.backdated()
    );
    assert!(
        logs.contains("replica-a-"),
        "B's log names the holder it waited for:\n{logs}"
    );
    assert!(
        success_at >= expires_at,
        "B swept only after A's lease expired ({success_at} < {expires_at})"
    );
    assert_eq!(b.metric("janitor_sweeps_total{outcome=\"error\"}"), 0.0);
    assert_eq!(deleted, stale_second.len() as f64, "B swept the rest");

    // Everything stale is gone; the fresh objects, the one outside the prefix and the lease stay.
    let mut left_first = env.keys(&first).await;
    left_first.sort();
    let mut want_first = vec![fresh[0].clone(), "outside/old.jpg".to_owned()];
    if first == env.bucket {
        want_first.push(LEASE_KEY.to_owned());
    }
    want_first.sort();
    assert_eq!(left_first, want_first);
    let mut left_second = env.keys(&second).await;
    left_second.sort();
    let mut want_second = vec![fresh[1].clone()];
    if second == env.bucket {
        want_second.push(LEASE_KEY.to_owned());
    }
    want_second.sort();
    assert_eq!(left_second, want_second);

    // The lease is B's now (held or released), with a completed sweep recorded.
    let last = lease(&env, &env.bucket).await.expect("lease object");
    assert!(holder(&last).starts_with("replica-b-"), "{last}");
    assert!(last["last_completed_at"].is_string(), "{last}");
    common::progress(&format!("takeover test took {:?}", test_started.elapsed()));
}
