//! How DLQ messages and results are shown: a fixed-width table, JSON lines, the summary line.
//! Pure string building, no I/O. Everything shown comes from producers we do not control, so
//! control characters are neutralised before they reach a terminal, and URLs are redacted
//! ([`crate::redact`]): a presigned URL's signature and token, or userinfo, in an image URL,
//! a detail (one written by an older janitor may still hold them) or the body never reach the
//! output. The DLQ itself keeps the exact body, and `dlq replay` sends it unchanged.

use serde_json::{json, Map, Value};

use super::DlqMessage;
use crate::queue::{Attributes, Depth};
use crate::redact;

/// How many image URLs peek shows per message.
pub const FIRST_IMAGES: usize = 3;

/// `approximate depth: 12 visible, 0 in flight, 0 delayed`
pub fn depth_line(d: &Depth) -> String {
    format!(
        "dead-letter queue, approximate depth: {} visible, {} in flight, {} delayed",
        d.visible, d.inflight, d.delayed
    )
}

/// One message as one JSON line: the fields of the table plus the body and the original
/// (non-`janitor.*`) attributes. URLs are redacted everywhere, the body included (every other
/// byte of it kept, so a JSON body is still JSON).
pub fn message_json(m: &DlqMessage) -> String {
    let image_urls: Vec<_> = m
        .image_urls
        .iter()
        .take(FIRST_IMAGES)
        .map(|u| redact::url(u))
        .collect();
    json!({
        "kind": "message",
        "message_id": m.message_id,
        "reason": m.reason,
        "detail": m.detail.as_deref().map(redact::text),
        "attempts": m.attempts,
        "failed_at": m.failed_at,
        "page_id": m.page_id,
        "image_urls": image_urls,
        "image_count": m.image_urls.len(),
        "body": redact::text(&m.body),
        "attributes": attributes_json(&m.original_attributes),
    })
    .to_string()
}

fn attributes_json(attrs: &Attributes) -> Value {
    let map: Map<String, Value> = attrs
        .iter()
        .map(|(k, a)| {
            let mut v = Map::new();
            v.insert("data_type".into(), a.data_type.clone().into());
            if let Some(s) = &a.string_value {
                v.insert("string_value".into(), redact::text(s).into());
            }
            if let Some(b) = &a.binary_value {
                let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
                v.insert("binary_value_hex".into(), hex.into());
            }
            (k.clone(), Value::Object(v))
        })
        .collect();
    Value::Object(map)
}

const COLUMNS: [(&str, usize); 7] = [
    ("MESSAGE ID", 36),
    ("REASON", 19),
    ("ATT", 3),
    ("FAILED AT", 20),
    ("PAGE ID", 36),
    ("FIRST IMAGE", 48),
    ("DETAIL", 72),
];

/// A readable fixed-width table, one row per message (header included; no trailing newline).
pub fn table(messages: &[DlqMessage]) -> String {
    let header: Vec<String> = COLUMNS.iter().map(|(h, _)| h.to_string()).collect();
    let mut lines = vec![row(&header)];
    for m in messages {
        let images = match m.image_urls.as_slice() {
            [] => "-".to_string(),
            [one] => redact::url(one).into_owned(),
            [first, rest @ ..] => {
                // Keep the count visible when the URL is cut.
                let more = format!(" (+{})", rest.len());
                let room = COLUMNS[5].1.saturating_sub(more.chars().count());
                format!("{}{more}", fit(&clean(&redact::url(first)), room))
            }
        };
        let cells = vec![
            m.message_id.clone(),
            or_dash(m.reason.as_deref()),
            m.attempts.map_or("-".into(), |a| a.to_string()),
            or_dash(m.failed_at.as_deref()),
            or_dash(m.page_id.as_deref()),
            images,
            or_dash(m.detail.as_deref().map(redact::text).as_deref()),
        ];
        lines.push(row(&cells));
    }
    lines.join("\n")
}

fn or_dash(v: Option<&str>) -> String {
    v.unwrap_or("-").to_string()
}

fn row(cells: &[String]) -> String {
    let last = COLUMNS.len() - 1;
    let mut out = String::new();
    for (i, (cell, (_, width))) in cells.iter().zip(COLUMNS).enumerate() {
        let text = fit(&clean(cell), width);
        if i == last {
            out.push_str(&text);
        } else {
            out.push_str(&format!("{text:<width$}  "));
        }
    }
    out.trim_end().to_string()
}

/// Control characters (newlines, escape sequences) become spaces.
pub fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Cut to `width` characters, marking the cut with `…`.
fn fit(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut cut: String = s.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// One line per message a dry run would move.
pub fn would_replay_line(m: &DlqMessage) -> String {
    format!(
        "would replay {} reason={} page_id={}",
        clean(&m.message_id),
        clean(m.reason.as_deref().unwrap_or("-")),
        clean(m.page_id.as_deref().unwrap_or("-"))
    )
}

/// One line per message moved.
pub fn replayed_line(m: &DlqMessage, new_id: &str) -> String {
    format!(
        "replayed {} reason={} page_id={} as {}",
        clean(&m.message_id),
        clean(m.reason.as_deref().unwrap_or("-")),
        clean(m.page_id.as_deref().unwrap_or("-")),
        clean(new_id)
    )
}

/// The last line of `dlq replay` (CONTRACT §5), exactly.
pub fn summary(replayed: u64, skipped: u64) -> String {
    format!("replayed {replayed} messages (skipped {skipped})")
}

#[cfg(test)]
mod tests {
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
}
