//! CONTRACT.md §2 and §5 on the real binary: exit codes (2 for configuration, before any AWS
//! call where the contract says so; 1 for runtime failures), an empty `images` list acknowledged,
//! `publish` printing the id SQS returned, and a dry run that pushes nothing toward the DLQ.

mod common;

use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use common::{eventually, page_created, Daemon, Env};

/// Exactly one non-empty line on stderr, naming `setting`.
fn one_line_naming(stderr: &str, setting: &str) {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line on stderr: {stderr}");
    assert!(lines[0].contains(setting), "names {setting}: {stderr}");
}

/// A loopback address nobody listens on (`run` binds its HTTP port before reaching AWS).
fn free_addr() -> String {
    format!("127.0.0.1:{}", common::free_port())
}

/// Drop the main queue's RedrivePolicy (so that only JANITOR_DLQ_URL can name a DLQ).
async fn without_redrive(env: &Env) {
    env.sqs
        .set_queue_attributes()
        .queue_url(&env.queue_url)
        .attributes(QueueAttributeName::RedrivePolicy, "")
        .send()
        .await
        .expect("remove the redrive policy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_without_dlq_url_or_redrive_policy_exits_2_naming_the_setting() {
    let env = Env::fresh("nodlq").await;
    without_redrive(&env).await;
    env.send_raw(&page_created("p-nodlq", &[])).await;
    let mut cmd = env.janitor();
    cmd.arg("run").env("JANITOR_HTTP_ADDR", free_addr());
    let (code, _, stderr) = env.run_cmd(cmd);
    assert_eq!(code, 2, "{stderr}");
    one_line_naming(&stderr, "JANITOR_DLQ_URL");
    assert!(stderr.contains("RedrivePolicy"), "{stderr}");
    // It looked at the queue (that is how it knows) but took nothing from it.
    assert!(env.strict.count("sqs:GetQueueAttributes") >= 1);
    assert_eq!(env.strict.count("sqs:ReceiveMessage"), 0);
    assert_eq!(env.depth(&env.queue_url).await, (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweep_with_bad_settings_exits_2_before_any_aws_call() {
    let env = Env::fresh("sweepbad").await;
    let cases: &[(&str, Option<&str>)] = &[
        ("JANITOR_SWEEP_MAX_AGE", Some("forever")),
        ("JANITOR_SWEEP_MAX_AGE", Some("0s")),
        ("JANITOR_BUCKETS", Some("Not_A_Bucket")),
        ("JANITOR_BUCKETS", None),
        ("JANITOR_PREFIX", None),
        ("JANITOR_LOG_FORMAT", Some("yaml")),
        ("JANITOR_AUDIT", Some("maybe")),
        ("JANITOR_DRY_RUN", Some("perhaps")),
    ];
    for (setting, value) in cases {
        let mut cmd = env.janitor();
        cmd.arg("sweep");
        match value {
            Some(v) => cmd.env(setting, v),
            None => cmd.env_remove(setting),
        };
        let (code, stdout, stderr) = env.run_cmd(cmd);
        assert_eq!(code, 2, "{setting}={value:?}: {stdout}{stderr}");
        one_line_naming(&stderr, setting);
        assert_eq!(
            env.strict.counts(),
            Default::default(),
            "{setting}={value:?} reached AWS"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_exits_1_when_the_main_queue_does_not_exist() {
    let env = Env::fresh("norun").await;
    let missing = format!("{}-gone", env.queue_url);
    let mut cmd = env.janitor_direct();
    // Direct to moto: the failure under test is the queue's absence, not IAM.
    cmd.arg("run")
        .env("JANITOR_QUEUE_URL", &missing)
        .env("JANITOR_DLQ_URL", &env.dlq_url)
        .env("JANITOR_HTTP_ADDR", free_addr());
    let (code, _, stderr) = env.run_cmd(cmd);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&missing) || stderr.contains("NonExistent"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweep_exits_1_when_its_bucket_does_not_exist() {
    let env = Env::fresh("nosweep").await;
    let missing = format!("{}-gone", env.bucket);
    let mut cmd = env.janitor_direct();
    // Direct to moto: the failure under test is the bucket's absence, not IAM.
    cmd.arg("sweep").env("JANITOR_BUCKETS", &missing);
    let (code, stdout, stderr) = env.run_cmd(cmd);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(!stdout.contains("swept"), "claimed success: {stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_with_no_images_is_acknowledged() {
    let env = Env::fresh("noimages").await;
    env.send_raw(r#"{"type": "page.created", "version": 1, "page_id": "p-empty", "images": []}"#)
        .await;
    let mut daemon = Daemon::start(env.janitor());
    eventually(Duration::from_secs(30), "the message acked", || async {
        daemon.metric("janitor_messages_acked_total") >= 1.0
    })
    .await;
    assert_eq!(
        env.depth(&env.queue_url).await,
        (0, 0),
        "still on the queue"
    );
    assert_eq!(env.depth(&env.dlq_url).await, (0, 0), "dead-lettered");
    assert_eq!(env.strict.count("s3:DeleteObjects"), 0, "nothing to delete");
    assert!(
        env.strict.count("sqs:DeleteMessageBatch") + env.strict.count("sqs:DeleteMessage") >= 1
    );
    daemon.signal("TERM");
    let status = daemon.wait_exit(Duration::from_secs(30)).expect("exits");
    assert_eq!(status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_prints_the_message_id_sqs_returned() {
    let env = Env::fresh("publishid").await;
    let url = format!("s3://{}/{}pub/a.jpg", env.bucket, env.prefix);
    let mut cmd = env.notion_writer();
    cmd.args(["publish", "--page-id", "page-77", &url]);
    let (code, stdout, stderr) = env.run_cmd(cmd);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "only the id on stdout: {stdout:?}");
    let taken = env.take_all(&env.queue_url).await;
    assert_eq!(taken.len(), 1);
    assert_eq!(
        lines[0], taken[0].id,
        "printed id vs the received message's"
    );
    let body: serde_json::Value = serde_json::from_str(&taken[0].body).expect("JSON body");
    assert_eq!(body["page_id"], "page-77");
    assert_eq!(body["images"][0]["s3_url"], url.as_str());
}

/// Dry run on a queue without a RedrivePolicy (the only kind it accepts; the refusal of the
/// other kind is `aws_rules::dry_run_refuses_a_queue_with_a_redrive_policy`): a good message,
/// an invalid one and a forbidden one are seen, and not one request that deletes, acknowledges
/// or dead-letters anything reaches AWS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_sends_nothing_toward_the_dlq_and_deletes_nothing() {
    let env = Env::fresh("drynothing").await;
    without_redrive(&env).await;
    let key = format!("{}dry/a.jpg", env.prefix);
    env.put(&env.bucket, &key).await;
    env.send_raw(&page_created(
        "p-good",
        &[format!("s3://{}/{key}", env.bucket)],
    ))
    .await;
    env.send_raw("{not json").await;
    env.send_raw(&page_created(
        "p-far",
        &["s3://elsewhere-bucket/keep-images/x.jpg".into()],
    ))
    .await;
    let mut cmd = env.janitor();
    cmd.env("JANITOR_DLQ_URL", &env.dlq_url)
        .env("JANITOR_DRY_RUN", "true")
        .env("JANITOR_VISIBILITY_TIMEOUT", "30s");
    let mut daemon = Daemon::start(cmd);
    eventually(Duration::from_secs(30), "all three seen", || async {
        let logs = daemon.logs();
        logs.contains("dry run: would delete")
            && logs.matches("dry run: would dead-letter").count() >= 2
    })
    .await;
    daemon.signal("TERM");
    let status = daemon.wait_exit(Duration::from_secs(30)).expect("exits");
    assert_eq!(status.code(), Some(0), "{}", daemon.logs());
    let counts = env.strict.counts();
    for op in [
        "sqs:SendMessage",
        "sqs:SendMessageBatch",
        "sqs:DeleteMessage",
        "sqs:DeleteMessageBatch",
        "s3:DeleteObjects",
        "s3:DeleteObject",
    ] {
        assert_eq!(counts.get(op), None, "{op} in a dry run: {counts:?}");
    }
    assert!(counts.get("sqs:ReceiveMessage").is_some_and(|&n| n >= 1));
    assert!(env.exists(&env.bucket, &key).await);
    assert_eq!(env.depth(&env.dlq_url).await, (0, 0));
    let (visible, inflight) = env.depth(&env.queue_url).await;
    assert_eq!(visible + inflight, 3, "all three still on the queue");
}
