//! Every accepted URL form, and the refusals, as tables.

use crate::s3url::tests::{check, ok};

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
fn every_aws_form_checks_its_region_label() {
    check(
        None,
        &[
            ("https://s3.eu-west-1.amazonaws.com/bkt/a", ok("bkt", "a")),
            (
                "https://s3.eu_west-1.amazonaws.com/bkt/a",
                Err("not an accepted AWS S3 host"),
            ),
            (
                "https://s3.dualstack.amazonaws.com/bkt/a",
                Err("not an accepted AWS S3 host"),
            ),
            (
                "https://bkt.s3.dualstack.eu_west-1.amazonaws.com/a",
                Err("not an accepted AWS S3 host"),
            ),
            (
                "https://bkt.s3.dualstack.EU-WEST-1.amazonaws.com/a",
                ok("bkt", "a"),
            ),
            (
                "https://bkt.s3.dualstack.amazonaws.com/a",
                Err("not an accepted AWS S3 host"),
            ),
            (
                "https://bkt.s3-.amazonaws.com/a",
                Err("not an accepted AWS S3 host"),
            ),
            (
                "https://bkt.s3-eu_west-1.amazonaws.com/a",
                Err("not an accepted AWS S3 host"),
            ),
        ],
    );
}
