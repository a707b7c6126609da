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
#[path = "render_tests.rs"]
mod tests;
