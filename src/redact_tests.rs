//! Table tests for `redact`: presigned queries, userinfo, fragments, encoded keys, malformed URLs, JSON bodies, cut details.

use super::*;

const SIG: &str = "a7c3e1f09b5d4e2f8a6c0b1d3e5f7a9c2b4d6e8f0a1c3e5f7b9d1f3a5c7e9b0d";
const CRED: &str = "AKIAIOSFODNN7EXAMPLE";
const TOKEN: &str = "IQoJb3JpZ2luX2VjEJr0123TOKENxyz";

/// A presigned query as the AWS SDKs write it.
fn presigned_query() -> String {
    format!(
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={CRED}%2F20261126%2Fus-east-1%2Fs3%2Faws4_request\
         &X-Amz-Date=20261126T030000Z&X-Amz-Expires=3600&X-Amz-Security-Token={TOKEN}\
         &X-Amz-SignedHeaders=host&X-Amz-Signature={SIG}"
    )
}

fn assert_no_secret(shown: &str, input: &str) {
    for secret in [SIG, CRED, TOKEN, "hunter2", "s3cr3t"] {
        assert!(
            !shown.contains(secret),
            "{input:?} → {shown:?} still holds {secret}"
        );
    }
}

#[test]
fn urls() {
    let q = presigned_query();
    let rows: Vec<(String, &str)> = vec![
        // Presigned, every accepted form.
        (
            format!("https://bkt.s3.amazonaws.com/keep-images/a.jpg?{q}"),
            "https://bkt.s3.amazonaws.com/keep-images/a.jpg?<redacted>",
        ),
        (
            format!("https://s3.us-east-1.amazonaws.com/bkt/keep-images/a.jpg?{q}#frag"),
            "https://s3.us-east-1.amazonaws.com/bkt/keep-images/a.jpg?<redacted>",
        ),
        (
            format!("http://127.0.0.1:4566/bkt/k.png?{q}"),
            "http://127.0.0.1:4566/bkt/k.png?<redacted>",
        ),
        // Nothing to hide: unchanged.
        (
            "https://bkt.s3.amazonaws.com/keep-images/a.jpg".into(),
            "https://bkt.s3.amazonaws.com/keep-images/a.jpg",
        ),
        (
            "s3://bkt/keep-images/a@2x.png".into(),
            "s3://bkt/keep-images/a@2x.png",
        ),
        ("".into(), ""),
        // Fragments, and whichever of ? and # comes first.
        (
            "https://h.example/k#s3cr3t".into(),
            "https://h.example/k#<redacted>",
        ),
        (
            "https://h.example/k#f?x=s3cr3t".into(),
            "https://h.example/k#<redacted>",
        ),
        (
            "https://h.example/k?#".into(),
            "https://h.example/k?<redacted>",
        ),
        (
            "https://h.example?sig=s3cr3t".into(),
            "https://h.example?<redacted>",
        ),
        // Userinfo: everything before the authority's last '@'.
        (
            format!("https://{CRED}:hunter2@bkt.s3.amazonaws.com/a.jpg?{q}"),
            "https://<redacted>@bkt.s3.amazonaws.com/a.jpg?<redacted>",
        ),
        (
            "https://a@b:hunter2@host/k".into(),
            "https://<redacted>@host/k",
        ),
        ("HTTPS://u:hunter2@H/k".into(), "HTTPS://<redacted>@H/k"),
        ("s3://u:hunter2@bkt/k".into(), "s3://<redacted>@bkt/k"),
        ("//u:hunter2@h/k".into(), "//<redacted>@h/k"),
        // '@' after the authority is not userinfo.
        ("https://h/a@b/c@d".into(), "https://h/a@b/c@d"),
        ("https://h/k?u=a@b".into(), "https://h/k?<redacted>"),
        // Percent-encoded '&', '=', '?' and '#' in the key are the key, not a query.
        (
            format!("https://bkt.s3.amazonaws.com/a%26b%3Dc%3Fd%23e.jpg?{q}"),
            "https://bkt.s3.amazonaws.com/a%26b%3Dc%3Fd%23e.jpg?<redacted>",
        ),
        (
            "https://bkt.s3.amazonaws.com/a%26X-Amz-Signature%3Dpublic.jpg".into(),
            "https://bkt.s3.amazonaws.com/a%26X-Amz-Signature%3Dpublic.jpg",
        ),
        // Malformed: a bad percent-escape, no scheme, junk schemes, unicode, control characters.
        (
            format!("https://bkt.s3.amazonaws.com/a%zz.jpg?{q}"),
            "https://bkt.s3.amazonaws.com/a%zz.jpg?<redacted>",
        ),
        (
            format!("bkt.s3.amazonaws.com/a.jpg?{q}"),
            "bkt.s3.amazonaws.com/a.jpg?<redacted>",
        ),
        (
            "u:hunter2@bkt.s3.amazonaws.com/a".into(),
            "<redacted>@bkt.s3.amazonaws.com/a",
        ),
        (format!("?{q}"), "?<redacted>"),
        (format!("ht tp://h/k?{q}"), "ht tp://h/k?<redacted>"),
        (
            "https://h/日本.jpg?sig=日本s3cr3t".into(),
            "https://h/日本.jpg?<redacted>",
        ),
        (
            "https://h/a\nb?x=s3cr3t\n".into(),
            "https://h/a\nb?<redacted>",
        ),
        // Already redacted: unchanged (idempotent).
        (
            "https://<redacted>@h/k?<redacted>".into(),
            "https://<redacted>@h/k?<redacted>",
        ),
    ];
    for (input, want) in &rows {
        let got = url(input);
        assert_eq!(got, *want, "{input:?}");
        assert_no_secret(&got, input);
        assert_eq!(url(&got), got, "not idempotent: {input:?}");
    }
    assert!(matches!(url("s3://bkt/k"), Cow::Borrowed(_)));
}

#[test]
fn key_queries() {
    let rows = [
        (
            "other/x.jpg?X-Amz-Signature=s3cr3t",
            "other/x.jpg?<redacted>",
        ),
        ("a#s3cr3t", "a#<redacted>"),
        ("user@host/a.jpg", "user@host/a.jpg"),
        ("keep-images/a b.jpg", "keep-images/a b.jpg"),
    ];
    for (input, want) in rows {
        assert_eq!(query(input), want, "{input:?}");
    }
}

#[test]
fn free_text() {
    let q = presigned_query();
    let rows: Vec<(String, String)> = vec![
        // A detail line, quoted URL in the middle.
        (
            format!("images[0]: invalid percent-encoding at byte 3 of the key: \"https://bkt.s3.amazonaws.com/a%zz?{q}\" (and 1 more invalid)"),
            "images[0]: invalid percent-encoding at byte 3 of the key: \"https://bkt.s3.amazonaws.com/a%zz?<redacted>\" (and 1 more invalid)".into(),
        ),
        // Several URLs, one at the very end with no terminator.
        (
            format!("first https://u:hunter2@h/a?{q} then s3://b/k#x and http://h/c?{q}"),
            "first https://<redacted>@h/a?<redacted> then s3://b/k#<redacted> and http://h/c?<redacted>".into(),
        ),
        // A detail cut mid-token by an older version (e.g. shown by `dlq peek`).
        (
            format!("images[0]: bad: \"https://h/k?{}...", &q[..q.len() - 20]),
            "images[0]: bad: \"https://h/k?<redacted>".into(),
        ),
        // No URL and no secret parameter: byte for byte.
        (
            "s3://b/keep-images/a.jpg: S3 refused the delete: AccessDenied: Access Denied".into(),
            "s3://b/keep-images/a.jpg: S3 refused the delete: AccessDenied: Access Denied".into(),
        ),
        ("no colon at all".into(), "no colon at all".into()),
        ("ratio 1:2 and C://x and ://y".into(), "ratio 1:2 and C://x and ://y".into()),
        // Backstop: a query outside any recognisable URL (schemeless, or a literal s3 key).
        (
            format!("key \"other/x.jpg?{q}\" in bucket \"b\""),
                "key \"other/x.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=<redacted>\
                 &X-Amz-Date=20261126T030000Z&X-Amz-Expires=3600&X-Amz-Security-Token=<redacted>\
                 &X-Amz-SignedHeaders=host&X-Amz-Signature=<redacted>\" in bucket \"b\""
                .to_string(),
        ),
        (
            format!("x-amz-signature%3D{SIG}%26AWSAccessKeyId%3D{CRED} password=hunter2 sig={SIG}"),
            "x-amz-signature%3D<redacted> password=<redacted> sig=<redacted>".into(),
        ),
        ("empty signature= stays".into(), "empty signature= stays".into()),
    ];
    for (input, want) in &rows {
        let got = text(input);
        assert_eq!(&got, want, "{input:?}");
        assert_no_secret(&got, input);
        assert_eq!(text(&got), got, "not idempotent: {input:?}");
    }
    assert!(matches!(text("AccessDenied on s3://b/k"), Cow::Borrowed(_)));
}

/// Bodies as producers write them: every other byte kept, still valid JSON, secrets gone.
#[test]
fn json_bodies_stay_json() {
    let q = presigned_query();
    let url = format!("https://bkt.s3.amazonaws.com/keep-images/a.jpg?{q}");
    let python = format!(
        "{{\"type\": \"page.created\", \"version\": 1, \"images\": [{{\"s3_url\": \"{url}\"}}, {{\"s3_url\": \"s3://bkt/keep-images/b.jpg\"}}]}}"
    );
    // Go's encoding/json escapes '&'; PHP's json_encode escapes '/'.
    let go = python.replace('&', "\\u0026");
    let php = python.replace('/', "\\/");
    let sns = serde_json::json!({"Type": "Notification", "Message": python, "Signature": "EXAMPLEpublic=="})
        .to_string();
    let sns_of_go = serde_json::json!({"Type": "Notification", "Message": go}).to_string();
    for body in [&python, &go, &php, &sns, &sns_of_go] {
        let shown = text(body);
        assert_no_secret(&shown, body);
        let v: serde_json::Value = serde_json::from_str(&shown)
            .unwrap_or_else(|e| panic!("{shown}\nis not JSON any more: {e}"));
        let inner: serde_json::Value = match v["Message"].as_str() {
            Some(m) => serde_json::from_str(m).expect("inner JSON"),
            None => v,
        };
        assert_eq!(
            inner["images"][0]["s3_url"],
            "https://bkt.s3.amazonaws.com/keep-images/a.jpg?<redacted>",
            "{shown}"
        );
        assert_eq!(inner["images"][1]["s3_url"], "s3://bkt/keep-images/b.jpg");
        assert_eq!(inner["type"], "page.created");
    }
    // The SNS signature is public (not a secret) and, as a JSON key, not `signature=`: kept.
    assert!(text(&sns).contains("EXAMPLEpublic=="));
    // A body with nothing to hide is returned as is.
    let plain = r#"{"type":"page.created","version":1,"images":[{"s3_url":"s3://b/k"}]}"#;
    assert!(matches!(text(plain), Cow::Borrowed(_)));
}
