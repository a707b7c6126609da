//! Process lifecycle against moto: SIGTERM drains and hands back, SIGKILL loses nothing.

mod common;

use std::time::Duration;

use common::faultproxy::{Fault, FaultProxy, Rule};
use common::{eventually, page_created, Daemon, Env};

/// `n` messages of `k` images each, objects uploaded; returns every key.
async fn load(env: &Env, n: usize, k: usize) -> Vec<String> {
    let mut all = Vec::new();
    for i in 0..n {
        let keys: Vec<String> = (0..k)
            .map(|j| format!("{}load/{i}/{j}.jpg", env.prefix))
            .collect();
        for key in &keys {
            env.put(&env.bucket, key).await;
        }
        let urls: Vec<String> = keys
            .iter()
            .map(|key| format!("s3://{}/{key}", env.bucket))
            .collect();
        env.send_raw(&page_created(&format!("page-{i}"), &urls))
            .await;
        all.extend(keys);
    }
    all
}

async fn none_left(env: &Env, keys: &[String]) -> bool {
    let left = env.keys(&env.bucket).await;
    keys.iter().all(|k| !left.contains(k))
}

/// Start another process and check it finishes everything: queue drained, every object
/// deleted, nothing dead-lettered. Returns the process for further assertions.
async fn another_process_finishes(
    env: &Env,
    keys: &[String],
    visibility: &str,
    within: Duration,
) -> Daemon {
    let mut cmd = env.janitor();
    cmd.env("JANITOR_VISIBILITY_TIMEOUT", visibility);
    let daemon = Daemon::start(cmd);
    eventually(within, "queue drained by another process", || async {
        env.depth(&env.queue_url).await == (0, 0)
    })
    .await;
    assert!(none_left(env, keys).await, "every object deleted");
    assert_eq!(
        env.depth(&env.dlq_url).await,
        (0, 0),
        "nothing dead-lettered"
    );
    daemon
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_load_exits_0_and_hands_back_unfinished_messages() {
    let env = Env::fresh("sigterm").await;
    let keys = load(&env, 60, 3).await;
    let proxy = FaultProxy::start(env.endpoint());
    let mut cmd = env.janitor();
    // Nothing in hand may finish after SIGTERM: every message still held goes back at once.
    cmd.env("AWS_ENDPOINT_URL", proxy.url())
        .env("JANITOR_SHUTDOWN_TIMEOUT", "0s")
        .env("JANITOR_VISIBILITY_TIMEOUT", "120s")
        .env("JANITOR_CONCURRENCY", "1");
    let mut daemon = Daemon::start(cmd);
    eventually(Duration::from_secs(30), "some messages acked", || async {
        daemon.metric("janitor_messages_acked_total") >= 3.0
    })
    .await;
    // Then hold the next DeleteObjects in the proxy: SIGTERM finds a message in hand.
    let held = proxy.count("s3:DeleteObjects");
    proxy.add(Rule::s3(Fault::Latency(Duration::from_secs(30))).operation("DeleteObjects"));
    eventually(Duration::from_secs(30), "a delete held", || async {
        proxy.count("s3:DeleteObjects") > held
    })
    .await;
    let acked_before = daemon.metric("janitor_messages_acked_total") as u64;
    daemon.signal("TERM");
    let status = daemon
        .wait_exit(Duration::from_secs(20))
        .expect("exited after SIGTERM");
    assert_eq!(status.code(), Some(0), "{}", daemon.logs());
    let (visible, inflight) = env.depth(&env.queue_url).await;
    assert_eq!(
        inflight, 0,
        "unfinished messages must be visible again at once (visible={visible})"
    );
    // No acknowledged message comes back...
    assert!(
        visible <= 60 - acked_before,
        "{visible} visible after {acked_before} were acked"
    );
    // ...and every message with an object left is back on the queue (none lost in hand).
    let present = env.keys(&env.bucket).await;
    let unfinished = (0..60)
        .filter(|i| {
            let dir = format!("{}load/{i}/", env.prefix);
            present.iter().any(|k| k.starts_with(&dir))
        })
        .count() as u64;
    assert!(
        visible >= unfinished,
        "{unfinished} messages have objects left but only {visible} are visible"
    );
    // A second process finishes the rest.
    another_process_finishes(&env, &keys, "60s", Duration::from_secs(60)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_batch_loses_nothing() {
    let env = Env::fresh("sigkill").await;
    let keys = load(&env, 60, 3).await;
    let mut cmd = env.janitor();
    cmd.env("JANITOR_VISIBILITY_TIMEOUT", "4s");
    let mut first = Daemon::start(cmd);
    eventually(Duration::from_secs(30), "some messages acked", || async {
        first.metric("janitor_messages_acked_total") >= 3.0
    })
    .await;
    first.signal("KILL");
    assert!(first.wait_exit(Duration::from_secs(10)).is_some());
    let second = another_process_finishes(&env, &keys, "4s", Duration::from_secs(90)).await;
    assert_eq!(
        second.metric("janitor_messages_dead_lettered_total{reason=\"retries_exhausted\"}"),
        0.0
    );
}
