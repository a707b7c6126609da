//! The worker end to end against moto: deletions for every URL form, every dead-letter reason,
//! the location policy, metrics, and exit codes.

mod common;

use std::time::Duration;

use common::faultproxy::{Fault, FaultProxy, Rule};
use common::{eventually, page_created, Daemon, Env};

fn url_forms(env: &Env, endpoint: &str) -> Vec<(String, String)> {
    let b = &env.bucket;
    let p = &env.prefix;
    vec![
        (format!("s3://{b}/{p}s3/a.jpg"), format!("{p}s3/a.jpg")),
        (format!("s3://{b}/{p}s3/lit%20eral.jpg"), format!("{p}s3/lit%20eral.jpg")),
        (format!("https://{b}.s3.amazonaws.com/{p}vh/global.png"), format!("{p}vh/global.png")),
        (format!("https://{b}.s3.us-east-1.amazonaws.com/{p}vh/b%20c.png"), format!("{p}vh/b c.png")),
        (format!("https://{b}.s3-us-west-2.amazonaws.com/{p}vh/dash+plus.png"), format!("{p}vh/dash+plus.png")),
        (format!("https://{b}.s3.dualstack.eu-west-1.amazonaws.com/{p}vh/%E6%97%A5%E6%9C%AC.jpg"), format!("{p}vh/日本.jpg")),
        (format!("https://s3.us-east-1.amazonaws.com/{b}/{p}path/regional.gif"), format!("{p}path/regional.gif")),
        (format!("https://s3.amazonaws.com/{b}/{p}path/global.gif?X-Amz-Signature=abc&X-Amz-Expires=60"), format!("{p}path/global.gif")),
        (format!("{endpoint}/{b}/{p}emulator/e.webp#frag"), format!("{p}emulator/e.webp")),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_every_url_form_and_acks() {
    let env = Env::fresh("forms").await;
    // The emulator form names the endpoint the binary is configured with: the strict proxy.
    let forms = url_forms(&env, env.endpoint());
    for (_, key) in &forms {
        env.put(&env.bucket, key).await;
    }
    let bystander = format!("{}keep/me.jpg", env.prefix);
    env.put(&env.bucket, &bystander).await;
    let urls: Vec<String> = forms.iter().map(|(u, _)| u.clone()).collect();
    // Two messages (one SNS-wrapped) sharing a key: dedupe must not break either.
    env.send_raw(&page_created("page-1", &urls[..5])).await;
    let inner = page_created("page-2", &urls[4..]);
    let sns =
        serde_json::json!({"Type": "Notification", "MessageId": "x", "Message": inner}).to_string();
    env.send_raw(&sns).await;

    let daemon = Daemon::start(env.janitor());
    eventually(Duration::from_secs(30), "both messages acked", || async {
        daemon.metric("janitor_messages_acked_total") >= 2.0
    })
    .await;
    for (url, key) in &forms {
        assert!(
            !env.exists(&env.bucket, key).await,
            "{url} → {key} still exists"
        );
    }
    assert!(
        env.exists(&env.bucket, &bystander).await,
        "an unnamed object was deleted"
    );
    assert_eq!(env.depth(&env.queue_url).await, (0, 0));
    assert_eq!(env.depth(&env.dlq_url).await, (0, 0));
    let m = daemon.metrics();
    assert_eq!(m["janitor_messages_received_total"], 2.0);
    assert_eq!(m["janitor_messages_acked_total"], 2.0);
    // One count per key confirmed by a DeleteObjects that reached S3: 9 when the two messages
    // shared a batch (the shared key deduplicated), 10 when they did not. Either way the
    // metric must equal what S3 was asked, and S3 was asked about exactly the 9 keys.
    let batches = env.strict.delete_batches();
    let asked: Vec<&String> = batches.iter().flatten().collect();
    let distinct: std::collections::HashSet<&String> = asked.iter().copied().collect();
    let named: std::collections::HashSet<&String> = forms.iter().map(|(_, k)| k).collect();
    assert_eq!(distinct, named, "the keys sent to S3");
    assert_eq!(
        m["janitor_objects_deleted_total{source=\"worker\"}"],
        asked.len() as f64,
        "objects deleted vs keys in DeleteObjects requests: {batches:?}"
    );
    assert_eq!(m["janitor_message_latency_seconds_count"], 2.0);
    assert!(m["janitor_aws_requests_total{service=\"s3\",operation=\"DeleteObjects\"}"] >= 1.0);
    assert!(
        m["janitor_aws_requests_total{service=\"sqs\",operation=\"DeleteMessageBatch\"}"] >= 1.0
    );
}

/// (reason, body) pairs, one per reason the worker can decide alone.
fn poison(env: &Env) -> Vec<(&'static str, String)> {
    let b = &env.bucket;
    let p = &env.prefix;
    vec![
        ("invalid_json", "{not json".to_owned()),
        (
            "invalid_json",
            serde_json::json!({"Type": "Notification", "Message": "nope {"}).to_string(),
        ),
        (
            "invalid_message",
            r#"{"type":"page.deleted","version":1,"images":[]}"#.to_owned(),
        ),
        (
            "invalid_message",
            r#"{"type":"page.created","version":1}"#.to_owned(),
        ),
        (
            "unsupported_version",
            r#"{"type":"page.created","version":2,"images":[]}"#.to_owned(),
        ),
        (
            "invalid_url",
            page_created("p", &[format!("ftp://{b}/{p}x.jpg")]),
        ),
        (
            "invalid_url",
            page_created("p", &[format!("s3://{b}/{p}../etc/passwd")]),
        ),
        (
            "forbidden_location",
            page_created("p", &[format!("s3://{b}/other/x.jpg")]),
        ),
        (
            "forbidden_location",
            page_created("p", &[format!("s3://not-allowed-bucket/{p}x.jpg")]),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_each_reason_with_exact_attributes_and_identical_body() {
    let env = Env::fresh("reasons").await;
    let cases = poison(&env);
    let mut sent = std::collections::HashMap::new();
    for (reason, body) in &cases {
        let id = env
            .send_to(&env.queue_url.clone(), body, &[("trace-id", "t-123")])
            .await;
        sent.insert(body.clone(), (*reason, id));
    }
    let started = time_now();
    let daemon = Daemon::start(env.janitor());
    eventually(
        Duration::from_secs(30),
        "all poison dead-lettered and gone from the queue",
        || async {
            let counted = daemon
                .metrics()
                .iter()
                .filter(|(k, _)| k.starts_with("janitor_messages_dead_lettered_total"))
                .map(|(_, v)| v)
                .sum::<f64>();
            counted >= cases.len() as f64 && env.depth(&env.queue_url).await == (0, 0)
        },
    )
    .await;
    let dlq = env.take_all(&env.dlq_url).await;
    // moto can hand one message to two receives at once (SQS's at-least-once delivery allows a
    // redelivery too): each receive dead-letters its copy, so a body may be there twice, the
    // copies with receive counts 1 and 2. Every body once at least, none more than twice.
    let mut copies: std::collections::HashMap<&str, Vec<&str>> = Default::default();
    for m in &dlq {
        copies
            .entry(m.body.as_str())
            .or_default()
            .push(m.attributes["janitor.attempts"].as_str());
    }
    assert_eq!(copies.len(), cases.len(), "every poison body: {dlq:?}");
    for (body, attempts) in &mut copies {
        attempts.sort();
        assert!(
            *attempts == ["1"] || *attempts == ["1", "2"],
            "{body}: one copy, or a redelivered second one: {attempts:?}"
        );
    }
    let mut by_reason: std::collections::HashMap<&str, f64> = Default::default();
    for m in &dlq {
        let (reason, _) = sent
            .get(&m.body)
            .unwrap_or_else(|| panic!("body changed: {:?}", m.body));
        assert_eq!(m.attributes["janitor.reason"], *reason, "{}", m.body);
        *by_reason.entry(*reason).or_default() += 1.0;
        assert_eq!(m.attributes["trace-id"], "t-123", "original attribute kept");
        let detail = &m.attributes["janitor.detail"];
        assert!(!detail.is_empty() && detail.len() <= 1024 && !detail.contains('\n'));
        let failed_at = &m.attributes["janitor.failed_at"];
        assert!(
            failed_at.ends_with('Z') && failed_at.as_str() >= started.as_str(),
            "{failed_at}"
        );
    }
    assert_eq!(env.depth(&env.queue_url).await, (0, 0));
    let m = daemon.metrics();
    // Two poison messages per reason, one of unsupported_version; each dead-lettered copy counted.
    for (reason, sent_count) in [
        ("invalid_json", 2.0),
        ("invalid_message", 2.0),
        ("invalid_url", 2.0),
        ("forbidden_location", 2.0),
        ("unsupported_version", 1.0),
    ] {
        let copies = by_reason.get(reason).copied().unwrap_or(0.0);
        assert!(copies >= sent_count, "{reason}: {copies} copies");
        assert_eq!(
            m[&format!("janitor_messages_dead_lettered_total{{reason=\"{reason}\"}}")],
            copies,
            "{reason}"
        );
    }
    assert_eq!(m["janitor_messages_acked_total"], 0.0);
}

fn time_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // Compare as RFC 3339 strings (same format, same length).
    time::OffsetDateTime::from_unix_timestamp(secs as i64)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_message_is_refused_whole_and_nothing_outside_is_deleted() {
    let env = Env::fresh("policy").await;
    let other = env.new_bucket("other").await;
    let p = env.prefix.clone();
    let inside = format!("{p}mixed/ok.jpg");
    let outside_prefix = "elsewhere/secret.jpg".to_owned();
    env.put(&env.bucket, &inside).await;
    env.put(&env.bucket, &outside_prefix).await;
    env.put(&other, &format!("{p}x.jpg")).await;
    let urls = vec![
        format!("s3://{}/{inside}", env.bucket),
        format!("s3://{}/{outside_prefix}", env.bucket),
    ];
    env.send_raw(&page_created("mixed", &urls)).await;
    env.send_raw(&page_created(
        "other-bucket",
        &[format!("s3://{other}/{p}x.jpg")],
    ))
    .await;
    let daemon = Daemon::start(env.janitor());
    eventually(Duration::from_secs(30), "both refused", || async {
        daemon.metric("janitor_messages_dead_lettered_total{reason=\"forbidden_location\"}") >= 2.0
    })
    .await;
    assert!(
        env.exists(&env.bucket, &inside).await,
        "a refused message must delete nothing"
    );
    assert!(env.exists(&env.bucket, &outside_prefix).await);
    assert!(env.exists(&other, &format!("{p}x.jpg")).await);
    assert_eq!(
        daemon.metric("janitor_objects_deleted_total{source=\"worker\"}"),
        0.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_bucket_is_delete_rejected() {
    let env = Env::fresh("nobucket").await;
    let ghost = "ghost-bucket-that-does-not-exist";
    env.send_raw(&page_created(
        "ghost",
        &[format!("s3://{ghost}/{}a.jpg", env.prefix)],
    ))
    .await;
    // The module deployed for both buckets: S3 answers NoSuchBucket, not AccessDenied.
    env.allow_bucket(ghost);
    let mut cmd = env.janitor();
    cmd.env("JANITOR_BUCKETS", format!("{},{ghost}", env.bucket));
    let daemon = Daemon::start(cmd);
    eventually(Duration::from_secs(30), "delete_rejected", || async {
        daemon.metric("janitor_messages_dead_lettered_total{reason=\"delete_rejected\"}") >= 1.0
    })
    .await;
    let dlq = env.take_all(&env.dlq_url).await;
    assert_eq!(dlq.len(), 1);
    assert_eq!(dlq[0].attributes["janitor.reason"], "delete_rejected");
    assert!(
        dlq[0].attributes["janitor.detail"].contains("NoSuchBucket"),
        "{:?}",
        dlq[0].attributes
    );
    assert!(daemon.metric("janitor_delete_errors_total{class=\"permanent\"}") >= 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_failures_until_max_attempts_are_retries_exhausted() {
    let env = Env::fresh("exhaust").await;
    let key = format!("{}t/a.jpg", env.prefix);
    env.put(&env.bucket, &key).await;
    let body = page_created("exhaust", &[format!("s3://{}/{key}", env.bucket)]);
    env.send_raw(&body).await;
    // S3 unreachable (nothing listens there): every delete fails with a connection error.
    let mut cmd = env.janitor();
    cmd.env(
        "AWS_ENDPOINT_URL_S3",
        format!("http://127.0.0.1:{}", common::free_port()),
    )
    .env("JANITOR_MAX_ATTEMPTS", "2");
    let daemon = Daemon::start(cmd);
    eventually(Duration::from_secs(60), "retries_exhausted", || async {
        daemon.metric("janitor_messages_dead_lettered_total{reason=\"retries_exhausted\"}") >= 1.0
    })
    .await;
    let dlq = env.take_all(&env.dlq_url).await;
    assert_eq!(dlq.len(), 1);
    assert_eq!(dlq[0].body, body);
    assert_eq!(dlq[0].attributes["janitor.reason"], "retries_exhausted");
    assert_eq!(dlq[0].attributes["janitor.attempts"], "2");
    assert!(env.exists(&env.bucket, &key).await);
    let m = daemon.metrics();
    assert_eq!(m["janitor_messages_retried_total"], 1.0);
    assert!(m["janitor_delete_errors_total{class=\"transient\"}"] >= 2.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_endpoints_and_publish() {
    let env = Env::fresh("publish").await;
    let key = format!("{}pub/x.jpg", env.prefix);
    env.put(&env.bucket, &key).await;
    let mut publish = env.notion_writer();
    publish.args([
        "publish",
        "--page-id",
        "pg-9",
        &format!("s3://{}/{key}", env.bucket),
    ]);
    let (code, stdout, stderr) = env.run_cmd(publish);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        !stdout.trim().is_empty() && stdout.trim().lines().count() == 1,
        "{stdout}"
    );
    // Hold the first reach of the queue (GetQueueAttributes) in the proxy: the process is alive
    // (/healthz 200) but not ready (/readyz 503) until the queue has answered.
    let proxy = FaultProxy::start(env.endpoint());
    let hold = proxy
        .add(Rule::sqs(Fault::Latency(Duration::from_secs(8))).operation("GetQueueAttributes"));
    let mut cmd = env.janitor();
    cmd.env("AWS_ENDPOINT_URL", proxy.url());
    let mut daemon = Daemon::spawn(cmd);
    eventually(Duration::from_secs(30), "/healthz answers", || async {
        daemon.status("/healthz") == Some(200)
    })
    .await;
    assert_eq!(
        proxy.count("sqs:ReceiveMessage"),
        0,
        "received before the queue was reached"
    );
    assert_eq!(
        daemon.status("/readyz"),
        Some(503),
        "ready before the queue answered"
    );
    proxy.remove(hold);
    daemon.wait_ready(Duration::from_secs(30));
    assert!(proxy.count("sqs:GetQueueAttributes") >= 1);
    eventually(
        Duration::from_secs(30),
        "published message handled",
        || async { !env.exists(&env.bucket, &key).await },
    )
    .await;
    let text = daemon.metrics_text();
    for name in [
        "janitor_messages_received_total",
        "janitor_messages_acked_total",
        "janitor_messages_dead_lettered_total",
        "janitor_messages_retried_total",
        "janitor_objects_deleted_total",
        "janitor_delete_errors_total",
        "janitor_aws_requests_total",
        "janitor_message_latency_seconds",
        "janitor_sweeps_total",
        "janitor_inflight_messages",
        "janitor_queue_messages",
    ] {
        assert!(
            text.contains(&format!("# TYPE {name} ")),
            "{name} missing from /metrics"
        );
    }
    daemon.signal("TERM");
    let status = daemon
        .wait_exit(Duration::from_secs(15))
        .expect("exits after SIGTERM");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn bad_configuration_exits_2_with_one_line_before_any_aws_call() {
    // The endpoint points nowhere: reaching AWS would fail differently (exit 1) and slowly.
    let cases = [
        ("JANITOR_WAIT_TIME", "30s"),
        ("JANITOR_CONCURRENCY", "zero"),
        ("JANITOR_VISIBILITY_TIMEOUT", "forever"),
        ("JANITOR_BUCKETS", ""),
        ("JANITOR_QUEUE_URL", "not a url"),
        ("JANITOR_LOG_FORMAT", "xml"),
        ("JANITOR_HTTP_ADDR", "everywhere"),
    ];
    for (setting, value) in cases {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_image-janitor"))
            .arg("run")
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .env("JANITOR_QUEUE_URL", "http://127.0.0.1:9/1/q")
            .env("JANITOR_BUCKETS", "bucket-a")
            .env("JANITOR_PREFIX", "keep-images/")
            .env(setting, value)
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{setting}={value}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{setting}: {stderr}");
        assert!(stderr.contains(setting), "{setting}: {stderr}");
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_image-janitor"))
        .arg("run")
        .env_remove("JANITOR_PREFIX")
        .env("JANITOR_QUEUE_URL", "http://127.0.0.1:9/1/q")
        .env("JANITOR_BUCKETS", "bucket-a")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("JANITOR_PREFIX"));
}
