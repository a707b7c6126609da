//! CONTRACT.md §6 on the real binary: on SIGTERM or SIGINT `/readyz` turns 503 at once, the
//! message in hand (its DeleteObjects held at a proxy gate until the test has seen the 503)
//! finishes inside `JANITOR_SHUTDOWN_TIMEOUT` and is acknowledged, and the process exits 0.

mod common;

use std::time::{Duration, Instant};

use common::faultproxy::{FaultProxy, GateRule};
use common::{eventually, page_created, Daemon, Env};

async fn drains_on(sig: &str) {
    let env = Env::fresh(&format!("drain{}", sig.to_lowercase())).await;
    let proxy = FaultProxy::start(env.endpoint());
    // The DeleteObjects waits at the gate until the test has seen /readyz turn 503: the drain
    // lasts as long as the test needs, however loaded the machine.
    let gate = proxy.gate(GateRule::s3("DeleteObjects"));
    let key = format!("{}drain/a.jpg", env.prefix);
    env.put(&env.bucket, &key).await;
    let mut cmd = env.janitor();
    cmd.env("AWS_ENDPOINT_URL", proxy.url())
        .env("JANITOR_SHUTDOWN_TIMEOUT", "30s")
        .env("JANITOR_VISIBILITY_TIMEOUT", "60s");
    let mut daemon = Daemon::start(cmd);
    env.send_raw(&page_created(
        "p-drain",
        &[format!("s3://{}/{key}", env.bucket)],
    ))
    .await;
    gate.wait_arrived(1, Duration::from_secs(60)).await;
    eventually(Duration::from_secs(30), "the message in hand", || async {
        daemon.metric("janitor_inflight_messages") == 1.0
    })
    .await;
    assert_eq!(daemon.status("/readyz"), Some(200), "ready while working");
    let acks_before = proxy.count("sqs:DeleteMessageBatch") + proxy.count("sqs:DeleteMessage");
    assert_eq!(acks_before, 0, "acknowledged before the delete finished");
    let signalled = Instant::now();
    daemon.signal(sig);
    // 503 while the process is still draining (it cannot exit while the delete is held).
    let mut saw_503 = false;
    while daemon.child.try_wait().expect("try_wait").is_none() {
        if daemon.status("/readyz") == Some(503) {
            saw_503 = true;
            break;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(30),
            "neither 503 nor exit; log:\n{}",
            daemon.logs()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        saw_503,
        "/readyz never answered 503 during the drain; log:\n{}",
        daemon.logs()
    );
    assert_eq!(daemon.status("/healthz"), Some(200), "alive while draining");
    assert!(
        daemon.child.try_wait().expect("try_wait").is_none(),
        "exited before the held delete returned"
    );
    gate.open();
    let status = daemon
        .wait_exit(Duration::from_secs(40))
        .unwrap_or_else(|| panic!("did not exit after SIG{sig}; log:\n{}", daemon.logs()));
    assert_eq!(status.code(), Some(0), "{}", daemon.logs());
    // The message in hand finished inside the drain: object gone, message acknowledged.
    assert!(!env.exists(&env.bucket, &key).await, "object left");
    assert!(
        proxy.count("sqs:DeleteMessageBatch") + proxy.count("sqs:DeleteMessage") >= 1,
        "never acknowledged: {:?}",
        proxy.counts()
    );
    assert_eq!(
        env.depth(&env.queue_url).await,
        (0, 0),
        "message still queued"
    );
    assert_eq!(env.depth(&env.dlq_url).await, (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_turns_readyz_503_and_finishes_the_message_in_hand() {
    drains_on("TERM").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_turns_readyz_503_and_finishes_the_message_in_hand() {
    drains_on("INT").await;
}
