//! SQS throttling against the real binary (not only the SDK): `RequestThrottled` and `OverLimit`
//! injected by the fault proxy on receives, acknowledgements and visibility changes are survived;
//! nothing is lost and nothing is dead-lettered.

mod common;

use std::time::Duration;

use common::faultproxy::{Fault, FaultProxy, Rule};
use common::{eventually, page_created, Daemon, Env};

fn injected(proxy: &FaultProxy, label: &str) -> u64 {
    proxy.injected().get(label).copied().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqs_throttling_is_survived_nothing_lost_nothing_dead_lettered() {
    let env = Env::fresh("throttle").await;
    let proxy = FaultProxy::start(env.endpoint());
    let mut cmd = env.janitor();
    cmd.env("AWS_ENDPOINT_URL", proxy.url())
        .env("JANITOR_MAX_ATTEMPTS", "2")
        .env("JANITOR_VISIBILITY_TIMEOUT", "4s");
    let mut daemon = Daemon::start(cmd);

    // Receives: throttled, then over the in-flight limit.
    let rule = proxy.add(Rule::sqs(Fault::SqsThrottled).operation("ReceiveMessage"));
    eventually(Duration::from_secs(30), "receives throttled", || async {
        injected(&proxy, "sqs:ReceiveMessage") >= 2
    })
    .await;
    proxy.remove(rule);
    let rule = proxy.add(Rule::sqs(Fault::SqsOverLimit).operation("ReceiveMessage"));
    eventually(Duration::from_secs(30), "receives over limit", || async {
        injected(&proxy, "sqs:ReceiveMessage") >= 4
    })
    .await;
    assert!(
        daemon.child.try_wait().expect("try_wait").is_none(),
        "{}",
        daemon.logs()
    );
    assert_eq!(
        daemon.status("/readyz"),
        Some(200),
        "throttling is not unreadiness"
    );

    // Acknowledgements and visibility changes throttled while the messages are worked on.
    let acks = proxy.add(Rule::sqs(Fault::SqsThrottled).operation("DeleteMessageBatch"));
    let vis = proxy.add(Rule::sqs(Fault::SqsThrottled).operation("ChangeMessageVisibility"));
    let vis_batch =
        proxy.add(Rule::sqs(Fault::SqsThrottled).operation("ChangeMessageVisibilityBatch"));
    let keys: Vec<String> = (0..3)
        .map(|i| format!("{}throttle/{i}.jpg", env.prefix))
        .collect();
    env.put_all(&env.bucket, &keys).await;
    for (i, k) in keys.iter().enumerate() {
        let url = format!("s3://{}/{k}", env.bucket);
        env.send_raw(&page_created(&format!("p-{i}"), &[url])).await;
    }
    proxy.remove(rule);
    eventually(
        Duration::from_secs(30),
        "acknowledgements throttled",
        || async { injected(&proxy, "sqs:DeleteMessageBatch") >= 2 },
    )
    .await;
    proxy.remove(acks);
    proxy.remove(vis);
    proxy.remove(vis_batch);

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
    daemon.signal("TERM");
    let status = daemon.wait_exit(Duration::from_secs(30)).expect("exits");
    assert_eq!(status.code(), Some(0), "{}", daemon.logs());
}
