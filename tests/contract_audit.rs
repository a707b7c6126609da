//! CONTRACT.md §5 `JANITOR_AUDIT` and `JANITOR_LOG_FORMAT` on the real binary: one
//! `janitor::audit` event per object deleted or refused and per message dead-lettered, with
//! bucket, key, source, message id, page id and reason; none with `JANITOR_AUDIT=off`; and
//! readable text lines with `JANITOR_LOG_FORMAT=text`.

mod common;

use std::time::Duration;

use common::{eventually, page_created, Daemon, Env};
use serde_json::Value;

/// Three messages: two objects to delete, a forbidden URL, and an object S3 refuses.
struct Scenario {
    deleted: Vec<String>,
    refused_key: String,
    forbidden_url: String,
    ids: [String; 3],
}

async fn scenario(env: &Env) -> Scenario {
    let deleted: Vec<String> = (0..2)
        .map(|i| format!("{}audit/ok/{i}.jpg", env.prefix))
        .collect();
    let refused_key = format!("{}audit/denied/x.jpg", env.prefix);
    env.put_all(&env.bucket, &deleted).await;
    env.put(&env.bucket, &refused_key).await;
    env.strict
        .deny_deletes_under(&format!("{}audit/denied/", env.prefix));
    let urls: Vec<String> = deleted
        .iter()
        .map(|k| format!("s3://{}/{k}", env.bucket))
        .collect();
    let forbidden_url = format!("s3://{}-other/{}audit/far.jpg", env.bucket, env.prefix);
    let a = env.send_raw(&page_created("page-ok", &urls)).await;
    let b = env
        .send_raw(&page_created(
            "page-far",
            std::slice::from_ref(&forbidden_url),
        ))
        .await;
    let c = env
        .send_raw(&page_created(
            "page-denied",
            &[format!("s3://{}/{refused_key}", env.bucket)],
        ))
        .await;
    Scenario {
        deleted,
        refused_key,
        forbidden_url,
        ids: [a, b, c],
    }
}

/// Run until the scenario is settled (one ack, two dead-letters), then stop; the log.
async fn settle(env: &Env, audit: &str, format: &str) -> String {
    let mut cmd = env.janitor();
    cmd.env("JANITOR_AUDIT", audit)
        .env("JANITOR_LOG_FORMAT", format);
    let mut daemon = Daemon::start(cmd);
    eventually(
        Duration::from_secs(60),
        "one acked, two dead-lettered",
        || async {
            let dead: f64 = daemon
                .metrics()
                .iter()
                .filter(|(k, _)| k.starts_with("janitor_messages_dead_lettered_total"))
                .map(|(_, v)| v)
                .sum();
            daemon.metric("janitor_messages_acked_total") >= 1.0 && dead >= 2.0
        },
    )
    .await;
    daemon.signal("TERM");
    let status = daemon.wait_exit(Duration::from_secs(30)).expect("exits");
    assert_eq!(status.code(), Some(0), "{}", daemon.logs());
    daemon.logs()
}

fn json_lines(log: &str) -> Vec<Value> {
    log.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn audit_events(log: &str) -> Vec<Value> {
    json_lines(log)
        .into_iter()
        .filter(|l| l["target"] == "janitor::audit")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_events_name_bucket_key_source_message_and_reason() {
    let env = Env::fresh("audit").await;
    let s = scenario(&env).await;
    let events = audit_events(&settle(&env, "on", "json").await);
    let [ok_id, far_id, denied_id] = &s.ids;

    for key in &s.deleted {
        let matching: Vec<&Value> = events.iter().filter(|e| e["key"] == key.as_str()).collect();
        assert_eq!(matching.len(), 1, "one event for {key}: {events:#?}");
        let e = matching[0];
        assert_eq!(e["event"], "object_deleted");
        assert_eq!(e["bucket"], env.bucket.as_str());
        assert_eq!(e["source"], "worker");
        assert_eq!(e["message_id"], ok_id.as_str());
        assert_eq!(e["page_id"], "page-ok");
        assert!(e.get("reason").is_none_or(Value::is_null), "{e}");
    }

    let refused: Vec<&Value> = events
        .iter()
        .filter(|e| e["key"] == s.refused_key.as_str())
        .collect();
    assert_eq!(refused.len(), 1, "{events:#?}");
    assert_eq!(refused[0]["event"], "object_refused");
    assert_eq!(refused[0]["bucket"], env.bucket.as_str());
    assert_eq!(refused[0]["source"], "worker");
    assert_eq!(refused[0]["message_id"], denied_id.as_str());
    assert_eq!(refused[0]["page_id"], "page-denied");
    assert_eq!(refused[0]["reason"], "AccessDenied");

    let dead: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "message_dead_lettered")
        .collect();
    assert_eq!(dead.len(), 2, "{events:#?}");
    let by_id = |id: &str| {
        dead.iter()
            .find(|e| e["message_id"] == id)
            .unwrap_or_else(|| panic!("no dead-letter event for {id}: {dead:#?}"))
    };
    let far = by_id(far_id);
    assert_eq!(far["reason"], "forbidden_location");
    assert_eq!(far["page_id"], "page-far");
    assert_eq!(far["source"], "worker");
    let denied = by_id(denied_id);
    assert_eq!(denied["reason"], "delete_rejected");
    assert_eq!(denied["page_id"], "page-denied");
    // A forbidden URL is never touched, so no object event names it.
    let far_key = s
        .forbidden_url
        .split_once(&env.prefix)
        .map(|(_, rest)| format!("{}{rest}", env.prefix))
        .expect("forbidden key");
    assert!(
        !events.iter().any(|e| e["key"] == far_key.as_str()),
        "{events:#?}"
    );
    assert_eq!(
        events.len(),
        5,
        "2 deleted + 1 refused + 2 dead-lettered: {events:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_off_emits_no_audit_event() {
    let env = Env::fresh("auditoff").await;
    let s = scenario(&env).await;
    let log = settle(&env, "off", "json").await;
    let lines = json_lines(&log);
    // The work happened (and the operational log says so)...
    for key in &s.deleted {
        assert!(!env.exists(&env.bucket, key).await, "{key} left");
    }
    assert_eq!(
        lines
            .iter()
            .filter(|l| l["fields"]["message"] == "message dead-lettered"
                || l["message"] == "message dead-lettered")
            .count(),
        2,
        "{log}"
    );
    // ...but not one audit event was written.
    let audit: Vec<&Value> = lines
        .iter()
        .filter(|l| l["target"] == "janitor::audit")
        .collect();
    assert!(audit.is_empty(), "{audit:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_log_format_writes_readable_lines() {
    let env = Env::fresh("textlog").await;
    let s = scenario(&env).await;
    let log = settle(&env, "on", "text").await;
    assert!(!log.trim().is_empty());
    assert!(
        !log.contains('\u{1b}'),
        "terminal colour codes in a log file:\n{log}"
    );
    for line in log.lines() {
        assert!(
            serde_json::from_str::<Value>(line).is_err(),
            "a JSON line in text format: {line}"
        );
    }
    // One line per audit event, with its target, level and fields in plain words.
    for key in &s.deleted {
        let line = log
            .lines()
            .find(|l| l.contains(key.as_str()) && l.contains("janitor::audit"))
            .unwrap_or_else(|| panic!("no audit line for {key}:\n{log}"));
        assert!(line.contains("INFO"), "{line}");
        assert!(line.contains("object_deleted"), "{line}");
        assert!(line.contains(&s.ids[0]), "{line}");
    }
    assert!(
        log.lines()
            .any(|l| l.contains("WARN") && l.contains("message dead-lettered")),
        "{log}"
    );
}
