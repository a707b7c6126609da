//! Settings and dry runs that must hold on real AWS, on the real binary: a DLQ that is the main
//! queue, durations without bounds, and a dry run that would push messages into the DLQ.

mod common;

use std::time::Duration;

use common::{eventually, page_created, Daemon, Env};

/// `(exit code, stderr)` of the binary with an endpoint that points nowhere: a configuration
/// error must come before any AWS call (which would fail slowly, with exit 1).
fn offline(command: &str, extra: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_image-janitor"));
    cmd.arg(command)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .env("JANITOR_QUEUE_URL", "http://127.0.0.1:9/123456789012/jobs")
        .env("JANITOR_BUCKETS", "bucket-a")
        .env("JANITOR_PREFIX", "keep-images/");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run image-janitor");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_dlq_that_is_the_main_queue_exits_2_naming_it() {
    for dlq in [
        "http://127.0.0.1:9/123456789012/jobs",
        "http://localhost:9/123456789012/jobs/",
    ] {
        let (code, stderr) = offline("run", &[("JANITOR_DLQ_URL", dlq)]);
        assert_eq!(code, 2, "{dlq}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(stderr.contains("JANITOR_DLQ_URL"), "{stderr}");
    }
}

#[test]
fn huge_durations_exit_2_never_panic() {
    for (command, setting) in [
        ("sweep", "JANITOR_SWEEP_LEASE_TTL"),
        ("run", "JANITOR_SWEEP_LEASE_TTL"),
        ("sweep", "JANITOR_SWEEP_MAX_AGE"),
        ("run", "JANITOR_SWEEP_INTERVAL"),
        ("run", "JANITOR_QUEUE_POLL_INTERVAL"),
        ("run", "JANITOR_SHUTDOWN_TIMEOUT"),
    ] {
        let (code, stderr) = offline(command, &[(setting, "8000y")]);
        assert_eq!(code, 2, "{command} {setting}=8000y: {stderr}");
        assert!(stderr.contains(setting), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_refuses_a_queue_with_a_redrive_policy() {
    let env = Env::fresh("dryredrive").await;
    let key = format!("{}dry/a.jpg", env.prefix);
    env.put(&env.bucket, &key).await;
    let url = format!("s3://{}/{key}", env.bucket);
    env.send_raw(&page_created("p-dry", &[url])).await;
    let mut cmd = env.janitor();
    cmd.arg("run").env("JANITOR_DRY_RUN", "true");
    let (code, _, stderr) = env.run_cmd(cmd);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("JANITOR_DRY_RUN"), "{stderr}");
    assert!(stderr.contains("RedrivePolicy"), "{stderr}");
    // Nothing was received: the message is visible, never counted toward maxReceiveCount.
    assert_eq!(env.depth(&env.queue_url).await, (1, 0));
    assert!(env.exists(&env.bucket, &key).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_without_a_redrive_policy_changes_nothing() {
    let env = Env::fresh("dryplain").await;
    // The main queue without its RedrivePolicy; the DLQ named explicitly.
    env.sqs
        .set_queue_attributes()
        .queue_url(&env.queue_url)
        .attributes(aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy, "")
        .send()
        .await
        .expect("remove the redrive policy");
    let plain = env.queue_url.clone();
    let key = format!("{}dry/b.jpg", env.prefix);
    env.put(&env.bucket, &key).await;
    let good = page_created("p-good", &[format!("s3://{}/{key}", env.bucket)]);
    env.send_to(&plain, &good, &[]).await;
    env.send_to(&plain, "{not json", &[]).await;
    let mut cmd = env.janitor();
    cmd.env("JANITOR_DLQ_URL", &env.dlq_url)
        .env("JANITOR_DRY_RUN", "true");
    let mut daemon = Daemon::start(cmd);
    eventually(Duration::from_secs(30), "both messages seen", || async {
        let logs = daemon.logs();
        logs.contains("dry run: would delete") && logs.contains("dry run: would dead-letter")
    })
    .await;
    daemon.signal("TERM");
    let status = daemon.wait_exit(Duration::from_secs(30)).expect("exits");
    assert_eq!(status.code(), Some(0));
    assert!(env.exists(&env.bucket, &key).await, "deleted in a dry run");
    assert_eq!(
        env.depth(&env.dlq_url).await,
        (0, 0),
        "dead-lettered in a dry run"
    );
    let (visible, inflight) = env.depth(&plain).await;
    assert_eq!(visible + inflight, 2, "acknowledged in a dry run");
    assert_eq!(daemon.metric("janitor_messages_acked_total"), 0.0);
}

/// `OverLimit` on ReceiveMessage and `RequestTimeTooSkewed` on DeleteObjects, injected between
/// the binary and the (strict) emulator: the daemon backs off and keeps running, and no message
/// is dead-lettered for the node's clock, even with `JANITOR_MAX_ATTEMPTS=1`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_limit_and_clock_skew_are_survived_and_never_dead_letter() {
    use common::faultproxy::{Fault, FaultProxy, Rule};

    let env = Env::fresh("skew").await;
    let proxy = FaultProxy::start(env.endpoint());
    let keys: Vec<String> = (0..3)
        .map(|i| format!("{}skew/{i}.jpg", env.prefix))
        .collect();
    env.put_all(&env.bucket, &keys).await;
    for (i, k) in keys.iter().enumerate() {
        let url = format!("s3://{}/{k}", env.bucket);
        env.send_raw(&page_created(&format!("p-{i}"), &[url])).await;
    }
    let over_limit = proxy.add(Rule::sqs(Fault::SqsOverLimit).operation("ReceiveMessage"));
    let skew = proxy.add(Rule::s3(Fault::S3ClockSkew).operation("DeleteObjects"));
    let mut cmd = env.janitor();
    cmd.env("AWS_ENDPOINT_URL", proxy.url())
        .env("JANITOR_MAX_ATTEMPTS", "1")
        .env("JANITOR_CONCURRENCY", "1");
    let mut daemon = Daemon::start(cmd);
    eventually(
        Duration::from_secs(30),
        "OverLimit answered 3 times",
        || async {
            proxy
                .injected()
                .get("sqs:ReceiveMessage")
                .is_some_and(|&n| n >= 3)
        },
    )
    .await;
    assert!(
        daemon.child.try_wait().expect("try_wait").is_none(),
        "OverLimit stopped the daemon; log:\n{}",
        daemon.logs()
    );
    proxy.remove(over_limit);
    eventually(
        Duration::from_secs(60),
        "a clock-skew error counted",
        || async { daemon.metric("janitor_clock_skew_errors_total{service=\"s3\"}") >= 1.0 },
    )
    .await;
    assert!(proxy
        .injected()
        .get("s3:DeleteObjects")
        .is_some_and(|&n| n >= 1));
    proxy.remove(skew);
    eventually(Duration::from_secs(90), "all three acked", || async {
        daemon.metric("janitor_messages_acked_total") >= 3.0
    })
    .await;
    for k in &keys {
        assert!(!env.exists(&env.bucket, k).await, "{k} left");
    }
    assert_eq!(
        env.depth(&env.dlq_url).await,
        (0, 0),
        "dead-lettered for the clock"
    );
    let dead: f64 = daemon
        .metrics()
        .iter()
        .filter(|(k, _)| k.starts_with("janitor_messages_dead_lettered_total"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(dead, 0.0);
    daemon.signal("TERM");
    let status = daemon.wait_exit(Duration::from_secs(30)).expect("exits");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn a_bucket_name_urls_refuse_is_refused_by_config_too() {
    // `a..b` is no S3 bucket name; config and image URLs share one rule (s3url::bucket).
    for command in ["run", "sweep"] {
        let (code, stderr) = offline(command, &[("JANITOR_BUCKETS", "bucket-a,a..b")]);
        assert_eq!(code, 2, "{command}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(stderr.contains("JANITOR_BUCKETS"), "{stderr}");
    }
}
