//! The configured endpoint: matching image URLs, and refusing malformed endpoint URLs.

use super::*;
use crate::s3url::tests::{check, ok};

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
fn ipv6_hosts_and_ports() {
    // Without a port, the scheme's default.
    let v6 = S3Endpoint::parse("http://[::1]").expect("endpoint");
    assert_eq!((v6.host(), v6.port()), ("[::1]", 80));
    let v4in6 = S3Endpoint::parse("https://[::ffff:127.0.0.1]/").expect("endpoint");
    assert_eq!((v4in6.host(), v4in6.port()), ("[::ffff:127.0.0.1]", 443));
    for bad in [
        "http://[]:9000",
        "http://[::1]x",
        "http://[::1]:",
        "http://localhost:+80",
        "http://localhost:-1",
        "http://localhost:65536",
        "http://loc@lhost",
    ] {
        let err = S3Endpoint::parse(bad).expect_err(bad);
        assert!(err.contains("invalid S3 endpoint URL"), "{bad}: {err}");
    }
    assert_eq!(
        parse_authority("[::1]x", 80),
        Err("junk after IPv6 host".to_string())
    );
    assert!(parse_authority("h:+80", 80).is_err_and(|e| e.contains("invalid port \"+80\"")));
    assert_eq!(parse_authority("h:0080", 443), Ok(("h".to_string(), 80)));
}
