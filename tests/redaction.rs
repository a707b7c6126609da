//! No credentials in logs (issue 14), end to end against moto: presigned URLs through every
//! rejection that can carry a URL and through a successful delete; their signature, credential
//! and token (and userinfo, and the daemon's own AWS secrets) appear in no log line (JSON at
//! trace level, text at debug, audit on), no `janitor.detail`, no `dlq peek` output (table and
//! JSON) and no `dlq replay` output — while the DLQ bodies still hold them byte for byte.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use common::{eventually, page_created, Daemon, Env};

/// Secret values, unique per run, alphanumeric so that no escaping or percent-encoding could
/// disguise a leak.
struct Secrets {
    signature: String,
    credential: String,
    token: String,
    password: String,
    /// The daemon's own AWS credentials.
    aws_secret_key: String,
    aws_session_token: String,
}

fn hex(n: usize) -> String {
    (0..n)
        .map(|_| format!("{:x}", fastrand::u8(..16)))
        .collect()
}

impl Secrets {
    fn new() -> Self {
        Secrets {
            signature: hex(64),
            credential: format!("AKIA{}", hex(16).to_uppercase()),
            token: format!("IQoJb3JpZ2luX2VjTOKEN{}", hex(40)),
            password: format!("pw{}", hex(20)),
            aws_secret_key: format!("awsSECRET{}", hex(31)),
            aws_session_token: format!("awsSESSION{}", hex(40)),
        }
    }

    fn all(&self) -> [&str; 6] {
        [
            &self.signature,
            &self.credential,
            &self.token,
            &self.password,
            &self.aws_secret_key,
            &self.aws_session_token,
        ]
    }

    /// The query string of a presigned GET with temporary credentials.
    fn query(&self) -> String {
        format!(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={}%2F20261127%2Fus-east-1%2Fs3%2Faws4_request\
             &X-Amz-Date=20261127T030000Z&X-Amz-Expires=3600&X-Amz-Security-Token={}\
             &X-Amz-SignedHeaders=host&X-Amz-Signature={}",
            self.credential, self.token, self.signature
        )
    }

    fn presigned(&self, url: &str) -> String {
        format!("{url}?{}", self.query())
    }

    /// Neither a secret nor its first or last 16 characters appear in `text`.
    fn assert_absent(&self, what: &str, text: &str) {
        for s in self.all() {
            for part in [s, &s[..16], &s[s.len() - 16..]] {
                if let Some(at) = text.find(part) {
                    let from = text[..at].rfind('\n').map_or(0, |i| i + 1);
                    let to = text[at..].find('\n').map_or(text.len(), |i| at + i);
                    panic!("{what} leaks {part:?}:\n{}", &text[from..to]);
                }
            }
        }
    }

    fn in_body(&self, body: &str) -> bool {
        body.contains(&self.signature) || body.contains(&self.password)
    }
}

/// The messages: (expected reason, or "" for the one that succeeds; body).
fn scenario(
    env: &Env,
    s: &Secrets,
    other: &str,
    ghost: &str,
    good: &str,
) -> Vec<(&'static str, String)> {
    let (b, p) = (&env.bucket, &env.prefix);
    let bad_escape = s.presigned(&format!("https://{b}.s3.amazonaws.com/{p}bad%zz.jpg"));
    vec![
        (
            "",
            page_created(
                "page-good",
                &[
                    s.presigned(&format!("https://{b}.s3.amazonaws.com/{p}{good}/a.jpg")),
                    format!(
                        "{}#fragment",
                        s.presigned(&format!("{}/{b}/{p}{good}/b%20c.jpg", env.endpoint()))
                    ),
                ],
            ),
        ),
        (
            "invalid_url",
            page_created("page-escape", std::slice::from_ref(&bad_escape)),
        ),
        (
            "invalid_url",
            page_created(
                "page-userinfo",
                &[format!(
                    "https://{}:{}@{b}.s3.amazonaws.com/{p}u.jpg?{}",
                    s.credential,
                    s.password,
                    s.query()
                )],
            ),
        ),
        (
            "invalid_url",
            page_created(
                "page-noscheme",
                &[s.presigned(&format!("{b}.s3.amazonaws.com/{p}noscheme.jpg"))],
            ),
        ),
        (
            "invalid_url",
            serde_json::json!({
                "Type": "Notification",
                "MessageId": "sns-1",
                "Message": page_created("page-sns", &[bad_escape]),
            })
            .to_string(),
        ),
        (
            "forbidden_location",
            page_created(
                "page-prefix",
                &[s.presigned(&format!("https://{b}.s3.amazonaws.com/elsewhere/x.jpg"))],
            ),
        ),
        (
            "forbidden_location",
            page_created(
                "page-bucket",
                &[s.presigned(&format!("https://{other}.s3.amazonaws.com/{p}x.jpg"))],
            ),
        ),
        (
            "forbidden_location",
            page_created(
                "page-literal",
                &[format!("s3://{b}/elsewhere/literal.jpg?{}", s.query())],
            ),
        ),
        (
            "delete_rejected",
            page_created(
                "page-ghost",
                &[s.presigned(&format!("https://{ghost}.s3.amazonaws.com/{p}g.jpg"))],
            ),
        ),
    ]
}

fn janitor(env: &Env, s: &Secrets, ghost: &str) -> std::process::Command {
    with_secrets(env.janitor(), env, s, ghost)
}

/// The `dlq` commands run as the operator role (the worker may not consume the DLQ).
fn operator(env: &Env, s: &Secrets, ghost: &str) -> std::process::Command {
    with_secrets(env.operator(), env, s, ghost)
}

fn with_secrets(
    mut cmd: std::process::Command,
    env: &Env,
    s: &Secrets,
    ghost: &str,
) -> std::process::Command {
    cmd.env("JANITOR_BUCKETS", format!("{},{ghost}", env.bucket))
        .env("JANITOR_AUDIT", "on")
        .env("AWS_SECRET_ACCESS_KEY", &s.aws_secret_key)
        .env("AWS_SESSION_TOKEN", &s.aws_session_token);
    cmd
}

/// Run the daemon until every message of the scenario is settled; its whole log.
async fn run_daemon(mut cmd: std::process::Command, rejected: usize) -> String {
    cmd.env("JANITOR_SHUTDOWN_TIMEOUT", "5s");
    let mut daemon = Daemon::start(cmd);
    eventually(Duration::from_secs(60), "every message settled", || async {
        let m = daemon.metrics();
        let dead: f64 = m
            .iter()
            .filter(|(k, _)| k.starts_with("janitor_messages_dead_lettered_total"))
            .map(|(_, v)| v)
            .sum();
        dead >= rejected as f64 && m.get("janitor_messages_acked_total") >= Some(&1.0)
    })
    .await;
    daemon.signal("TERM");
    let status = daemon.wait_exit(Duration::from_secs(30));
    assert!(
        status.is_some_and(|s| s.success()),
        "daemon did not exit cleanly: {status:?}\n{}",
        daemon.logs()
    );
    daemon.logs()
}

fn count<'a>(reasons: impl Iterator<Item = &'a str>) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for r in reasons {
        *out.entry(r.to_string()).or_default() += 1;
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_urls_never_reach_logs_details_or_dlq_output() {
    let s = Secrets::new();
    let env = Env::fresh("redact").await;
    let other = env.new_bucket("redact-other").await;
    let ghost = format!("{}-ghost", common::unique("redact").to_lowercase());
    let p = env.prefix.clone();
    let outside = ["elsewhere/x.jpg", "elsewhere/literal.jpg"];
    for key in outside {
        env.put(&env.bucket, key).await;
    }
    env.put(&other, &format!("{p}x.jpg")).await;
    let good: Vec<String> = ["good1", "good2"]
        .iter()
        .flat_map(|g| [format!("{p}{g}/a.jpg"), format!("{p}{g}/b c.jpg")])
        .collect();
    env.put_all(&env.bucket, &good).await;

    let cases = scenario(&env, &s, &other, &ghost, "good1");
    let rejected: HashMap<String, &str> = cases
        .iter()
        .filter(|(r, _)| !r.is_empty())
        .map(|(r, b)| (b.clone(), *r))
        .collect();
    let want = count(rejected.values().copied());
    for (_, body) in &cases {
        assert!(s.in_body(body), "every message must carry a secret: {body}");
        env.send_raw(body).await;
    }

    // 1. JSON logs at trace level (the SDK's own logs included), audit on.
    let mut cmd = janitor(&env, &s, &ghost);
    cmd.env("JANITOR_LOG_FORMAT", "json")
        .env("RUST_LOG", "trace");
    let json_log = run_daemon(cmd, rejected.len()).await;
    for key in &good[..2] {
        assert!(!env.exists(&env.bucket, key).await, "{key} not deleted");
    }
    for key in outside {
        assert!(
            env.exists(&env.bucket, key).await,
            "{key} outside the prefix was deleted"
        );
    }
    assert!(
        env.exists(&other, &format!("{p}x.jpg")).await,
        "a forbidden bucket was touched"
    );
    // The log holds what would have leaked: details quoting the URLs, and the audit trail.
    assert!(json_log.contains("invalid percent-encoding"), "{json_log}");
    assert!(json_log.contains(r#""event":"object_deleted""#));
    // One dead-letter event per rejected message, counted by message id: moto may hand a
    // message to two receives, and then it is (harmlessly) dead-lettered twice.
    let dead_lettered: std::collections::HashSet<&str> = json_log
        .lines()
        .filter(|l| l.contains(r#""event":"message_dead_lettered""#))
        .filter_map(|l| l.split(r#""message_id":""#).nth(1))
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert_eq!(dead_lettered.len(), rejected.len(), "{dead_lettered:?}");
    s.assert_absent("the JSON log (trace)", &json_log);
    assert!(json_log.contains("?<redacted>"));
    assert!(json_log.contains("<redacted>@"));

    // 2. `dlq peek`, JSON and table: leaves the messages in place.
    let mut cmd = operator(&env, &s, &ghost);
    cmd.args(["dlq", "peek", "--json", "--max", "50"]);
    let (code, stdout, stderr) = env.run_cmd(cmd);
    assert_eq!(code, 0, "{stderr}");
    s.assert_absent("dlq peek --json stdout", &stdout);
    s.assert_absent("dlq peek --json stderr", &stderr);
    let messages: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["kind"] == "message")
        .collect();
    assert_eq!(
        count(messages.iter().map(|m| m["reason"].as_str().unwrap_or("?"))),
        want,
        "{stdout}"
    );
    for m in &messages {
        let url = m["image_urls"][0].as_str().expect("an image url");
        assert!(url.ends_with("?<redacted>"), "{url}");
        let body = m["body"].as_str().expect("body");
        assert!(body.contains("<redacted>"), "{body}");
        serde_json::from_str::<serde_json::Value>(body).expect("the shown body is still JSON");
    }
    let mut cmd = operator(&env, &s, &ghost);
    cmd.args(["dlq", "peek", "--max", "50"]);
    let (code, table, stderr) = env.run_cmd(cmd);
    assert_eq!(code, 0, "{stderr}");
    s.assert_absent("dlq peek table", &table);
    s.assert_absent("dlq peek stderr", &stderr);
    for (reason, n) in &want {
        assert_eq!(table.matches(&format!(" {reason} ")).count(), *n, "{table}");
    }

    // 3. `dlq replay` moves them back, then a text-format daemon dead-letters them again.
    let mut cmd = operator(&env, &s, &ghost);
    cmd.args(["dlq", "replay", "--idle-timeout", "1s"]);
    let (code, stdout, stderr) = env.run_cmd(cmd);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout.lines().last(),
        Some(format!("replayed {} messages (skipped 0)", rejected.len()).as_str())
    );
    s.assert_absent("dlq replay stdout", &stdout);
    s.assert_absent("dlq replay stderr", &stderr);
    let good2 = &scenario(&env, &s, &other, &ghost, "good2")[0].1;
    env.send_raw(good2).await;
    let mut cmd = janitor(&env, &s, &ghost);
    cmd.env("JANITOR_LOG_FORMAT", "text")
        .env("RUST_LOG", "debug");
    let text_log = run_daemon(cmd, rejected.len()).await;
    for key in &good[2..] {
        assert!(!env.exists(&env.bucket, key).await, "{key} not deleted");
    }
    assert!(!text_log.contains(r#""level":"#), "not the text format");
    assert!(text_log.contains("message dead-lettered") && text_log.contains("?<redacted>"));
    assert!(text_log.contains("janitor::audit"));
    s.assert_absent("the text log (debug)", &text_log);

    // 4. The DLQ: bodies byte-identical (secrets and all), details and attributes clean.
    let dlq = env.take_all(&env.dlq_url).await;
    assert_eq!(dlq.len(), rejected.len());
    for m in &dlq {
        let reason = rejected
            .get(&m.body)
            .unwrap_or_else(|| panic!("body changed: {}", m.body));
        assert_eq!(m.attributes["janitor.reason"], *reason, "{}", m.body);
        assert!(s.in_body(&m.body), "the secret left the body: {}", m.body);
        let detail = &m.attributes["janitor.detail"];
        if *reason == "invalid_url" {
            assert!(detail.contains("<redacted>"), "{detail}");
        }
        for (name, value) in &m.attributes {
            s.assert_absent(&format!("attribute {name}"), value);
        }
    }
    assert_eq!(env.depth(&env.queue_url).await, (0, 0));
}
