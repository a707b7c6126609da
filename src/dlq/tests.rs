//! Unit tests of `dlq`.

use super::*;
use crate::queue::{Attribute, Receipt};

fn received(attrs: &[(&str, &str)], body: &str) -> Received {
    Received {
        message_id: "m-1".into(),
        receipt: Receipt("r".into()),
        body: body.into(),
        attributes: attrs
            .iter()
            .map(|(k, v)| (k.to_string(), Attribute::string(*v)))
            .collect(),
        receive_count: 1,
        sent_at: None,
    }
}

#[test]
fn view_reads_janitor_attributes_and_the_body() {
    let inner = r#"{"type":"page.created","version":1,"page_id":"p-1","images":[{"s3_url":"s3://b/k/a.jpg"}]}"#;
    let sns = serde_json::json!({"Type": "Notification", "Message": inner}).to_string();
    let m = DlqMessage::from_received(&received(
        &[
            ("janitor.reason", "delete_rejected"),
            ("janitor.detail", "AccessDenied"),
            ("janitor.attempts", "3"),
            ("janitor.failed_at", "2026-11-26T03:00:00Z"),
            ("trace", "abc"),
        ],
        &sns,
    ));
    assert_eq!(m.reason.as_deref(), Some("delete_rejected"));
    assert_eq!(m.attempts, Some(3));
    assert_eq!(m.page_id.as_deref(), Some("p-1"));
    assert_eq!(m.image_urls, ["s3://b/k/a.jpg"]);
    assert_eq!(m.body, sns);
    assert_eq!(m.original_attributes.len(), 1);
    assert!(m.matches(&[Reason::DeleteRejected]));
    assert!(!m.matches(&[Reason::InvalidJson]));
    assert!(m.matches(&[]));
}

#[test]
fn messages_without_janitor_attributes_match_only_without_filter() {
    let m = DlqMessage::from_received(&received(&[], "not json"));
    assert_eq!(m.reason, None);
    assert_eq!(m.page_id, None);
    assert!(m.image_urls.is_empty());
    assert!(m.matches(&[]));
    assert!(!m.matches(&Reason::ALL));
}
