//! `image-janitor preflight`, the real binary through the AWS-strict proxy (the module's shipped
//! worker policy, evaluated per request): it passes with the shipped policy, and with the policy
//! narrowed one permission at a time (or a too-low maxReceiveCount) it fails naming exactly that
//! check. No probe deletes or changes an existing object or message.

mod common;

use std::collections::BTreeSet;

use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter,
};
use aws_sdk_sqs::types::QueueAttributeName;
use common::faultproxy::strict::policy::policy as policy_of;
use common::faultproxy::{Role, StrictPolicy, WORKER_KEY};
use common::{Env, Taken};
use serde_json::Value;

const LEASE: &str = "image-janitor/sweeper.lease";

/// Run preflight with `--json` (plus `extra`) as configured by `cmd`; (exit, checks, stderr).
fn preflight(
    env: &Env,
    mut cmd: std::process::Command,
    extra: &[&str],
) -> (i32, Vec<Value>, String) {
    cmd.arg("preflight")
        .arg("--json")
        .args(extra)
        .env("JANITOR_SWEEP_INTERVAL", "1h");
    let (code, stdout, stderr) = env.run_cmd(cmd);
    let checks = stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l)
                .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {l:?}\n{stderr}"))
        })
        .collect();
    (code, checks, stderr)
}

fn named<'a>(checks: &'a [Value], status: &str) -> Vec<&'a str> {
    checks
        .iter()
        .filter(|c| c["status"] == status)
        .map(|c| c["check"].as_str().unwrap_or_default())
        .collect()
}

fn status_of<'a>(checks: &'a [Value], name: &str) -> &'a str {
    let found: Vec<_> = checks.iter().filter(|c| c["check"] == name).collect();
    assert_eq!(found.len(), 1, "one {name} check: {checks:#?}");
    found[0]["status"].as_str().unwrap_or_default()
}

/// What a user cares about: the objects (but the sweeper's own lease) and both queues' messages.
struct Snapshot {
    keys: BTreeSet<String>,
    main_depth: (u64, u64),
    dlq_depth: (u64, u64),
}

async fn snapshot(env: &Env) -> Snapshot {
    let keys = env
        .keys(&env.bucket)
        .await
        .into_iter()
        .filter(|k| k != LEASE)
        .collect();
    Snapshot {
        keys,
        main_depth: env.depth(&env.queue_url).await,
        dlq_depth: env.depth(&env.dlq_url).await,
    }
}

/// Objects under and outside the prefix, 3 messages in the main queue, 2 in the DLQ.
async fn populate(env: &Env) -> Vec<String> {
    for key in [
        format!("{}n1/a.jpg", env.prefix),
        format!("{}n2/b c.png", env.prefix),
        "elsewhere/c.jpg".to_owned(),
        "top.jpg".to_owned(),
    ] {
        env.put(&env.bucket, &key).await;
    }
    let mut bodies = Vec::new();
    for i in 0..3 {
        let body = format!("{{\"main\": {i}}}");
        env.send_raw(&body).await;
        bodies.push(body);
    }
    for i in 0..2 {
        let body = format!("{{\"dead\": {i}}}");
        env.send_to(
            &env.dlq_url.clone(),
            &body,
            &[("janitor.reason", "invalid_message")],
        )
        .await;
        bodies.push(body);
    }
    bodies
}

fn bodies(taken: &[Taken]) -> BTreeSet<String> {
    taken.iter().map(|t| t.body.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_policy_passes_and_nothing_changes() {
    let env = Env::fresh("preflight-ok").await;
    let sent = populate(&env).await;
    let before = snapshot(&env).await;
    assert_eq!(before.main_depth, (3, 0));
    assert_eq!(before.dlq_depth, (2, 0));

    let (code, checks, stderr) = preflight(&env, env.janitor(), &[]);
    assert_eq!(code, 0, "{checks:#?}\n{stderr}");
    assert_eq!(named(&checks, "fail"), Vec::<&str>::new());
    for name in [
        "main_queue",
        "redrive_policy",
        "max_receive_count",
        "dlq",
        "delete_under_prefix",
        "list_under_prefix",
        "lease",
    ] {
        assert_eq!(status_of(&checks, name), "ok", "{name}: {checks:#?}");
    }
    // The shipped policy refuses a delete above the prefix, and may not read the lifecycle rule.
    assert_eq!(status_of(&checks, "delete_outside_prefix"), "ok");
    assert_eq!(status_of(&checks, "lifecycle"), "warn");
    assert_eq!(status_of(&checks, "dlq_send"), "skip");
    // Proof the probes reached IAM: the delete above the prefix was denied by the policy.
    assert!(env
        .strict
        .strict_denials()
        .iter()
        .any(|d| d.action == "s3:DeleteObject" && d.resource.contains("image-janitor-preflight-")));
    assert!(
        env.exists(&env.bucket, LEASE).await,
        "the lease was taken for real"
    );

    // The text form: one line per check, then the summary.
    let mut cmd = env.janitor();
    cmd.arg("preflight").env("JANITOR_SWEEP_INTERVAL", "1h");
    let (code, stdout, _) = env.run_cmd(cmd);
    assert_eq!(code, 0);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), checks.len() + 1, "{stdout}");
    for l in &lines[..lines.len() - 1] {
        assert!(
            ["ok ", "WARN ", "FAIL ", "skip "]
                .iter()
                .any(|s| l.starts_with(s)),
            "{l}"
        );
    }
    assert!(
        lines[lines.len() - 1].starts_with("preflight: "),
        "{stdout}"
    );

    let after = snapshot(&env).await;
    assert_eq!(after.keys, before.keys);
    assert_eq!(after.main_depth, before.main_depth);
    assert_eq!(after.dlq_depth, before.dlq_depth);
    let mut seen = bodies(&env.take_all(&env.queue_url).await);
    seen.extend(bodies(&env.take_all(&env.dlq_url).await));
    assert_eq!(seen, sent.into_iter().collect());
}

/// The worker policy without one statement, or one action of one statement.
fn narrowed(env: &Env, sid: &str, action: Option<&str>) -> StrictPolicy {
    let mut doc = policy_of(Role::Worker, &env.policy_vars());
    let statements = doc["Statement"].as_array_mut().expect("statements");
    let before = statements.len();
    match action {
        None => statements.retain(|s| s["Sid"] != sid),
        Some(action) => {
            let s = statements
                .iter_mut()
                .find(|s| s["Sid"] == sid)
                .expect("statement");
            let actions = s["Action"].as_array_mut().expect("action list");
            let n = actions.len();
            actions.retain(|a| a != action);
            assert_eq!(actions.len(), n - 1, "{action} not in {sid}");
        }
    }
    assert!(
        action.is_some() || statements.len() == before - 1,
        "{sid} not found"
    );
    StrictPolicy::shipped(&env.policy_vars()).identity(WORKER_KEY, "worker", doc)
}

async fn fails_exactly(env: &Env, check: &str) {
    let before = snapshot(env).await;
    let (code, checks, stderr) = preflight(env, env.janitor(), &[]);
    assert_eq!(code, 1, "{checks:#?}\n{stderr}");
    assert_eq!(named(&checks, "fail"), [check], "{checks:#?}");
    let line = checks.iter().find(|c| c["check"] == check).expect("line");
    assert!(
        line["fix"].as_str().is_some_and(|f| !f.is_empty()),
        "{line}"
    );
    assert!(stderr.contains("1 of"), "{stderr}");
    let after = snapshot(env).await;
    assert_eq!(after.keys, before.keys, "{check}");
    assert_eq!(after.main_depth, before.main_depth, "{check}");
    assert_eq!(after.dlq_depth, before.dlq_depth, "{check}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_missing_permission_fails_exactly_its_check() {
    let cases: [(&str, Option<&str>, &str); 4] = [
        ("DeleteTemporaryImages", None, "delete_under_prefix"),
        ("SweeperLease", Some("s3:PutObject"), "lease"),
        ("ListUnderPrefix", None, "list_under_prefix"),
        ("DeadLetter", None, "dlq"),
    ];
    for (sid, action, check) in cases {
        common::progress(&format!("preflight without {sid} {action:?}"));
        let env = Env::fresh("preflight-narrow").await;
        populate(&env).await;
        env.strict.set_policy(narrowed(&env, sid, action));
        fails_exactly(&env, check).await;
        assert!(
            !env.strict.strict_denials().is_empty(),
            "{check}: IAM refused something"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_max_receive_count_below_max_attempts_fails_that_check() {
    let env = Env::fresh("preflight-mrc").await;
    populate(&env).await;
    let dlq_arn = env
        .sqs
        .get_queue_attributes()
        .queue_url(&env.dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("dlq arn")
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .expect("arn");
    env.sqs
        .set_queue_attributes()
        .queue_url(&env.queue_url)
        .attributes(
            QueueAttributeName::RedrivePolicy,
            format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"3"}}"#),
        )
        .send()
        .await
        .expect("set redrive");
    fails_exactly(&env, "max_receive_count").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_configuration_exits_2_before_any_request() {
    let env = Env::fresh("preflight-config").await;
    let mut cmd = env.janitor();
    cmd.env("JANITOR_MAX_ATTEMPTS", "many");
    let (code, checks, stderr) = preflight(&env, cmd, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(checks.is_empty());
    assert!(stderr.contains("JANITOR_MAX_ATTEMPTS"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(env.strict.total(), 0, "no AWS request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_send_probe_sends_and_deletes_a_marker_when_allowed_and_says_so_when_not() {
    let env = Env::fresh("preflight-send").await;
    let sent = populate(&env).await;
    // Plain moto (no IAM): the worker role's lack of ReceiveMessage on the DLQ is not in the way.
    // The lifecycle rule is readable there too.
    let rule = LifecycleRule::builder()
        .id("expire-temporary-images")
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix(&env.prefix).build())
        .expiration(LifecycleExpiration::builder().days(7).build())
        .build()
        .expect("rule");
    env.s3
        .put_bucket_lifecycle_configuration()
        .bucket(&env.bucket)
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .rules(rule)
                .build()
                .expect("config"),
        )
        .send()
        .await
        .expect("put lifecycle");
    let before = snapshot(&env).await;
    let (code, checks, stderr) = preflight(&env, env.janitor_direct(), &["--send-probe"]);
    assert_eq!(code, 0, "{checks:#?}\n{stderr}");
    assert_eq!(status_of(&checks, "dlq_send"), "ok", "{checks:#?}");
    assert_eq!(status_of(&checks, "lifecycle"), "ok", "{checks:#?}");
    let after = snapshot(&env).await;
    assert_eq!(
        after.dlq_depth, before.dlq_depth,
        "marker deleted, others visible again"
    );

    // The shipped worker policy may send to the DLQ but not receive from it: the marker stays,
    // and the line says which message it is.
    let (code, checks, stderr) = preflight(&env, env.janitor(), &["--send-probe"]);
    assert_eq!(code, 0, "{checks:#?}\n{stderr}");
    let line = checks
        .iter()
        .find(|c| c["check"] == "dlq_send")
        .expect("dlq_send");
    assert_eq!(line["status"], "warn", "{line}");
    assert!(line["fix"]
        .as_str()
        .unwrap_or_default()
        .contains("janitor.preflight="));
    let dlq = env.take_all(&env.dlq_url).await;
    let markers: Vec<_> = dlq
        .iter()
        .filter(|t| t.attributes.contains_key("janitor.preflight"))
        .collect();
    assert_eq!(markers.len(), 1, "{dlq:?}");
    let mut seen = bodies(&env.take_all(&env.queue_url).await);
    seen.extend(
        dlq.iter()
            .filter(|t| !t.attributes.contains_key("janitor.preflight"))
            .map(|t| t.body.clone()),
    );
    assert_eq!(seen, sent.into_iter().collect());
}
