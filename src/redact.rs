//! Redaction: how a URL, or free text that may hold URLs, is shown outside the message body — query strings, fragments and userinfo become a fixed marker. Pure, no I/O.
//!
//! Why: the contract accepts presigned URLs, whose query strings carry `X-Amz-Credential`,
//! `X-Amz-Signature` and often `X-Amz-Security-Token`; whoever holds one can read the object
//! until it expires. Log pipelines, `janitor.detail` and `dlq peek` output reach more people
//! and live longer than the queue, so none of that leaves the message body (which itself stays
//! byte-identical in the DLQ, CONTRACT §4).
//!
//! Plain string handling, no URL parser: the URLs that most need redacting are the ones that
//! fail to parse (a bad percent-escape, no scheme), and a parser that gives up would leave them
//! whole. The rules over-redact rather than under-redact:
//! - [`url`]: everything from the first `?` or `#` on becomes `?<redacted>` / `#<redacted>`;
//!   everything before the last `@` of the authority becomes `<redacted>`. Parameter names are
//!   not kept: a "name" is producer-controlled text like any value.
//! - [`text`]: every `scheme://…` (or JSON-escaped `scheme:\/\/…`) in free text is put through
//!   [`url`], up to the next whitespace or `"`; then, as a backstop for a query outside any
//!   recognisable URL, the value of any `…signature=`, `…credential=`, `…token=`,
//!   `…accesskeyid=`, `sig=` or `password=` (also `%3D`), case-insensitive, is redacted.
//!
//! Both are idempotent, and [`text`] leaves every other byte in place: a JSON body stays valid
//! JSON (a backslash run before a closing quote is kept, so escapes are never cut in half).

use std::borrow::Cow;

/// What replaces a query string, a fragment, userinfo or a secret parameter's value.
pub const MARKER: &str = "<redacted>";

/// Parameter names whose values are secrets wherever they appear (matched as suffixes of the
/// name, case-insensitively: `X-Amz-Signature` ends in `signature`).
const SECRET_NAMES: [&str; 6] = [
    "signature",
    "credential",
    "token",
    "accesskeyid",
    "password",
    "sig",
];

/// One URL (well-formed or not) as it may be shown: query, fragment and userinfo redacted.
/// `https://u:p@h/k?X-Amz-Signature=s#f` → `https://<redacted>@h/k?<redacted>`.
pub fn url(u: &str) -> Cow<'_, str> {
    let start = authority_start(u);
    let cut = u[start..].find(['?', '#']).map(|i| start + i);
    let head_end = cut.unwrap_or(u.len());
    let auth_end = u[start..head_end].find('/').map_or(head_end, |i| start + i);
    let at = u[start..auth_end].rfind('@').map(|i| start + i);
    if cut.is_none() && at.is_none() {
        return Cow::Borrowed(u);
    }
    let mut out = String::with_capacity(head_end + 2 * MARKER.len() + 1);
    out.push_str(&u[..start]);
    match at {
        Some(at) => {
            out.push_str(MARKER);
            out.push_str(&u[at..head_end]);
        }
        None => out.push_str(&u[start..head_end]),
    }
    if let Some(cut) = cut {
        out.push_str(&u[cut..cut + 1]);
        out.push_str(MARKER);
    }
    Cow::Owned(out)
}

/// A string that is not a whole URL but may end in a query (an object key taken literally from
/// an `s3://` URL): everything from the first `?` or `#` on is redacted; nothing else changes.
pub fn query(s: &str) -> Cow<'_, str> {
    match s.find(['?', '#']) {
        Some(cut) => Cow::Owned(format!("{}{MARKER}", &s[..=cut])),
        None => Cow::Borrowed(s),
    }
}

/// Free text (a detail line, a message body): every URL in it through [`url`], then the
/// secret-parameter backstop. Every other byte is kept.
pub fn text(s: &str) -> Cow<'_, str> {
    match urls_in(s) {
        Cow::Borrowed(s) => secret_params(s),
        Cow::Owned(o) => Cow::Owned(secret_params(&o).into_owned()),
    }
}

/// Where the authority starts: after `scheme://` (or `scheme:\/\/`), after a leading `//`, or
/// at 0 when there is no scheme (a malformed URL: its first segment is taken as the authority).
fn authority_start(u: &str) -> usize {
    for sep in ["://", ":\\/\\/"] {
        if let Some(i) = u.find(sep) {
            if is_scheme(&u[..i]) {
                return i + sep.len();
            }
        }
    }
    if u.starts_with("//") {
        2
    } else {
        0
    }
}

fn is_scheme(s: &str) -> bool {
    s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic()) && s.bytes().all(is_scheme_byte)
}

fn is_scheme_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')
}

/// Where a URL or a parameter value embedded in text ends.
fn ends_embedded(c: char) -> bool {
    c.is_whitespace() || c.is_control() || c == '"'
}

/// `end` moved back over a run of backslashes right before a closing `"`: in JSON text they
/// escape that quote and must stay with it.
fn before_escape(s: &str, start: usize, end: usize) -> usize {
    let bytes = s.as_bytes();
    if bytes.get(end) != Some(&b'"') {
        return end;
    }
    let mut e = end;
    while e > start && bytes[e - 1] == b'\\' {
        e -= 1;
    }
    e
}

/// Every `scheme://…` / `scheme:\/\/…` in `s` through [`url`].
fn urls_in(s: &str) -> Cow<'_, str> {
    let bytes = s.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut search = 0;
    while let Some(rel) = s[search..].find(':') {
        let colon = search + rel;
        search = colon + 1;
        let after = &s[colon + 1..];
        let sep = if after.starts_with("//") {
            2
        } else if after.starts_with("\\/\\/") {
            4
        } else {
            continue;
        };
        let mut first = colon;
        while first > copied && is_scheme_byte(bytes[first - 1]) {
            first -= 1;
        }
        while first < colon && !bytes[first].is_ascii_alphabetic() {
            first += 1;
        }
        if first == colon {
            continue;
        }
        let rest = colon + 1 + sep;
        let end = s[rest..].find(ends_embedded).map_or(s.len(), |i| rest + i);
        let end = before_escape(s, rest, end);
        if let Cow::Owned(redacted) = url(&s[first..end]) {
            out.push_str(&s[copied..first]);
            out.push_str(&redacted);
            copied = end;
        }
        search = search.max(end);
    }
    if copied == 0 {
        return Cow::Borrowed(s);
    }
    out.push_str(&s[copied..]);
    Cow::Owned(out)
}

/// The backstop: the value after `<secret name>=` (or `%3D`) becomes the marker.
fn secret_params(s: &str) -> Cow<'_, str> {
    let lower = s.to_ascii_lowercase();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for name in SECRET_NAMES {
        for (at, _) in lower.match_indices(name) {
            let after = at + name.len();
            let value = if lower[after..].starts_with('=') {
                after + 1
            } else if lower[after..].starts_with("%3d") {
                after + 3
            } else {
                continue;
            };
            let end = s[value..]
                .find(|c: char| ends_embedded(c) || c == '&' || c == '\'')
                .map_or(s.len(), |i| value + i);
            let end = before_escape(s, value, end);
            if end > value && &s[value..end] != MARKER {
                spans.push((value, end));
            }
        }
    }
    if spans.is_empty() {
        return Cow::Borrowed(s);
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(s.len());
    let mut copied = 0;
    for (start, end) in spans {
        if start < copied {
            // Inside a value already redacted (a name inside a value): extend it, no 2nd marker.
            copied = copied.max(end);
            continue;
        }
        out.push_str(&s[copied..start]);
        out.push_str(MARKER);
        copied = end;
    }
    out.push_str(&s[copied..]);
    Cow::Owned(out)
}

#[cfg(test)]
#[path = "redact_tests.rs"]
mod tests;
