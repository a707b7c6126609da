//! The accepted image URL forms (CONTRACT §2): `s3://`, virtual-hosted and path-style AWS
//! hosts, and the configured endpoint. Split by hand on the raw string (see `mod.rs` on why).

use super::bucket::validate_bucket;
use super::endpoint::{parse_authority, split_scheme, S3Endpoint, Scheme};
use super::key::{decode_key, validate_key};
use super::quote::quote;
use super::ObjectRef;
use crate::redact;

/// Parse one image URL into an object (CONTRACT §2). `Err` is one line of
/// human detail naming the problem and quoting the URL (→ `invalid_url`).
pub fn parse_url(url: &str, endpoint: Option<&S3Endpoint>) -> Result<ObjectRef, String> {
    // Redacted before `quote` cuts it: the cut never leaves part of a query behind.
    parse_unquoted(url, endpoint).map_err(|why| format!("{why}: {}", quote(&redact::url(url))))
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

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
