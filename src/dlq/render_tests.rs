//! Unit tests of `dlq::render`.

use super::*;
use crate::queue::Attribute;

fn sample() -> DlqMessage {
    let mut attrs = Attributes::new();
    attrs.insert("trace".into(), Attribute::string("abc"));
    DlqMessage {
        message_id: "0b6f-1".into(),
        reason: Some("delete_rejected".into()),
        detail: Some("AccessDenied on\nkeep-images/a.jpg".into()),
        attempts: Some(3),
        failed_at: Some("2026-11-26T03:00:00Z".into()),
        page_id: Some("p-1".into()),
        image_urls: (0..5).map(|i| format!("s3://b/k/{i}.jpg")).collect(),
        body: "{\"x\": 1}\n".into(),
        original_attributes: attrs,
    }
}

#[test]
fn json_line_carries_every_field() {
    let line = message_json(&sample());
    assert!(!line.contains('\n'));
    let v: Value = serde_json::from_str(&line).expect("json");
    assert_eq!(v["kind"], "message");
    assert_eq!(v["message_id"], "0b6f-1");
    assert_eq!(v["reason"], "delete_rejected");
    assert_eq!(v["detail"], "AccessDenied on\nkeep-images/a.jpg");
    assert_eq!(v["attempts"], 3);
    assert_eq!(v["failed_at"], "2026-11-26T03:00:00Z");
    assert_eq!(v["page_id"], "p-1");
    assert_eq!(v["image_urls"].as_array().map(Vec::len), Some(FIRST_IMAGES));
    assert_eq!(v["image_count"], 5);
    assert_eq!(v["body"], "{\"x\": 1}\n");
    assert_eq!(v["attributes"]["trace"]["string_value"], "abc");
}

#[test]
fn missing_fields_are_null_in_json_and_dashes_in_the_table() {
    let mut m = sample();
    m.reason = None;
    m.attempts = None;
    m.page_id = None;
    m.image_urls.clear();
    let v: Value = serde_json::from_str(&message_json(&m)).expect("json");
    assert!(v["reason"].is_null() && v["attempts"].is_null() && v["page_id"].is_null());
    let t = table(&[m]);
    let row = t.lines().nth(1).expect("row");
    assert!(row.contains(" -  "), "{row}");
}

#[test]
fn table_is_fixed_width_and_one_line_per_message() {
    let mut long = sample();
    long.message_id = "x".repeat(80);
    long.detail = Some("\u{1b}[31mred".into());
    let t = table(&[sample(), long]);
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("MESSAGE ID"));
    let reason_col = lines[0].find("REASON").expect("col");
    assert_eq!(lines[1].find("delete_rejected"), Some(reason_col));
    assert_eq!(
        lines[2]
            .find("delete_rejected")
            .map(|i| lines[2][..i].chars().count()),
        Some(reason_col)
    );
    assert!(lines[1].contains("s3://b/k/0.jpg (+4)"));
    let mut wide = sample();
    wide.image_urls = vec![format!("s3://b/{}", "k".repeat(100)), "s3://b/2".into()];
    let t = table(&[wide]);
    assert!(
        t.lines().nth(1).is_some_and(|l| l.contains("… (+1)")),
        "{t}"
    );
    assert!(lines[1].contains("AccessDenied on keep-images/a.jpg"));
    assert!(!t.contains('\u{1b}'));
}

#[test]
fn urls_are_redacted_in_json_and_table() {
    const SECRET: &str = "TokenAndSignature0123456789";
    let url = format!(
        "https://b.s3.amazonaws.com/k.jpg?X-Amz-Security-Token={SECRET}&X-Amz-Signature={SECRET}"
    );
    let inner = format!(
        r#"{{"type":"page.created","version":1,"images":[{{"s3_url":"{url}"}},{{"s3_url":"https://u:{SECRET}@b.s3.amazonaws.com/x"}}]}}"#
    );
    let body = serde_json::json!({"Type": "Notification", "Message": inner}).to_string();
    let mut m = sample();
    m.image_urls = vec![
        url.clone(),
        format!("https://u:{SECRET}@b.s3.amazonaws.com/x"),
    ];
    // A detail written before details were redacted.
    m.detail = Some(format!("images[0]: invalid: \"{url}\""));
    m.body = body.clone();
    m.original_attributes
        .insert("source".into(), Attribute::string(url.as_str()));
    let line = message_json(&m);
    assert!(!line.contains(SECRET), "{line}");
    let v: Value = serde_json::from_str(&line).expect("json");
    assert_eq!(
        v["image_urls"][0],
        "https://b.s3.amazonaws.com/k.jpg?<redacted>"
    );
    assert_eq!(
        v["image_urls"][1],
        "https://<redacted>@b.s3.amazonaws.com/x"
    );
    assert_eq!(v["image_count"], 2);
    assert_eq!(
        v["detail"],
        "images[0]: invalid: \"https://b.s3.amazonaws.com/k.jpg?<redacted>\""
    );
    assert_eq!(
        v["attributes"]["source"]["string_value"],
        "https://b.s3.amazonaws.com/k.jpg?<redacted>"
    );
    // The body is shown redacted, still JSON (and its Message too), everything else kept.
    let shown = v["body"].as_str().expect("body");
    let outer: Value = serde_json::from_str(shown).expect("body is JSON");
    assert_eq!(outer["Type"], "Notification");
    let inner: Value =
        serde_json::from_str(outer["Message"].as_str().expect("Message")).expect("inner JSON");
    assert_eq!(
        inner["images"][0]["s3_url"],
        "https://b.s3.amazonaws.com/k.jpg?<redacted>"
    );
    assert!(m.body.contains(SECRET), "the message itself is untouched");

    let t = table(&[m]);
    assert!(!t.contains(SECRET), "{t}");
    assert!(
        t.contains("https://b.s3.amazonaws.com/k.jpg?<redacted> (+1)"),
        "{t}"
    );
}

#[test]
fn summary_is_exact() {
    assert_eq!(summary(3, 2), "replayed 3 messages (skipped 2)");
}
