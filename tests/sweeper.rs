//! The sweeper end to end against moto: the one-shot `sweep` over several list pages in two
//! buckets (dry run first), what must survive, the lease blocking a one-shot, three `run`
//! processes taking turns through the lease, and what each sweep reports is left under the
//! prefix (the `janitor_prefix_*` gauges, read by value, and the one-shot's per-bucket lines).
//!
//! Ages never race the wall clock: stale objects are backdated by the strict proxy the binary
//! talks through (a day old against max ages of an hour), fresh ones are really new.

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

/// How old backdated objects look in the binary's listings: far beyond any max age used here.
const STALE: Duration = Duration::from_secs(86_400);

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
    // Every object above looks a day old to the binary (also those a sweep must spare: outside
    // the prefix, or in a bucket it was not given); the fresh ones below are new, and stay
    // younger than the one-hour max age for the whole test however loaded the machine is.
    env.strict.backdate(
        stale_a
            .iter()
            .chain(&stale_b)
            .cloned()
            .chain(["outside/old.jpg".to_owned(), format!("{p}old.jpg")]),
        STALE,
    );
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
        .args(["sweep", "--dry-run", "--max-age", "1h"]);
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

    assert_eq!(
        env.strict.backdated(),
        stale as u64,
        "the dry run listed every stale object as a day old"
    );

    // The real sweep.
    let mut cmd = env.janitor();
    cmd.env("JANITOR_BUCKETS", &buckets)
        .args(["sweep", "--max-age", "1h"]);
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
    // Stale at once: only the lease can spare it.
    env.strict.backdate([key.clone()], STALE);
    let mut cmd = env.janitor();
    cmd.args(["sweep", "--max-age", "1h"]);
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
    env.strict.backdate(stale.iter().cloned(), STALE);

    let started = Instant::now();
    let daemons: Vec<Daemon> = (0..3)
        .map(|_| {
            let mut cmd = env.janitor();
            cmd.env("JANITOR_SWEEP_INTERVAL", "2s")
                .env("JANITOR_SWEEP_MAX_AGE", "1h")
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
    // Let a few more sweeps happen (counted, not slept for): nothing may be counted twice.
    let attempts = || {
        sum("janitor_sweeps_total{outcome=\"ok\"}")
            + sum("janitor_sweeps_total{outcome=\"skipped\"}")
    };
    let before = attempts();
    eventually(
        Duration::from_secs(40),
        "three more sweep attempts",
        || async { attempts() >= before + 3.0 },
    )
    .await;
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

// ---- The prefix gauges (issue 17): what a sweep leaves under the prefix, read by value. ----

/// One object under the prefix as moto lists it: (key, size, LastModified).
type Seen = (String, u64, std::time::SystemTime);

/// Everything under `prefix` in `bucket`, with sizes and LastModified, as S3 reports them.
async fn listed(env: &Env, bucket: &str, prefix: &str) -> Vec<Seen> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = env
            .s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_continuation_token(token)
            .send()
            .await
            .expect("list");
        for o in page.contents() {
            let modified = o.last_modified().expect("moto sends LastModified");
            out.push((
                o.key().expect("key").to_owned(),
                o.size().expect("size") as u64,
                std::time::SystemTime::try_from(*modified).expect("LastModified as SystemTime"),
            ));
        }
        token = page.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            return out;
        }
    }
}

async fn put_sized(env: &Env, bucket: &str, key: &str, size: usize) {
    env.s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(vec![b'x'; size].into())
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {key}: {e:?}"));
}

fn unix(t: std::time::SystemTime) -> f64 {
    t.duration_since(std::time::SystemTime::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
}

/// The `janitor_prefix_*` samples of one bucket in a Prometheus text page.
fn prefix_gauges(text: &str, bucket: &str) -> [f64; 5] {
    let all = common::daemon::parse_metrics(text);
    [
        "janitor_prefix_objects",
        "janitor_prefix_bytes",
        "janitor_prefix_oldest_object_age_seconds",
        "janitor_prefix_stale_objects_remaining",
        "janitor_prefix_scan_timestamp_seconds",
    ]
    .map(|name| {
        let sample = format!("{name}{{bucket=\"{bucket}\"}}");
        *all.get(&sample)
            .unwrap_or_else(|| panic!("{sample} missing from /metrics:\n{text}"))
    })
}

/// This test binary's own Prometheus recorder (installed once; each test has its own bucket).
fn metrics_handle() -> &'static metrics_exporter_prometheus::PrometheusHandle {
    static HANDLE: std::sync::OnceLock<metrics_exporter_prometheus::PrometheusHandle> =
        std::sync::OnceLock::new();
    HANDLE.get_or_init(|| image_janitor::telemetry::metrics::install().expect("recorder"))
}

/// The sweeper in this process, against moto, with its clock fixed at `now`.
async fn sweeper_at(
    env: &Env,
    now: std::time::SystemTime,
    max_age: Duration,
    dry_run: bool,
) -> image_janitor::sweeper::Sweeper {
    use image_janitor::config::{LeaseLocation, SweepSettings};
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(common::moto())
        .region(aws_config::Region::new(common::REGION))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .load()
        .await;
    let store = image_janitor::store::s3::S3Store::from_conf(&conf, true);
    let settings = SweepSettings {
        max_age,
        interval: None,
        dry_run,
        lease: LeaseLocation {
            bucket: env.bucket.clone(),
            key: LEASE_KEY.into(),
        },
        lease_ttl: Duration::from_secs(120),
    };
    let policy = image_janitor::s3url::LocationPolicy::new([env.bucket.clone()], &env.prefix);
    let mut sweeper =
        image_janitor::sweeper::Sweeper::new(std::sync::Arc::new(store), policy, settings);
    sweeper.clock = image_janitor::sweeper::clock::Clock::Fixed(now);
    sweeper
}

/// Gauges = the objects put (count, bytes, oldest age) in a dry run, which deletes nothing;
/// after the real sweep they describe what is left, and the oldest age is below the max age.
/// Ages come from moto's own LastModified and the sweeper's fixed clock, never from racing the
/// wall clock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefix_gauges_describe_what_each_sweep_leaves() {
    let env = Env::fresh("sweep-gauges").await;
    let p = env.prefix.clone();
    let handle = metrics_handle();
    // Stale set: 1005 objects (two list pages), sizes 1..=1005 bytes.
    let stale: Vec<(String, usize)> = (0..1005)
        .map(|i| (format!("{p}old/{i:05}.jpg"), i + 1))
        .collect();
    stream::iter(&stale)
        .for_each_concurrent(16, |(k, n)| put_sized(&env, &env.bucket, k, *n))
        .await;
    env.put(&env.bucket, "outside/old.jpg").await;
    let stale_newest = listed(&env, &env.bucket, &p)
        .await
        .iter()
        .map(|o| o.2)
        .max()
        .expect("stale objects listed");
    // A probe outside the prefix, rewritten until S3 stamps it after the newest stale object
    // (LastModified has one-second granularity); the fresh set written next is newer still, so
    // a cutoff can fall strictly between the two sets.
    let mut probes = 0;
    eventually(
        Duration::from_secs(10),
        "a LastModified after the stale set's",
        || {
            probes += 1;
            let env = &env;
            async move {
                put_sized(env, &env.bucket, "probe.txt", probes).await;
                let probe = listed(env, &env.bucket, "probe.txt").await;
                probe.first().is_some_and(|o| o.2 > stale_newest)
            }
        },
    )
    .await;
    let fresh_keys: Vec<String> = (0..4).map(|i| format!("{p}new/{i}.png")).collect();
    for k in &fresh_keys {
        put_sized(&env, &env.bucket, k, 333).await;
    }
    let all = listed(&env, &env.bucket, &p).await;
    let (old, new): (Vec<&Seen>, Vec<&Seen>) = all
        .iter()
        .partition(|o| o.0.starts_with(&format!("{p}old/")));
    assert_eq!(old.len(), stale.len());
    assert_eq!(new.len(), fresh_keys.len());
    assert!(old.iter().all(|o| o.2 <= stale_newest));
    let fresh_oldest = new.iter().map(|o| o.2).min().expect("fresh");
    let stale_oldest = old.iter().map(|o| o.2).min().expect("stale");
    let bytes = |set: &[&Seen]| set.iter().map(|o| o.1).sum::<u64>();
    // Cutoff halfway between the sets; the sweeper's clock is cutoff + max age.
    let max_age = Duration::from_secs(3600);
    let cutoff = stale_newest + (fresh_oldest.duration_since(stale_newest).expect("after")) / 2;
    let now = cutoff + max_age;

    // Dry run: everything listed remains; the stale ones are counted as not deleted.
    let report = sweeper_at(&env, now, max_age, true)
        .await
        .sweep_and_report(None, &tokio_util::sync::CancellationToken::new())
        .await
        .expect("dry run");
    assert_eq!(
        report.deleted,
        stale.len() as u64,
        "would delete the stale set"
    );
    let [objects, size, oldest, stale_left, at] = prefix_gauges(&handle.render(), &env.bucket);
    assert_eq!(objects, all.len() as f64);
    assert_eq!(size, (bytes(&old) + bytes(&new)) as f64);
    assert_eq!(size, (1005 * 1006 / 2 + 333 * fresh_keys.len()) as f64);
    assert!(
        (oldest - (unix(now) - unix(stale_oldest))).abs() < 1.0,
        "oldest {oldest} vs {}",
        unix(now) - unix(stale_oldest)
    );
    assert!(oldest > max_age.as_secs_f64());
    assert_eq!(stale_left, stale.len() as f64);
    assert!((at - unix(now)).abs() < 1e-3, "scan timestamp {at}");
    assert_eq!(
        listed(&env, &env.bucket, &p).await.len(),
        all.len(),
        "nothing deleted"
    );
    assert!(
        !env.exists(&env.bucket, LEASE_KEY).await,
        "a dry run writes no lease"
    );

    // The real sweep deletes the stale set: what remains is the fresh set, younger than max age.
    let report = sweeper_at(&env, now, max_age, false)
        .await
        .sweep_and_report(None, &tokio_util::sync::CancellationToken::new())
        .await
        .expect("sweep");
    assert_eq!((report.deleted, report.failed), (stale.len() as u64, 0));
    let left = listed(&env, &env.bucket, &p).await;
    assert_eq!(left.len(), fresh_keys.len(), "only the fresh set is left");
    let [objects, size, oldest, stale_left, at] = prefix_gauges(&handle.render(), &env.bucket);
    assert_eq!(objects, fresh_keys.len() as f64);
    assert_eq!(size, bytes(&new) as f64);
    assert!(
        (oldest - (unix(now) - unix(fresh_oldest))).abs() < 1.0,
        "oldest {oldest} vs {}",
        unix(now) - unix(fresh_oldest)
    );
    assert!(
        oldest < max_age.as_secs_f64(),
        "after the sweep the oldest ({oldest} s) is younger than the max age"
    );
    assert_eq!(stale_left, 0.0);
    assert!((at - unix(now)).abs() < 1e-3);
    assert!(env.exists(&env.bucket, "outside/old.jpg").await);
    assert!(env.exists(&env.bucket, "probe.txt").await);
}

/// The daemon: the gauges exist per configured bucket from start-up (zero), and its timer's
/// sweeps set them; read from `/metrics`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_exports_the_prefix_gauges_of_every_bucket() {
    let env = Env::fresh("sweep-gauges-run").await;
    let second = env.new_bucket("sweep-gauges-run-2").await;
    env.allow_bucket(&second);
    let p = env.prefix.clone();
    for (i, n) in [10usize, 200, 3000].iter().enumerate() {
        put_sized(&env, &env.bucket, &format!("{p}k/{i}.jpg"), *n).await;
    }
    let buckets = format!("{},{second}", env.bucket);

    // A timer that has not swept yet: every series is there, at zero.
    let mut cmd = env.janitor();
    cmd.env("JANITOR_BUCKETS", &buckets)
        .env("JANITOR_SWEEP_INTERVAL", "1h")
        .env("JANITOR_QUEUE_POLL_INTERVAL", "0");
    let idle = Daemon::start(cmd);
    let text = idle.metrics_text();
    assert_eq!(prefix_gauges(&text, &env.bucket), [0.0; 5]);
    assert_eq!(prefix_gauges(&text, &second), [0.0; 5]);
    drop(idle);

    let mut cmd = env.janitor();
    cmd.env("JANITOR_BUCKETS", &buckets)
        .env("JANITOR_SWEEP_INTERVAL", "1s")
        .env("JANITOR_SWEEP_MAX_AGE", "1h")
        .env("JANITOR_QUEUE_POLL_INTERVAL", "0");
    let daemon = Daemon::start(cmd);
    let ts = |b: &str| prefix_gauges(&daemon.metrics_text(), b)[4];
    eventually(Duration::from_secs(30), "both buckets swept", || async {
        ts(&env.bucket) > 0.0 && ts(&second) > 0.0
    })
    .await;
    let seen = listed(&env, &env.bucket, &p).await;
    let oldest = seen.iter().map(|o| o.2).min().expect("objects");
    let text = daemon.metrics_text();
    let [objects, size, age, stale_left, at] = prefix_gauges(&text, &env.bucket);
    assert_eq!((objects, size, stale_left), (3.0, 3210.0, 0.0));
    // The age is measured from the same instant as the timestamp.
    assert!(
        (age - (at - unix(oldest))).abs() < 1.0,
        "age {age}, timestamp {at}, oldest {}",
        unix(oldest)
    );
    assert_eq!(
        prefix_gauges(&text, &second)[..4],
        [0.0; 4],
        "an empty prefix"
    );
    assert_eq!(seen.len(), 3, "nothing was stale");
}

/// The one-shot prints one line per bucket on what is left, before the contract's last line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_shot_sweep_prints_what_is_left_in_each_bucket() {
    let env = Env::fresh("sweep-summary").await;
    let second = env.new_bucket("sweep-summary-2").await;
    env.allow_bucket(&second);
    let p = env.prefix.clone();
    put_sized(&env, &env.bucket, &format!("{p}x/1.jpg"), 100).await;
    put_sized(&env, &env.bucket, &format!("{p}x/2.jpg"), 23).await;
    let mut cmd = env.janitor();
    cmd.env("JANITOR_BUCKETS", format!("{},{second}", env.bucket))
        .args(["sweep", "--max-age", "1h"]);
    let (code, out, err) = env.run_cmd(cmd);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    let mut want = [
        (env.bucket.as_str(), "2 objects, 123 bytes remain"),
        (second.as_str(), "0 objects, 0 bytes remain; oldest 0s"),
    ];
    want.sort(); // buckets are swept in name order
    for (line, (bucket, figures)) in lines.iter().zip(want) {
        assert!(
            line.starts_with(&format!("s3://{bucket}/{p}: {figures}")),
            "{line}"
        );
        assert!(line.ends_with("; 0 stale not deleted"), "{line}");
    }
    assert_eq!(lines[2], "swept 0 objects (scanned 2)");
}
