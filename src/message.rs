//! The `page.created` v1 message (CONTRACT §2): body bytes → validated message → objects to delete; and the body `publish` sends. Pure, no I/O.
//!
//! Validation walks a `serde_json::Value` by hand instead of deriving
//! `Deserialize`, so that every failure maps to exactly the reason of
//! CONTRACT §4 (`type` is checked before `version`, a version that is an
//! integer other than 1 is `unsupported_version`, not `invalid_message`).

use std::collections::HashSet;

use serde_json::{Map, Number, Value};

use crate::reason::{Reason, Rejection};
use crate::s3url::{parse_url, quote, LocationPolicy, ObjectRef, S3Endpoint};

/// The only `type` accepted.
pub const MESSAGE_TYPE: &str = "page.created";
/// The only schema `version` accepted.
pub const SCHEMA_VERSION: u32 = 1;
/// At most this many images per message.
pub const MAX_IMAGES: usize = 1000;
/// `janitor.detail` is at most this many bytes (CONTRACT §4).
pub use crate::reason::MAX_DETAIL_BYTES;

/// A valid page.created v1 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageCreated {
    pub page_id: Option<String>,
    pub note_id: Option<String>,
    pub published_at: Option<String>,
    /// Each image's `s3_url`, in message order, not yet parsed.
    pub image_urls: Vec<String>,
}

/// A message ready to act on: the parsed message and its objects, deduplicated, first-seen order.
#[derive(Debug, Clone)]
pub struct Plan {
    pub message: PageCreated,
    pub objects: Vec<ObjectRef>,
}

/// Body bytes → message. Unwraps an SNS envelope
/// (`{"Type":"Notification","Message":"<json string>",...}`) once.
pub fn parse_body(body: &[u8]) -> Result<PageCreated, Rejection> {
    let text = std::str::from_utf8(body)
        .map_err(|e| reject(Reason::InvalidJson, format!("body is not UTF-8: {e}")))?;
    let value: Value = serde_json::from_str(text)
        .map_err(|e| reject(Reason::InvalidJson, format!("body is not JSON: {e}")))?;
    from_value(unwrap_sns(value)?)
}

/// [`parse_body`], then every image URL parsed and checked against the policy.
/// The whole message is refused if any URL fails: any invalid URL →
/// `invalid_url` (all URLs are checked for that first), else any URL outside
/// the policy → `forbidden_location`. The detail names the first culprit's index.
pub fn plan(
    body: &[u8],
    policy: &LocationPolicy,
    endpoint: Option<&S3Endpoint>,
) -> Result<Plan, Rejection> {
    let message = parse_body(body)?;
    let mut parsed = Vec::with_capacity(message.image_urls.len());
    let mut invalid = Vec::new();
    for (i, url) in message.image_urls.iter().enumerate() {
        match parse_url(url, endpoint) {
            Ok(obj) => parsed.push(obj),
            Err(why) => invalid.push(format!("images[{i}]: {why}")),
        }
    }
    if let Some(first) = invalid.first() {
        return Err(reject(
            Reason::InvalidUrl,
            and_more(first, invalid.len(), "invalid"),
        ));
    }
    let forbidden: Vec<String> = parsed
        .iter()
        .enumerate()
        .filter_map(|(i, obj)| {
            policy
                .check(obj)
                .err()
                .map(|why| format!("images[{i}]: {why}"))
        })
        .collect();
    if let Some(first) = forbidden.first() {
        return Err(reject(
            Reason::ForbiddenLocation,
            and_more(first, forbidden.len(), "forbidden"),
        ));
    }
    let mut seen = HashSet::with_capacity(parsed.len());
    let objects = parsed
        .into_iter()
        .filter(|obj| seen.insert(obj.clone()))
        .collect();
    Ok(Plan { message, objects })
}

/// The JSON body `image-janitor publish` sends; `page_id` / `note_id` are omitted when `None`.
pub fn build_body(
    page_id: Option<&str>,
    note_id: Option<&str>,
    urls: &[String],
    published_at: &str,
) -> String {
    // Written by hand (strings escaped by serde_json's infallible `Display`)
    // to keep the field order of the contract's example.
    let json = |s: &str| Value::from(s).to_string();
    let mut out = format!(
        "{{\"type\":{},\"version\":{SCHEMA_VERSION}",
        json(MESSAGE_TYPE)
    );
    for (name, value) in [("page_id", page_id), ("note_id", note_id)] {
        if let Some(v) = value {
            out.push_str(&format!(",\"{name}\":{}", json(v)));
        }
    }
    out.push_str(",\"images\":[");
    for (i, url) in urls.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!("{{\"s3_url\":{}}}", json(url)));
    }
    out.push_str(&format!("],\"published_at\":{}}}", json(published_at)));
    out
}

/// Unwrap `{"Type":"Notification","Message":"<string>"}` once; anything else passes through.
fn unwrap_sns(value: Value) -> Result<Value, Rejection> {
    let inner = match &value {
        Value::Object(map) if map.get("Type").and_then(Value::as_str) == Some("Notification") => {
            match map.get("Message") {
                Some(Value::String(inner)) => inner,
                _ => return Ok(value),
            }
        }
        _ => return Ok(value),
    };
    serde_json::from_str(inner).map_err(|e| {
        reject(
            Reason::InvalidJson,
            format!("the SNS envelope's Message is not JSON: {e}"),
        )
    })
}

fn from_value(value: Value) -> Result<PageCreated, Rejection> {
    let mut obj = match value {
        Value::Object(obj) => obj,
        other => {
            return Err(invalid(format!(
                "the message is {}, expected an object",
                kind(&other)
            )))
        }
    };
    match obj.get("type") {
        Some(Value::String(t)) if t == MESSAGE_TYPE => {}
        Some(Value::String(t)) => {
            return Err(invalid(format!(
                "type is {}, expected \"{MESSAGE_TYPE}\"",
                quote(t)
            )))
        }
        Some(other) => {
            return Err(invalid(format!(
                "type is {}, expected a string",
                kind(other)
            )))
        }
        None => return Err(invalid("missing field \"type\"")),
    }
    match obj.get("version") {
        Some(Value::Number(n)) => check_version(n)?,
        Some(other) => {
            return Err(invalid(format!(
                "version is {}, expected an integer",
                kind(other)
            )))
        }
        None => return Err(invalid("missing field \"version\"")),
    }
    let image_urls = match obj.remove("images") {
        Some(Value::Array(images)) => image_urls(images)?,
        Some(other) => {
            return Err(invalid(format!(
                "images is {}, expected an array",
                kind(&other)
            )))
        }
        None => return Err(invalid("missing field \"images\"")),
    };
    Ok(PageCreated {
        page_id: optional_string(&mut obj, "page_id")?,
        note_id: optional_string(&mut obj, "note_id")?,
        published_at: optional_string(&mut obj, "published_at")?,
        image_urls,
    })
}

/// An integer is a number with no fractional part (as in JSON Schema, so `1.0` is 1). Every
/// JSON integer converts to an f64 with no fractional part, so one test covers both forms.
fn check_version(n: &Number) -> Result<(), Rejection> {
    let integral = n.as_f64().is_some_and(|f| f.fract() == 0.0);
    if !integral {
        return Err(invalid(format!("version is {n}, expected an integer")));
    }
    if n.as_f64() != Some(f64::from(SCHEMA_VERSION)) {
        return Err(reject(
            Reason::UnsupportedVersion,
            format!("version {n} is not supported (only {SCHEMA_VERSION})"),
        ));
    }
    Ok(())
}

fn image_urls(images: Vec<Value>) -> Result<Vec<String>, Rejection> {
    if images.len() > MAX_IMAGES {
        return Err(invalid(format!(
            "{} images, more than {MAX_IMAGES}",
            images.len()
        )));
    }
    images
        .into_iter()
        .enumerate()
        .map(|(i, image)| match image {
            Value::Object(mut image) => match image.remove("s3_url") {
                Some(Value::String(url)) => Ok(url),
                Some(other) => Err(invalid(format!(
                    "images[{i}].s3_url is {}, expected a string",
                    kind(&other)
                ))),
                None => Err(invalid(format!("images[{i}] has no \"s3_url\""))),
            },
            other => Err(invalid(format!(
                "images[{i}] is {}, expected an object",
                kind(&other)
            ))),
        })
        .collect()
}

/// An optional string field: absent or `null` is `None`, any other non-string is refused.
fn optional_string(obj: &mut Map<String, Value>, field: &str) -> Result<Option<String>, Rejection> {
    match obj.remove(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(invalid(format!(
            "{field} is {}, expected a string",
            kind(&other)
        ))),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn and_more(first: &str, count: usize, what: &str) -> String {
    match count {
        0 | 1 => first.to_string(),
        n => format!("{first} (and {} more {what})", n - 1),
    }
}

fn invalid(detail: impl Into<String>) -> Rejection {
    reject(Reason::InvalidMessage, detail)
}

/// A rejection: [`Rejection::new`] redacts the detail, then makes it one line of at most
/// [`MAX_DETAIL_BYTES`].
fn reject(reason: Reason, detail: impl Into<String>) -> Rejection {
    Rejection::new(reason, detail)
}

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;
