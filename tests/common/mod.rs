//! Integration-test harness: a real moto server (started here on a free loopback port unless
//! `MOTO_ENDPOINT` names one), fresh queues and buckets per test, and the real binary.
//! A test that needs the emulator fails loudly when it is missing; it never skips.
//!
//! AWS-strict by default: every `Env` starts a strict fault proxy (faultproxy::strict) holding
//! the module's shipped IAM policies rendered for its queues, buckets and prefix, and
//! `Env::janitor()` (worker role), `Env::operator()` and `Env::notion_writer()` point the binary
//! at it. `Env::janitor_direct()` talks to moto directly; a test using it says why.
#![allow(dead_code)]

pub mod daemon;
pub mod faultproxy;

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};

#[allow(unused_imports)]
pub use daemon::Daemon;
use faultproxy::{FaultProxy, PolicyVars, StrictPolicy};

pub const REGION: &str = "us-east-1";
pub const PREFIX: &str = "keep-images/";

/// The emulator's endpoint, e.g. `http://127.0.0.1:40123`.
pub fn moto() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| match std::env::var("MOTO_ENDPOINT") {
        Ok(e) if !e.is_empty() => {
            wait_for_moto(&e);
            e
        }
        _ => start_moto(),
    })
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Start `.venv/bin/moto_server` on a free port. It is tied to this process through a pipe:
/// when the test binary exits, the pipe closes and the wrapper kills the server.
fn start_moto() -> String {
    let server = repo().join(".venv/bin/moto_server");
    assert!(
        server.exists(),
        "moto is not installed at {} — run scripts/setup-moto.sh (scripts/test.sh does it), or set MOTO_ENDPOINT",
        server.display()
    );
    let port = free_port();
    let script = format!(
        "'{}' -H 127.0.0.1 -p {port} >/dev/null 2>&1 & pid=$!; cat >/dev/null; kill $pid",
        server.display()
    );
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .spawn()
        .expect("start moto_server");
    // Keep the pipe open for the life of the process; never dropped.
    let stdin = child.stdin.take().expect("moto stdin");
    Box::leak(Box::new((child, stdin)));
    let endpoint = format!("http://127.0.0.1:{port}");
    wait_for_moto(&endpoint);
    endpoint
}

fn wait_for_moto(endpoint: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if ureq::get(&format!("{endpoint}/moto-api/")).call().is_ok() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "moto did not answer at {endpoint} within 60s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A port nobody is listening on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn set_aws_env(cmd: &mut Command) {
    cmd.env("AWS_ENDPOINT_URL", moto())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", REGION)
        .env_remove("AWS_PROFILE")
        .env("AWS_EC2_METADATA_DISABLED", "true");
}

async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(moto())
        .region(aws_config::Region::new(REGION))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .load()
        .await
}

/// SQS and S3 clients (path-style) for `endpoint` — e.g. a fault proxy — with SDK retries off,
/// so that a test sees exactly the response the endpoint sent.
pub async fn clients_via(endpoint: &str) -> (aws_sdk_sqs::Client, aws_sdk_s3::Client) {
    clients_as(endpoint, "test").await
}

/// [`clients_via`], signing with `access_key` (a strict proxy's identity, e.g. `WORKER_KEY`).
pub async fn clients_as(
    endpoint: &str,
    access_key: &str,
) -> (aws_sdk_sqs::Client, aws_sdk_s3::Client) {
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(REGION))
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            access_key, "test", None, None, "tests",
        ))
        .load()
        .await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(true)
            .build(),
    );
    (aws_sdk_sqs::Client::new(&conf), s3)
}

/// A unique, valid name fragment.
pub fn unique(name: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!("{name}-{}-{n}-{}", std::process::id(), fastrand::u32(..))
}

/// Fresh queues and a bucket for one test.
pub struct Env {
    pub sqs: aws_sdk_sqs::Client,
    pub s3: aws_sdk_s3::Client,
    pub queue_url: String,
    pub dlq_url: String,
    pub bucket: String,
    pub prefix: String,
    /// AWS-strict proxy in front of moto with the shipped policies for this deployment.
    pub strict: FaultProxy,
    /// Buckets after `bucket` in the policies (the module's `additional_bucket_names`).
    extra_buckets: std::sync::Mutex<Vec<String>>,
}

impl Env {
    /// Main queue + DLQ (RedrivePolicy, maxReceiveCount 10) + bucket, all with unique names.
    pub async fn fresh(name: &str) -> Env {
        let conf = sdk_config().await;
        let sqs = aws_sdk_sqs::Client::new(&conf);
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&conf)
                .force_path_style(true)
                .build(),
        );
        let base = unique(name).to_lowercase();
        let dlq_url = sqs
            .create_queue()
            .queue_name(format!("{base}-dlq"))
            .send()
            .await
            .expect("create dlq")
            .queue_url
            .expect("dlq url");
        let dlq_arn = sqs
            .get_queue_attributes()
            .queue_url(&dlq_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("dlq arn")
            .attributes
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .expect("dlq arn attr");
        let redrive = format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"10"}}"#);
        let queue_url = sqs
            .create_queue()
            .queue_name(&base)
            .attributes(QueueAttributeName::RedrivePolicy, redrive)
            .send()
            .await
            .expect("create queue")
            .queue_url
            .expect("queue url");
        let bucket = bucket_name(&base);
        s3.create_bucket()
            .bucket(&bucket)
            .send()
            .await
            .expect("create bucket");
        let vars =
            PolicyVars::deployment(&queue_url, &dlq_url, std::slice::from_ref(&bucket), PREFIX);
        let strict = FaultProxy::strict(moto(), StrictPolicy::shipped(&vars));
        Env {
            sqs,
            s3,
            queue_url,
            dlq_url,
            bucket,
            prefix: PREFIX.into(),
            strict,
            extra_buckets: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The module deployed for this environment: its `bucket_name` is `bucket`, its
    /// `additional_bucket_names` every bucket given to [`Env::allow_bucket`].
    pub fn policy_vars(&self) -> PolicyVars {
        let mut buckets = vec![self.bucket.clone()];
        buckets.extend(
            self.extra_buckets
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .cloned(),
        );
        PolicyVars::deployment(&self.queue_url, &self.dlq_url, &buckets, &self.prefix)
    }

    /// Grant the shipped policies on one more bucket too (`additional_bucket_names`), as an
    /// operator would for a JANITOR_BUCKETS that names it.
    pub fn allow_bucket(&self, bucket: &str) {
        self.extra_buckets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(bucket.to_owned());
        self.strict
            .set_policy(StrictPolicy::shipped(&self.policy_vars()));
    }

    /// The endpoint the binary talks to: the strict proxy.
    pub fn endpoint(&self) -> &str {
        self.strict.url()
    }

    /// Another bucket (for multi-bucket and forbidden-bucket tests).
    pub async fn new_bucket(&self, name: &str) -> String {
        let bucket = bucket_name(&unique(name).to_lowercase());
        self.s3
            .create_bucket()
            .bucket(&bucket)
            .send()
            .await
            .expect("create bucket");
        bucket
    }

    pub async fn put(&self, bucket: &str, key: &str) {
        self.s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from_static(b"\x89PNG fake image"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("put {bucket}/{key}: {e:?}"));
    }

    /// Upload many objects, 16 at a time.
    pub async fn put_all(&self, bucket: &str, keys: &[String]) {
        use futures::StreamExt;
        futures::stream::iter(keys)
            .map(|k| self.put(bucket, k))
            .buffer_unordered(16)
            .collect::<Vec<()>>()
            .await;
    }

    /// Send bodies to the main queue with SendMessageBatch (10 per call).
    pub async fn send_many(&self, bodies: &[String]) {
        for chunk in bodies.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(b)
                        .build()
                        .expect("batch entry")
                })
                .collect::<Vec<_>>();
            let out = self
                .sqs
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .expect("send batch");
            assert!(out.failed().is_empty(), "send batch: {:?}", out.failed());
        }
    }

    pub async fn exists(&self, bucket: &str, key: &str) -> bool {
        self.s3
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .is_ok()
    }

    pub async fn keys(&self, bucket: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .s3
                .list_objects_v2()
                .bucket(bucket)
                .set_continuation_token(token)
                .send()
                .await
                .expect("list");
            out.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned)),
            );
            token = page.next_continuation_token().map(str::to_owned);
            if token.is_none() {
                return out;
            }
        }
    }

    /// Send a raw body to the main queue.
    pub async fn send_raw(&self, body: &str) -> String {
        self.send_to(&self.queue_url.clone(), body, &[]).await
    }

    /// Send a body with string attributes to a queue.
    pub async fn send_to(&self, queue: &str, body: &str, attrs: &[(&str, &str)]) -> String {
        let mut req = self.sqs.send_message().queue_url(queue).message_body(body);
        for (k, v) in attrs {
            req = req.message_attributes(
                *k,
                aws_sdk_sqs::types::MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(*v)
                    .build()
                    .expect("attr"),
            );
        }
        req.send()
            .await
            .expect("send")
            .message_id
            .expect("message id")
    }

    /// (visible, in flight) of a queue.
    pub async fn depth(&self, queue: &str) -> (u64, u64) {
        let out = self
            .sqs
            .get_queue_attributes()
            .queue_url(queue)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .expect("queue attributes");
        let attrs = out.attributes.unwrap_or_default();
        let get = |n: QueueAttributeName| attrs.get(&n).and_then(|v| v.parse().ok()).unwrap_or(0);
        (
            get(QueueAttributeName::ApproximateNumberOfMessages),
            get(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        )
    }

    /// Take every message from a queue (hidden for 5 minutes, so each is seen once).
    pub async fn take_all(&self, queue: &str) -> Vec<Taken> {
        let mut out = Vec::new();
        let mut empty = 0;
        while empty < 2 {
            let got = self
                .sqs
                .receive_message()
                .queue_url(queue)
                .max_number_of_messages(10)
                .visibility_timeout(300)
                .wait_time_seconds(0)
                .message_attribute_names("All")
                .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
                .send()
                .await
                .expect("receive");
            let msgs = got.messages.unwrap_or_default();
            if msgs.is_empty() {
                empty += 1;
                continue;
            }
            for m in msgs {
                let attrs = m
                    .message_attributes
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, v.string_value.unwrap_or_default()))
                    .collect();
                out.push(Taken {
                    id: m.message_id.unwrap_or_default(),
                    body: m.body.unwrap_or_default(),
                    attributes: attrs,
                });
            }
        }
        out
    }

    /// The binary as the worker role (the `run` / `sweep` deployment), through the strict proxy,
    /// with this environment's JANITOR_* settings.
    pub fn janitor(&self) -> Command {
        self.janitor_as(faultproxy::WORKER_KEY)
    }

    /// The binary as the operator role (`dlq peek`, `dlq replay`), through the strict proxy.
    pub fn operator(&self) -> Command {
        self.janitor_as(faultproxy::OPERATOR_KEY)
    }

    /// The binary as the Notion Writer role (`publish`), through the strict proxy.
    pub fn notion_writer(&self) -> Command {
        self.janitor_as(faultproxy::NOTION_WRITER_KEY)
    }

    /// The binary talking to moto directly, with no IAM and no AWS limits (say why when used).
    pub fn janitor_direct(&self) -> Command {
        let mut cmd = self.janitor();
        cmd.env("AWS_ENDPOINT_URL", moto())
            .env("AWS_ACCESS_KEY_ID", "test");
        cmd
    }

    fn janitor_as(&self, access_key: &str) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_image-janitor"));
        set_aws_env(&mut cmd);
        cmd.env("AWS_ENDPOINT_URL", self.strict.url())
            .env("AWS_ACCESS_KEY_ID", access_key);
        for (k, _) in std::env::vars() {
            if k.starts_with("JANITOR_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("JANITOR_QUEUE_URL", &self.queue_url)
            .env("JANITOR_BUCKETS", &self.bucket)
            .env("JANITOR_PREFIX", &self.prefix)
            .env("JANITOR_S3_FORCE_PATH_STYLE", "true")
            .env("JANITOR_LOG_FORMAT", "json")
            .env("JANITOR_WAIT_TIME", "1s")
            .env("JANITOR_SWEEP_INTERVAL", "0")
            .env("JANITOR_QUEUE_POLL_INTERVAL", "1s")
            .env("RUST_LOG", "info");
        cmd
    }

    /// Run a one-shot command to completion; (exit code, stdout, stderr).
    pub fn run_cmd(&self, mut cmd: Command) -> (i32, String, String) {
        let out = cmd.output().expect("run image-janitor");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

impl Drop for Env {
    /// A check the IAM evaluator could not evaluate (an unmapped action, a malformed ARN) means
    /// strict mode was not really enforced: fail the test that caused it.
    fn drop(&mut self) {
        let errors = self.strict.strict_errors();
        if !errors.is_empty() && !std::thread::panicking() {
            panic!("the strict proxy could not evaluate: {errors:#?}");
        }
    }
}

/// A message taken from a queue by the harness.
#[derive(Debug, Clone)]
pub struct Taken {
    pub id: String,
    pub body: String,
    pub attributes: HashMap<String, String>,
}

fn bucket_name(base: &str) -> String {
    let mut b: String = base
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    b.truncate(55);
    format!("{}-img", b.trim_end_matches('-'))
}

/// Poll `check` every 100 ms until it returns true or `timeout` passes.
pub async fn eventually<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if check().await {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A page.created body as the Python Notion Writer (json.dumps) would send it.
pub fn page_created(page_id: &str, urls: &[String]) -> String {
    let images: Vec<String> = urls
        .iter()
        .map(|u| format!("{{\"s3_url\": {}}}", serde_json::Value::String(u.clone())))
        .collect();
    format!(
        "{{\"type\": \"page.created\", \"version\": 1, \"page_id\": \"{page_id}\", \"note_id\": \"keep-note-1\", \"images\": [{}], \"published_at\": \"2026-11-26T03:00:00Z\"}}",
        images.join(", ")
    )
}

/// Write a line to stderr immediately (test progress for slow integration tests).
pub fn progress(msg: &str) {
    let _ = writeln!(std::io::stderr(), "[it] {msg}");
}
