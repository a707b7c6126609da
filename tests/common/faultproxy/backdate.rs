//! Backdating: S3 listings that pass through the proxy show chosen objects as written a known
//! time ago, so a sweep test gets stale and fresh objects side by side with no waiting: its
//! max age can be hours, and nothing races the wall clock or LastModified's one-second steps.
//!
//! Only ListObjects(V2) `<Contents>` entries are rewritten (what the sweeper reads); the objects
//! themselves are untouched, and a client talking to moto directly sees the real times.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderValue, CONTENT_LENGTH};
use hyper::{Response, StatusCode};
use time::macros::format_description;
use time::PrimitiveDateTime;

use super::rules::{Op, Service};
use super::Shared;

/// `key` → how long before its real LastModified it should appear written.
pub(super) type Ages = HashMap<String, Duration>;

/// A 200 listing with the LastModified of backdated keys moved back (see [`backdate`]).
pub(super) async fn listing(
    shared: &Arc<Shared>,
    op: &Op,
    resp: Response<Full<Bytes>>,
) -> Response<Full<Bytes>> {
    let listing = op.service == Service::S3 && op.name.starts_with("ListObjects");
    if !listing || resp.status() != StatusCode::OK || shared.lock().ages.is_empty() {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let rewritten = {
        let mut s = shared.lock();
        let out = rewrite(&bytes, &s.ages);
        if let Some((_, n)) = &out {
            s.backdated += n;
        }
        out
    };
    let Some((xml, _)) = rewritten else {
        return Response::from_parts(parts, Full::new(bytes));
    };
    parts
        .headers
        .insert(CONTENT_LENGTH, HeaderValue::from(xml.len()));
    Response::from_parts(parts, Full::new(Bytes::from(xml)))
}

/// The listing `xml` with the LastModified of every key in `ages` moved back; None when the body
/// is not UTF-8. Returns how many entries were rewritten.
pub(super) fn rewrite(xml: &[u8], ages: &Ages) -> Option<(String, u64)> {
    let text = std::str::from_utf8(xml).ok()?;
    let mut out = String::with_capacity(text.len());
    let mut rewritten = 0;
    let mut rest = text;
    const OPEN: &str = "<Contents>";
    const CLOSE: &str = "</Contents>";
    while let Some(start) = rest.find(OPEN) {
        let Some(len) = rest[start..].find(CLOSE) else {
            break;
        };
        let end = start + len + CLOSE.len();
        out.push_str(&rest[..start]);
        let entry = &rest[start..end];
        match backdate_entry(entry, ages) {
            Some(e) => {
                out.push_str(&e);
                rewritten += 1;
            }
            None => out.push_str(entry),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    Some((out, rewritten))
}

/// The text between `<tag>` and `</tag>` in `entry`, and where it starts.
fn element<'a>(entry: &'a str, tag: &str) -> Option<(usize, &'a str)> {
    let open = format!("<{tag}>");
    let start = entry.find(&open)? + open.len();
    let len = entry[start..].find(&format!("</{tag}>"))?;
    Some((start, &entry[start..start + len]))
}

/// One `<Contents>` entry with its LastModified moved back, or None when its key is not in `ages`
/// (or the timestamp is not `YYYY-MM-DDTHH:MM:SS...`).
fn backdate_entry(entry: &str, ages: &Ages) -> Option<String> {
    let (_, raw_key) = element(entry, "Key")?;
    let key = quick_xml::escape::unescape(raw_key).ok()?;
    let by = ages.get(key.as_ref())?;
    let (at, stamp) = element(entry, "LastModified")?;
    // `2026-11-27T20:31:47.000Z`: rewrite the first 19 characters, keep the fraction and zone,
    // so the body keeps its length.
    let head = stamp.get(..19)?;
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let t = PrimitiveDateTime::parse(head, &format).ok()?;
    let moved = t.checked_sub(time::Duration::try_from(*by).ok()?)?;
    let new_head = moved.format(&format).ok()?;
    let mut out = String::with_capacity(entry.len());
    out.push_str(&entry[..at]);
    out.push_str(&new_head);
    out.push_str(&entry[at + 19..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_back_only_the_named_keys() {
        let xml = "<ListBucketResult><Contents><Key>a&amp;b.jpg</Key><LastModified>2026-11-27T20:31:47.000Z</LastModified></Contents><Contents><Key>c.jpg</Key><LastModified>2026-11-27T20:31:47.000Z</LastModified></Contents></ListBucketResult>";
        let ages: Ages = [("a&b.jpg".to_owned(), Duration::from_secs(86_400 + 61))].into();
        let (out, n) = rewrite(xml.as_bytes(), &ages).expect("utf-8");
        assert_eq!(n, 1);
        assert_eq!(out.len(), xml.len());
        assert!(out.contains(
            "<Key>a&amp;b.jpg</Key><LastModified>2026-11-26T20:30:46.000Z</LastModified>"
        ));
        assert!(out.contains("<Key>c.jpg</Key><LastModified>2026-11-27T20:31:47.000Z"));
    }
}
