//! The configured S3 endpoint (an emulator), and the scheme and authority (`HOST[:PORT]`)
//! parsing it shares with image URLs.

use std::fmt;

use super::quote::quote;
use crate::redact;

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
        let fail = |why: &str| {
            format!(
                "invalid S3 endpoint URL {}: {why}",
                quote(&redact::url(endpoint_url))
            )
        };
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

    pub(super) fn matches(&self, host: &str, port: u16) -> bool {
        self.host == host && self.port == port
    }
}

impl fmt::Display for S3Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scheme {
    S3,
    Http,
    Https,
}

impl Scheme {
    pub(super) fn default_port(self) -> Option<u16> {
        match self {
            Scheme::S3 => None,
            Scheme::Http => Some(80),
            Scheme::Https => Some(443),
        }
    }
}

/// Split `scheme://rest`; the scheme is matched case-insensitively (RFC 3986).
pub(super) fn split_scheme(url: &str) -> Result<(Scheme, &str), String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or("not an s3://, https:// or http:// URL")?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "s3" => Scheme::S3,
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        // What precedes "://" is only named when it cannot hold a query or userinfo.
        _ if !scheme.contains(['@', '?', '#', '/']) => {
            return Err(format!("unsupported scheme {}", quote(scheme)))
        }
        _ => return Err("not an s3://, https:// or http:// URL".to_string()),
    };
    Ok((scheme, rest))
}

/// `HOST[:PORT]` → (lowercased host, port or default). Userinfo is refused.
pub(super) fn parse_authority(authority: &str, default_port: u16) -> Result<(String, u16), String> {
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

#[cfg(test)]
#[path = "endpoint_tests.rs"]
mod tests;
