//! Image URL → `ObjectRef { bucket, key }` (CONTRACT §2) and the bucket/prefix location policy (§3); pure, no I/O.
//!
//! URLs are split by hand on the raw string rather than with the `url` crate:
//! `url` normalises `.`/`..` segments and re-encodes characters, which would
//! hide exactly the keys we must refuse.

use std::collections::BTreeSet;
use std::fmt;

use percent_encoding::percent_decode_str;

/// The longest key S3 accepts, in bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 1024;

/// How many characters of a URL or key a detail line quotes.
const QUOTE_CHARS: usize = 200;

/// One S3 object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    pub bucket: String,
    pub key: String,
}

impl ObjectRef {
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        ObjectRef {
            bucket: bucket.into(),
            key: key.into(),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// The configured S3 endpoint (an emulator), from `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`.
///
/// Only host (lowercased) and port (explicit, or the scheme's default) are
/// kept: an image URL matches when both are equal, whatever its scheme.
/// Hosts are compared literally (`localhost` is not `127.0.0.1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Endpoint {
    host: String,
    port: u16,
}

impl S3Endpoint {
    /// `http(s)://HOST[:PORT][/]`; a path, query, fragment or userinfo is refused.
    pub fn parse(endpoint_url: &str) -> Result<S3Endpoint, String> {
        let fail = |why: &str| format!("invalid S3 endpoint URL {}: {why}", quote(endpoint_url));
        let (scheme, rest) = split_scheme(endpoint_url).map_err(|e| fail(&e))?;
        let default_port = scheme
            .default_port()
            .ok_or_else(|| fail("expected http:// or https://"))?;
        let (authority, tail) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
        if !(tail.is_empty() || tail == "/") {
            return Err(fail("a path, query or fragment is not supported"));
        }
        let (host, port) = parse_authority(authority, default_port).map_err(|e| fail(&e))?;
        Ok(S3Endpoint { host, port })
    }

    /// The host, lowercased (IPv6 literals keep their brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, explicit or the scheme's default (80 / 443).
    pub fn port(&self) -> u16 {
        self.port
    }

    fn matches(&self, host: &str, port: u16) -> bool {
        self.host == host && self.port == port
    }
}

impl fmt::Display for S3Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// Parse one image URL into an object (CONTRACT §2). `Err` is one line of
/// human detail naming the problem and quoting the URL (→ `invalid_url`).
pub fn parse_url(url: &str, endpoint: Option<&S3Endpoint>) -> Result<ObjectRef, String> {
    parse_unquoted(url, endpoint).map_err(|why| format!("{why}: {}", quote(url)))
}

fn parse_unquoted(url: &str, endpoint: Option<&S3Endpoint>) -> Result<ObjectRef, String> {
    let (scheme, rest) = split_scheme(url)?;
    let obj = match scheme {
        Scheme::S3 => {
            // Everything after the bucket's '/' is the key, literally: '%', '?', '#' included.
            let (bucket, key) = rest
                .split_once('/')
                .ok_or("s3:// URL has no key (expected s3://BUCKET/KEY)")?;
            validate_bucket(bucket)?;
            ObjectRef::new(bucket, key)
        }
        Scheme::Http | Scheme::Https => parse_http(scheme, rest, endpoint)?,
    };
    validate_key(&obj.key)?;
    Ok(obj)
}

/// Key rules: 1..=1024 bytes, no `.` or `..` segment (split on `/`), no control character, no
/// Unicode noncharacter (U+FFFE, U+FFFF, U+FDD0–U+FDEF, and the last two of every plane): XML 1.0
/// cannot carry U+FFFE/U+FFFF at all, so a DeleteObjects naming one is refused as MalformedXML for
/// every key in the request, and S3 advises against the rest.
pub fn validate_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("empty key".to_string());
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(format!(
            "key is {} bytes, longer than {MAX_KEY_BYTES}",
            key.len()
        ));
    }
    if let Some(c) = key.chars().find(|c| c.is_control()) {
        return Err(format!(
            "key contains control character U+{:04X}",
            u32::from(c)
        ));
    }
    if let Some(c) = key.chars().find(|&c| is_noncharacter(c)) {
        return Err(format!(
            "key contains Unicode noncharacter U+{:04X}, which S3's XML requests cannot carry",
            u32::from(c)
        ));
    }
    if key.split('/').any(|seg| seg == "." || seg == "..") {
        return Err("key has a \".\" or \"..\" path segment".to_string());
    }
    Ok(())
}

fn is_noncharacter(c: char) -> bool {
    let n = u32::from(c);
    (0xFDD0..=0xFDEF).contains(&n) || (n & 0xFFFE) == 0xFFFE
}

/// `JANITOR_BUCKETS` + `JANITOR_PREFIX` (CONTRACT §3): where deletion is allowed.
#[derive(Debug, Clone)]
pub struct LocationPolicy {
    buckets: BTreeSet<String>,
    prefix: String,
    /// Objects never deleted even when bucket and prefix allow them: the sweeper's lease
    /// (which lies under the prefix when `JANITOR_PREFIX` is empty).
    excluded: Vec<ObjectRef>,
}

impl LocationPolicy {
    /// Bucket names are taken as given (trimming and splitting is config's job).
    pub fn new(buckets: impl IntoIterator<Item = String>, prefix: impl Into<String>) -> Self {
        LocationPolicy {
            buckets: buckets.into_iter().collect(),
            prefix: prefix.into(),
            excluded: Vec::new(),
        }
    }

    /// The same policy, refusing `obj` as well.
    pub fn excluding(mut self, obj: ObjectRef) -> Self {
        if !self.excluded.contains(&obj) {
            self.excluded.push(obj);
        }
        self
    }

    /// Bucket in the set and key starting with the prefix (bytewise; an empty prefix allows every key).
    pub fn allows(&self, obj: &ObjectRef) -> bool {
        self.buckets.contains(&obj.bucket)
            && obj.key.starts_with(&self.prefix)
            && !self.excluded.contains(obj)
    }

    /// Like [`allows`](Self::allows); `Err` names the rule that failed (→ `forbidden_location`).
    pub fn check(&self, obj: &ObjectRef) -> Result<(), String> {
        if !self.buckets.contains(&obj.bucket) {
            let allowed: Vec<&str> = self.buckets().collect();
            return Err(format!(
                "bucket {} is not in JANITOR_BUCKETS ({})",
                quote(&obj.bucket),
                truncate(&allowed.join(","))
            ));
        }
        if !obj.key.starts_with(&self.prefix) {
            return Err(format!(
                "key {} in bucket {} does not start with JANITOR_PREFIX {}",
                quote(&obj.key),
                quote(&obj.bucket),
                quote(&self.prefix)
            ));
        }
        if self.excluded.contains(obj) {
            return Err(format!(
                "key {} in bucket {} is the sweeper's lease object; it is never deleted",
                quote(&obj.key),
                quote(&obj.bucket)
            ));
        }
        Ok(())
    }

    /// The allowed buckets, sorted.
    pub fn buckets(&self) -> impl Iterator<Item = &str> {
        self.buckets.iter().map(String::as_str)
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

/// A string for a detail line: at most 200 characters, in double quotes,
/// control characters escaped so the detail stays on one line.
pub(crate) fn quote(s: &str) -> String {
    let cut = truncate(s);
    if cut.len() < s.len() {
        format!("{cut:?}...")
    } else {
        format!("{cut:?}")
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(QUOTE_CHARS) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    S3,
    Http,
    Https,
}

impl Scheme {
    fn default_port(self) -> Option<u16> {
        match self {
            Scheme::S3 => None,
            Scheme::Http => Some(80),
            Scheme::Https => Some(443),
        }
    }
}

/// Split `scheme://rest`; the scheme is matched case-insensitively (RFC 3986).
fn split_scheme(url: &str) -> Result<(Scheme, &str), String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or("not an s3://, https:// or http:// URL")?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "s3" => Scheme::S3,
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        _ => return Err(format!("unsupported scheme {}", quote(scheme))),
    };
    Ok((scheme, rest))
}

/// `HOST[:PORT]` → (lowercased host, port or default). Userinfo is refused.
fn parse_authority(authority: &str, default_port: u16) -> Result<(String, u16), String> {
    if authority.contains('@') {
        return Err("userinfo (user@host) is not allowed".to_string());
    }
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']').ok_or("unterminated IPv6 host")?;
        let (host, after) = authority.split_at(end + 1);
        let inner = &host[1..end];
        if inner.is_empty()
            || !inner
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err(format!("invalid IPv6 host {}", quote(host)));
        }
        match after {
            "" => (host, None),
            _ => (
                host,
                Some(after.strip_prefix(':').ok_or("junk after IPv6 host")?),
            ),
        }
    } else {
        let (host, port) = match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        let host_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
        if host.is_empty() || !host.chars().all(host_char) {
            return Err(format!("invalid host {}", quote(host)));
        }
        (host, port)
    };
    let port = match port {
        None => default_port,
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p
            .parse()
            .map_err(|_| format!("invalid port {}", quote(p)))?,
        Some(p) => return Err(format!("invalid port {}", quote(p))),
    };
    Ok((host.to_ascii_lowercase(), port))
}

/// Where the bucket of an http(s) URL is: in the host, or the path's first segment.
enum Style {
    Virtual(String),
    Path,
}

fn parse_http(
    scheme: Scheme,
    rest: &str,
    endpoint: Option<&S3Endpoint>,
) -> Result<ObjectRef, String> {
    // A query string or fragment (a presigned URL's signature) is ignored.
    let rest = &rest[..rest.find(['?', '#']).unwrap_or(rest.len())];
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let default_port = if scheme == Scheme::Https { 443 } else { 80 };
    let (host, port) = parse_authority(authority, default_port)?;

    let style = if endpoint.is_some_and(|e| e.matches(&host, port)) {
        Style::Path
    } else if scheme == Scheme::Http {
        return Err(match endpoint {
            Some(e) => format!("http:// is accepted only for the configured S3 endpoint {e}"),
            None => {
                "http:// is accepted only for a configured S3 endpoint (none is set)".to_string()
            }
        });
    } else if port != 443 {
        return Err(format!(
            "port {port} is not the configured S3 endpoint nor an AWS S3 host"
        ));
    } else {
        aws_style(&host).ok_or_else(|| match endpoint {
            Some(e) => format!("host {host} is neither an accepted AWS S3 host form nor the configured S3 endpoint {e}"),
            None => format!("host {host} is not an accepted AWS S3 host form"),
        })?
    };

    let path = path
        .strip_prefix('/')
        .ok_or("URL has no path (expected /KEY or /BUCKET/KEY)")?;
    let (bucket, raw_key) = match style {
        Style::Virtual(bucket) => (bucket, path),
        Style::Path => {
            let (bucket, key) = path
                .split_once('/')
                .ok_or("path-style URL has no key (expected /BUCKET/KEY)")?;
            (bucket.to_string(), key)
        }
    };
    validate_bucket(&bucket)?;
    Ok(ObjectRef {
        bucket,
        key: decode_key(raw_key)?,
    })
}

/// Recognise the AWS host forms of CONTRACT §2 (host already lowercased).
fn aws_style(host: &str) -> Option<Style> {
    let labels: Vec<&str> = host.strip_suffix(".amazonaws.com")?.split('.').collect();
    let virt = |bucket: &[&str]| (!bucket.is_empty()).then(|| Style::Virtual(bucket.join(".")));
    match labels.as_slice() {
        ["s3"] => Some(Style::Path),
        ["s3", region] if is_region(region) => Some(Style::Path),
        [bucket @ .., "s3"] => virt(bucket),
        [bucket @ .., "s3", "dualstack", region] if is_region(region) => virt(bucket),
        [bucket @ .., "s3", region] if is_region(region) => virt(bucket),
        [bucket @ .., last] if last.strip_prefix("s3-").is_some_and(is_region) => virt(bucket),
        _ => None,
    }
}

fn is_region(label: &str) -> bool {
    !label.is_empty()
        && label != "dualstack"
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// 3..=63 of `[a-z0-9.-]`, starting and ending with a letter or digit, no `..`.
fn validate_bucket(bucket: &str) -> Result<(), String> {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = bucket.as_bytes();
    let ok = (3..=63).contains(&bytes.len())
        && bytes.iter().all(|&b| alnum(b) || b == b'.' || b == b'-')
        && bytes.first().copied().is_some_and(alnum)
        && bytes.last().copied().is_some_and(alnum)
        && !bucket.contains("..");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid bucket name {} (3 to 63 of a-z 0-9 . -, starting and ending with a letter or digit)",
            quote(bucket)
        ))
    }
}

/// Percent-decode a path once; every `%` must start a `%XX` escape and the result must be UTF-8.
fn decode_key(raw: &str) -> Result<String, String> {
    for (i, _) in raw.match_indices('%') {
        let hex = raw.get(i + 1..i + 3);
        if !hex.is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit())) {
            return Err(format!("invalid percent-encoding at byte {i} of the key"));
        }
    }
    percent_decode_str(raw)
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|_| "percent-decoded key is not valid UTF-8".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(bucket: &str, key: &str) -> Result<ObjectRef, &'static str> {
        Ok(ObjectRef::new(bucket, key))
    }

    /// Run a table: each row is (url, expected object or a fragment of the error).
    fn check(endpoint: Option<&S3Endpoint>, rows: &[(&str, Result<ObjectRef, &str>)]) {
        for (url, want) in rows {
            let got = parse_url(url, endpoint);
            match (want, &got) {
                (Ok(w), Ok(g)) => assert_eq!(w, g, "{url}"),
                (Err(frag), Err(detail)) => {
                    assert!(
                        detail.contains(frag),
                        "{url}: detail {detail:?} lacks {frag:?}"
                    );
                    assert!(
                        !detail.contains('\n') && !detail.contains('\r'),
                        "{url}: {detail:?}"
                    );
                    assert!(detail.len() <= 1024, "{url}: detail too long");
                }
                _ => panic!("{url}: want {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn s3_scheme() {
        check(
            None,
            &[
                (
                    "s3://keep-notion-sync-images/keep-images/note-123/a.jpg",
                    ok("keep-notion-sync-images", "keep-images/note-123/a.jpg"),
                ),
                ("S3://bkt/a.jpg", ok("bkt", "a.jpg")),
                ("s3://my.bucket.name/a/b", ok("my.bucket.name", "a/b")),
                ("s3://bkt/b%20c.png", ok("bkt", "b%20c.png")),
                ("s3://bkt/a?x=1#f", ok("bkt", "a?x=1#f")),
                ("s3://bkt/a+b c.jpg", ok("bkt", "a+b c.jpg")),
                ("s3://bkt/%2E%2E/x", ok("bkt", "%2E%2E/x")),
                ("s3://bkt//double//slash", ok("bkt", "/double//slash")),
                ("s3://bkt/日本.jpg", ok("bkt", "日本.jpg")),
                ("s3://bkt/.hidden/..x/a.", ok("bkt", ".hidden/..x/a.")),
                ("s3://bkt", Err("has no key")),
                ("s3://bkt/", Err("empty key")),
                ("s3:///key", Err("invalid bucket name")),
                ("s3://bkt/a/../b", Err("path segment")),
                ("s3://bkt/./b", Err("path segment")),
                ("s3://bkt/..", Err("path segment")),
                ("s3://bkt/a/.", Err("path segment")),
                ("s3://bkt/a\nb", Err("U+000A")),
                ("s3://bkt/a\u{7f}", Err("U+007F")),
                ("s3://bkt/a\u{85}", Err("U+0085")),
                ("s3://user@bkt/k", Err("invalid bucket name")),
                ("s3://bkt:9000/k", Err("invalid bucket name")),
            ],
        );
    }

    #[test]
    fn aws_hosts() {
        check(
            None,
            &[
                // Virtual-hosted, every form.
                ("https://bkt.s3.amazonaws.com/a.jpg", ok("bkt", "a.jpg")),
                ("https://bkt.s3.us-east-1.amazonaws.com/keep-images/note-123/b%20c.png", ok("bkt", "keep-images/note-123/b c.png")),
                ("https://bkt.s3-us-west-2.amazonaws.com/a", ok("bkt", "a")),
                ("https://bkt.s3-external-1.amazonaws.com/a", ok("bkt", "a")),
                ("https://bkt.s3.dualstack.eu-west-1.amazonaws.com/a", ok("bkt", "a")),
                ("https://my.bucket.s3.us-east-1.amazonaws.com/a", ok("my.bucket", "a")),
                ("https://my.s3.bucket.s3.amazonaws.com/a", ok("my.s3.bucket", "a")),
                ("https://a.b.c.s3.dualstack.ap-southeast-2.amazonaws.com/x/y", ok("a.b.c", "x/y")),
                ("https://BKT.S3.US-EAST-1.AmazonAWS.com/Key.JPG", ok("bkt", "Key.JPG")),
                ("HTTPS://bkt.s3.amazonaws.com/a", ok("bkt", "a")),
                ("https://bkt.s3.amazonaws.com:443/a", ok("bkt", "a")),
                // Path-style.
                ("https://s3.amazonaws.com/bkt/a/b.jpg", ok("bkt", "a/b.jpg")),
                ("https://s3.us-east-1.amazonaws.com/bkt/a", ok("bkt", "a")),
                ("https://S3.EU-CENTRAL-1.amazonaws.com/my.bkt/a", ok("my.bkt", "a")),
                // Presigned URLs and fragments: query and fragment ignored.
                ("https://bkt.s3.us-east-1.amazonaws.com/a.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20261126%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261126T030000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=abc123", ok("bkt", "a.jpg")),
                ("https://s3.amazonaws.com/bkt/a.jpg?AWSAccessKeyId=x&Expires=1&Signature=y%2B", ok("bkt", "a.jpg")),
                ("https://bkt.s3.amazonaws.com/a.jpg#frag", ok("bkt", "a.jpg")),
                ("https://bkt.s3.amazonaws.com/a.jpg?x#y", ok("bkt", "a.jpg")),
                // Percent-decoding, exactly once.
                ("https://bkt.s3.amazonaws.com/a%2Bb.jpg", ok("bkt", "a+b.jpg")),
                ("https://bkt.s3.amazonaws.com/a+b.jpg", ok("bkt", "a+b.jpg")),
                ("https://bkt.s3.amazonaws.com/%E6%97%A5%E6%9C%AC.jpg", ok("bkt", "日本.jpg")),
                ("https://bkt.s3.amazonaws.com/%e6%97%a5.jpg", ok("bkt", "日.jpg")),
                ("https://bkt.s3.amazonaws.com/a%2520b", ok("bkt", "a%20b")),
                ("https://bkt.s3.amazonaws.com/100%25.jpg", ok("bkt", "100%.jpg")),
                ("https://bkt.s3.amazonaws.com/a%2Fb", ok("bkt", "a/b")),
                ("https://bkt.s3.amazonaws.com/a%3Fb", ok("bkt", "a?b")),
                ("https://bkt.s3.amazonaws.com/日本.jpg", ok("bkt", "日本.jpg")),
                ("https://bkt.s3.amazonaws.com//a", ok("bkt", "/a")),
            ],
        );
    }

    #[test]
    fn rejected_http_urls() {
        check(
            None,
            &[
                (
                    "http://bkt.s3.amazonaws.com/a",
                    Err("http:// is accepted only"),
                ),
                (
                    "http://s3.us-east-1.amazonaws.com/bkt/a",
                    Err("http:// is accepted only"),
                ),
                ("https://bkt.s3.amazonaws.com:8443/a", Err("port 8443")),
                ("https://user@bkt.s3.amazonaws.com/a", Err("userinfo")),
                ("https://user:pw@s3.amazonaws.com/bkt/a", Err("userinfo")),
                (
                    "https://evil.example#@bkt.s3.amazonaws.com/a",
                    Err("not an accepted AWS S3 host"),
                ),
                (
                    "https://example.com/bkt/a",
                    Err("not an accepted AWS S3 host"),
                ),
                (
                    "https://bkt.s3.amazonaws.com.evil.com/a",
                    Err("not an accepted AWS S3 host"),
                ),
                (
                    "https://bkt.s3.amazonaws.com./a",
                    Err("not an accepted AWS S3 host"),
                ),
                (
                    "https://amazonaws.com/bkt/a",
                    Err("not an accepted AWS S3 host"),
                ),
                (
                    "https://bkt.ec2.amazonaws.com/a",
                    Err("not an accepted AWS S3 host"),
                ),
                (
                    "https://bkt.s3-accesspoint.us-east-1.amazonaws.com/a",
                    Err("not an accepted AWS S3 host"),
                ),
                (
                    "https://bkt.s3.amazonaws.com.cn/a",
                    Err("not an accepted AWS S3 host"),
                ),
                (
                    "https://s3.dualstack.us-east-1.amazonaws.com/bkt/a",
                    Err("not an accepted AWS S3 host"),
                ),
                (
                    "https://s3-us-west-2.amazonaws.com/bkt/a",
                    Err("not an accepted AWS S3 host"),
                ),
                (
                    "https://bkt.s3..amazonaws.com/a",
                    Err("not an accepted AWS S3 host"),
                ),
                (
                    "https://bkt.s3.us_east.amazonaws.com/a",
                    Err("not an accepted AWS S3 host"),
                ),
                ("https:///a", Err("invalid host")),
                ("https://bkt .s3.amazonaws.com/a", Err("invalid host")),
                ("https://bkt.s3.amazonaws.com:/a", Err("invalid port")),
                ("https://bkt.s3.amazonaws.com:99999/a", Err("invalid port")),
                // Keys.
                ("https://bkt.s3.amazonaws.com", Err("has no path")),
                ("https://bkt.s3.amazonaws.com?x=1", Err("has no path")),
                ("https://bkt.s3.amazonaws.com/", Err("empty key")),
                (
                    "https://bkt.s3.amazonaws.com/?X-Amz-Signature=1",
                    Err("empty key"),
                ),
                ("https://s3.amazonaws.com/bkt", Err("has no key")),
                ("https://s3.amazonaws.com/bkt/", Err("empty key")),
                ("https://bkt.s3.amazonaws.com/a/../b", Err("path segment")),
                (
                    "https://bkt.s3.amazonaws.com/a/%2E%2E/b",
                    Err("path segment"),
                ),
                ("https://bkt.s3.amazonaws.com/a/%2e/b", Err("path segment")),
                (
                    "https://bkt.s3.amazonaws.com/a%2F..%2Fb",
                    Err("path segment"),
                ),
                ("https://bkt.s3.amazonaws.com/..", Err("path segment")),
                (
                    "https://s3.amazonaws.com/bkt/../other/a",
                    Err("path segment"),
                ),
                (
                    "https://s3.amazonaws.com/../bkt/a",
                    Err("invalid bucket name"),
                ),
                ("https://bkt.s3.amazonaws.com/a%0Ab", Err("U+000A")),
                ("https://bkt.s3.amazonaws.com/a%00", Err("U+0000")),
                ("https://bkt.s3.amazonaws.com/a%7F", Err("U+007F")),
                (
                    "https://bkt.s3.amazonaws.com/a%",
                    Err("invalid percent-encoding"),
                ),
                (
                    "https://bkt.s3.amazonaws.com/a%2",
                    Err("invalid percent-encoding"),
                ),
                (
                    "https://bkt.s3.amazonaws.com/a%GG",
                    Err("invalid percent-encoding"),
                ),
                (
                    "https://bkt.s3.amazonaws.com/a%%41",
                    Err("invalid percent-encoding"),
                ),
                (
                    "https://bkt.s3.amazonaws.com/a%é",
                    Err("invalid percent-encoding"),
                ),
                (
                    "https://bkt.s3.amazonaws.com/%FF.jpg",
                    Err("not valid UTF-8"),
                ),
                (
                    "https://bkt.s3.amazonaws.com/%E6%97.jpg",
                    Err("not valid UTF-8"),
                ),
                // Buckets (path-style buckets are not percent-decoded).
                (
                    "https://s3.amazonaws.com/MyBucket/a",
                    Err("invalid bucket name"),
                ),
                (
                    "https://s3.amazonaws.com/b%6Bt/a",
                    Err("invalid bucket name"),
                ),
                ("https://s3.amazonaws.com/ab/a", Err("invalid bucket name")),
                ("https://ab.s3.amazonaws.com/a", Err("invalid bucket name")),
                (
                    "https://-bkt.s3.amazonaws.com/a",
                    Err("invalid bucket name"),
                ),
                (
                    "https://bkt-.s3.amazonaws.com/a",
                    Err("invalid bucket name"),
                ),
                (
                    "https://b..kt.s3.amazonaws.com/a",
                    Err("invalid bucket name"),
                ),
                (
                    "https://b_kt.s3.amazonaws.com/a",
                    Err("invalid bucket name"),
                ),
                // Schemes and non-URLs.
                ("ftp://bkt/a", Err("unsupported scheme")),
                ("file:///etc/passwd", Err("unsupported scheme")),
                ("gs://bkt/a", Err("unsupported scheme")),
                ("bkt/a.jpg", Err("not an s3://")),
                ("", Err("not an s3://")),
                (" s3://bkt/a", Err("unsupported scheme")),
                ("s3:/bkt/a", Err("not an s3://")),
            ],
        );
    }

    #[test]
    fn bucket_length_limits() {
        let b63 = "b".repeat(63);
        let b64 = "b".repeat(64);
        assert_eq!(
            parse_url(&format!("s3://{b63}/k"), None),
            ok(&b63, "k").map_err(String::from)
        );
        assert!(parse_url(&format!("s3://{b64}/k"), None)
            .is_err_and(|e| e.contains("invalid bucket name")));
        assert!(parse_url("s3://abc/k", None).is_ok());
    }

    #[test]
    fn configured_endpoint() {
        let local = S3Endpoint::parse("http://LocalHost:4566").expect("endpoint");
        assert_eq!((local.host(), local.port()), ("localhost", 4566));
        check(
            Some(&local),
            &[
                (
                    "http://localhost:4566/bkt/a/b%20c.png",
                    ok("bkt", "a/b c.png"),
                ),
                ("http://LOCALHOST:4566/bkt/a", ok("bkt", "a")),
                ("https://localhost:4566/bkt/a", ok("bkt", "a")),
                (
                    "http://localhost:4566/bkt/a?X-Amz-Signature=1",
                    ok("bkt", "a"),
                ),
                ("http://localhost:4566/bkt/a%2B%2520", ok("bkt", "a+%20")),
                (
                    "http://localhost/bkt/a",
                    Err("configured S3 endpoint localhost:4566"),
                ),
                (
                    "http://localhost:4567/bkt/a",
                    Err("configured S3 endpoint localhost:4566"),
                ),
                (
                    "http://127.0.0.1:4566/bkt/a",
                    Err("configured S3 endpoint localhost:4566"),
                ),
                (
                    "https://example.com/bkt/a",
                    Err("nor the configured S3 endpoint localhost:4566"),
                ),
                ("http://bkt.localhost:4566/a", Err("configured S3 endpoint")),
                ("http://u@localhost:4566/bkt/a", Err("userinfo")),
                ("http://localhost:4566/bkt", Err("has no key")),
                ("http://localhost:4566/bkt/../x", Err("path segment")),
                ("http://localhost:4566/Bkt/x", Err("invalid bucket name")),
                // AWS forms still work with an endpoint configured.
                ("https://bkt.s3.amazonaws.com/a", ok("bkt", "a")),
                ("s3://bkt/a", ok("bkt", "a")),
            ],
        );
        // Default ports filled in on both sides.
        let default80 = S3Endpoint::parse("http://minio.local/").expect("endpoint");
        assert_eq!(default80.port(), 80);
        check(
            Some(&default80),
            &[
                ("http://minio.local/bkt/a", ok("bkt", "a")),
                ("http://minio.local:80/bkt/a", ok("bkt", "a")),
                (
                    "https://minio.local/bkt/a",
                    Err("configured S3 endpoint minio.local:80"),
                ),
            ],
        );
        let tls = S3Endpoint::parse("https://s3.internal:443").expect("endpoint");
        check(Some(&tls), &[("https://s3.internal/bkt/a", ok("bkt", "a"))]);
        let v6 = S3Endpoint::parse("http://[::1]:9000").expect("endpoint");
        assert_eq!(v6.host(), "[::1]");
        check(
            Some(&v6),
            &[
                ("http://[::1]:9000/bkt/a", ok("bkt", "a")),
                ("http://[::2]:9000/bkt/a", Err("configured S3 endpoint")),
            ],
        );
    }

    #[test]
    fn endpoint_parse_errors() {
        for bad in [
            "localhost:4566",
            "s3://localhost",
            "ftp://localhost",
            "http://",
            "http://localhost:port",
            "http://localhost:",
            "http://u:p@localhost:4566",
            "http://localhost:4566/prefix",
            "http://localhost:4566?x",
            "http://[::1",
            "http://[zz]:1",
        ] {
            let err = S3Endpoint::parse(bad).expect_err(bad);
            assert!(err.contains("invalid S3 endpoint URL"), "{bad}: {err}");
        }
        assert_eq!(
            S3Endpoint::parse("HTTPS://Example.COM").map(|e| e.to_string()),
            Ok("example.com:443".to_string())
        );
    }

    #[test]
    fn key_limits() {
        assert!(validate_key(&"k".repeat(1024)).is_ok());
        assert!(validate_key(&"k".repeat(1025)).is_err_and(|e| e.contains("1025 bytes")));
        // Bytes, not characters: 341 * 3 bytes + 1 = 1024, one more character is 1027.
        assert!(validate_key(&format!("{}k", "日".repeat(341))).is_ok());
        assert!(validate_key(&format!("{}k", "日".repeat(342))).is_err());
        let long = format!("https://bkt.s3.amazonaws.com/{}", "k".repeat(1024));
        assert_eq!(parse_url(&long, None).map(|o| o.key.len()), Ok(1024));
        // 1024 bytes only after decoding: an encoded path may be longer than the key.
        let encoded = format!("https://bkt.s3.amazonaws.com/{}", "%41".repeat(1024));
        assert_eq!(parse_url(&encoded, None).map(|o| o.key.len()), Ok(1024));
        let too_long = format!("s3://bkt/{}", "k".repeat(1025));
        assert!(parse_url(&too_long, None)
            .is_err_and(|e| e.contains("longer than 1024") && e.len() < 400));
        for bad in [
            "", ".", "..", "a/./b", "../a", "a/..", "a\tb", "a\u{0}", "a\u{9f}",
        ] {
            assert!(validate_key(bad).is_err(), "{bad:?}");
        }
        for good in [
            "a",
            "a.",
            ".a",
            "...",
            "a/.../b",
            "a//b",
            "/a",
            "a/",
            " ",
            "日本/画像.jpg",
        ] {
            assert_eq!(validate_key(good), Ok(()), "{good:?}");
        }
    }

    #[test]
    fn details_are_one_bounded_line() {
        let url = format!("s3://bkt/{}\n{}", "x".repeat(500), "y".repeat(500));
        let err = parse_url(&url, None).expect_err("control char");
        assert!(!err.contains('\n') && err.ends_with("\"..."), "{err}");
        assert!(err.len() < 400, "{}", err.len());
        let err = parse_url("s3://bkt/a\nb", None).expect_err("control char");
        assert!(err.contains("\"s3://bkt/a\\nb\""), "{err}");
    }

    #[test]
    fn display() {
        assert_eq!(
            ObjectRef::new("bkt", "a/b c.jpg").to_string(),
            "s3://bkt/a/b c.jpg"
        );
        let obj = parse_url("https://bkt.s3.amazonaws.com/a%20b", None).expect("valid");
        assert_eq!(parse_url(&obj.to_string(), None), Ok(obj));
    }

    #[test]
    fn location_policy() {
        let policy = LocationPolicy::new(
            ["b2".to_string(), "keep-images".to_string()],
            "keep-images/",
        );
        assert_eq!(policy.buckets().collect::<Vec<_>>(), ["b2", "keep-images"]);
        assert_eq!(policy.prefix(), "keep-images/");
        let rows: &[(&str, &str, Option<&str>)] = &[
            ("keep-images", "keep-images/a.jpg", None),
            ("b2", "keep-images/x/y", None),
            ("keep-images", "keep-images/", None),
            (
                "other",
                "keep-images/a.jpg",
                Some("bucket \"other\" is not in JANITOR_BUCKETS (b2,keep-images)"),
            ),
            (
                "keep-images",
                "keep-imagesX/a.jpg",
                Some("does not start with JANITOR_PREFIX \"keep-images/\""),
            ),
            ("keep-images", "Keep-images/a.jpg", Some("JANITOR_PREFIX")),
            ("keep-images", "a.jpg", Some("JANITOR_PREFIX")),
            ("KEEP-IMAGES", "keep-images/a.jpg", Some("JANITOR_BUCKETS")),
        ];
        for (bucket, key, want) in rows {
            let obj = ObjectRef::new(*bucket, *key);
            let got = policy.check(&obj);
            assert_eq!(policy.allows(&obj), got.is_ok(), "{obj}");
            match want {
                None => assert_eq!(got, Ok(()), "{obj}"),
                Some(frag) => assert!(
                    got.as_ref().is_err_and(|e| e.contains(frag)),
                    "{obj}: {got:?}"
                ),
            }
        }
        let open = LocationPolicy::new(["b".to_string()], "");
        assert!(open.allows(&ObjectRef::new("b", "anything/at/all")));
        assert!(!open.allows(&ObjectRef::new("c", "anything")));
        let none = LocationPolicy::new(Vec::new(), "");
        assert!(!none.allows(&ObjectRef::new("b", "k")));
    }

    #[test]
    fn noncharacters_are_invalid_keys() {
        for c in [
            '\u{FFFE}',
            '\u{FFFF}',
            '\u{FDD0}',
            '\u{FDEF}',
            '\u{1FFFE}',
            '\u{10FFFF}',
        ] {
            let url = format!("s3://bkt/keep-images/a{c}b.jpg");
            let err = parse_url(&url, None).expect_err("noncharacter");
            assert!(err.contains("noncharacter"), "{err}");
        }
        // Their neighbours are ordinary characters.
        for c in ['\u{FFFD}', '\u{FDCF}', '\u{FDF0}', '\u{1F600}'] {
            let url = format!("s3://bkt/keep-images/a{c}b.jpg");
            assert!(parse_url(&url, None).is_ok(), "{c:?}");
        }
        // Percent-encoded in an https URL: decoded first, then refused.
        let err = parse_url(
            "https://bkt.s3.amazonaws.com/keep-images/a%EF%BF%BEb.jpg",
            None,
        )
        .expect_err("encoded U+FFFE");
        assert!(err.contains("U+FFFE"), "{err}");
    }

    #[test]
    fn an_excluded_object_is_refused_even_with_an_empty_prefix() {
        let lease = ObjectRef::new("bkt", "image-janitor/sweeper.lease");
        let policy = LocationPolicy::new(["bkt".to_string()], "").excluding(lease.clone());
        assert!(!policy.allows(&lease));
        let err = policy.check(&lease).expect_err("lease");
        assert!(err.contains("lease"), "{err}");
        assert!(policy.allows(&ObjectRef::new("bkt", "image-janitor/other")));
    }
}
