//! SQS throttling against the real binary (not only the SDK): `RequestThrottled` and `OverLimit`
//! injected by the fault proxy until the daemon itself has seen them (past the SDK's own
//! retries) on receives and on acknowledgements: survived, nothing lost, nothing dead-lettered.

mod common;

use std::time::Duration;

use common::faultproxy::{Fault, FaultProxy, Rule};
use common::{eventually, page_created, Daemon, Env};

/// Has the daemon logged a line containing every one of `parts`?
fn logged(daemon: &Daemon, parts: &[&str]) -> bool {
    daemon
        .logs()
        .lines()
        .any(|l| parts.iter().all(|p| l.contains(p)))
}

fn assert_running(daemon: &mut Daemon) {
    assert!(
        daemon.child.try_wait().expect("try_wait").is_none(),
        "the process exited; log:\n{}",
        daemon.logs()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqs_throttling_is_survived_nothing_lost_nothing_dead_lettered() {
    let env = Env::fresh("throttle").await;
    let proxy = FaultProxy::start(env.endpoint());
    let mut cmd = env.janitor();
    cmd.env("AWS_ENDPOINT_URL", proxy.url())
        .env("JANITOR_VISIBILITY_TIMEOUT", "4s");
    let mut daemon = Daemon::start(cmd);

    // Receives: throttled, then over the in-flight limit, each until the daemon backs off for it.
    for (fault, code) in [
        (Fault::SqsThrottled, "RequestThrottled"),
        (Fault::SqsOverLimit, "OverLimit"),
    ] {
        let rule = proxy.add(Rule::sqs(fault).operation("ReceiveMessage"));
        let wanted = ["receive failed; backing off", code];
        eventually(Duration::from_secs(60), code, || async {
            logged(&daemon, &wanted)
        })
        .await;
        proxy.remove(rule);
        assert_running(&mut daemon);
    }
    assert_eq!(
        daemon.status("/readyz"),
        Some(200),
        "throttling is not unreadiness"
    );

    // Acknowledgements throttled until one DeleteMessageBatch has failed for the daemon.
    let acks = proxy.add(Rule::sqs(Fault::SqsThrottled).operation("DeleteMessageBatch"));
    let keys: Vec<String> = (0..3)
        .map(|i| format!("{}throttle/{i}.jpg", env.prefix))
        .collect();
    env.put_all(&env.bucket, &keys).await;
    for (i, k) in keys.iter().enumerate() {
        let url = format!("s3://{}/{k}", env.bucket);
        env.send_raw(&page_created(&format!("p-{i}"), &[url])).await;
    }
    let wanted = ["DeleteMessageBatch failed", "RequestThrottled"];
    eventually(Duration::from_secs(60), "a throttled ack", || async {
        logged(&daemon, &wanted)
    })
    .await;
    proxy.remove(acks);
    assert_running(&mut daemon);

    eventually(Duration::from_secs(90), "queue drained", || async {
        env.depth(&env.queue_url).await == (0, 0)
    })
    .await;
    for k in &keys {
        assert!(!env.exists(&env.bucket, k).await, "{k} left");
    }
    assert_eq!(env.depth(&env.dlq_url).await, (0, 0), "dead-lettered");
    let dead: f64 = daemon
        .metrics()
        .iter()
        .filter(|(k, _)| k.starts_with("janitor_messages_dead_lettered_total"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(dead, 0.0);
    assert!(daemon.metric("janitor_messages_acked_total") >= 3.0);
    assert_running(&mut daemon);
    daemon.signal("TERM");
    let status = daemon.wait_exit(Duration::from_secs(30)).expect("exits");
    assert_eq!(status.code(), Some(0), "{}", daemon.logs());
}
