//! Shared table helpers for the s3url tests, and the rules every detail line follows (redacted, one line, bounded).

use super::*;

pub(super) fn ok(bucket: &str, key: &str) -> Result<ObjectRef, &'static str> {
    Ok(ObjectRef::new(bucket, key))
}

/// Run a table: each row is (url, expected object or a fragment of the error).
pub(super) fn check(endpoint: Option<&S3Endpoint>, rows: &[(&str, Result<ObjectRef, &str>)]) {
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
fn details_never_quote_a_query_or_userinfo() {
    const SECRET: &str = "SecretTokenValue0123456789abcdef";
    let q = format!("X-Amz-Credential=AKIA{SECRET}%2F20261126&X-Amz-Security-Token={SECRET}&X-Amz-Signature={SECRET}");
    let endpoint = S3Endpoint::parse("http://127.0.0.1:4566").expect("endpoint");
    let rows: Vec<(String, &str)> = vec![
        (
            format!("https://bkt.s3.amazonaws.com/k%zz.jpg?{q}"),
            "invalid percent-encoding",
        ),
        (
            format!("https://u:{SECRET}@bkt.s3.amazonaws.com/k.jpg?{q}"),
            "userinfo",
        ),
        (format!("bkt.s3.amazonaws.com/k.jpg?{q}"), "not an s3://"),
        (
            format!("https://example.com/bkt/k.jpg?{q}"),
            "neither an accepted AWS S3 host",
        ),
        (
            format!("http://bkt.s3.amazonaws.com/k.jpg?{q}"),
            "http:// is accepted only",
        ),
        (
            format!("https://bkt.s3.amazonaws.com/k/../x.jpg#{q}"),
            "path segment",
        ),
        (
            format!("s3://u:{SECRET}@bkt/k.jpg"),
            "invalid bucket name \"<redacted>@bkt\"",
        ),
        (
            format!("s3://bkt?{q}/k.jpg"),
            "invalid bucket name \"bkt?<redacted>\"",
        ),
        (format!("u@h?{q}://bkt/k"), "not an s3://"),
        // quote() cuts at 200 characters: redacted first, the cut cannot land in the query.
        (
            format!("https://bkt.s3.amazonaws.com/{}%zz?{q}", "k".repeat(150)),
            "%zz?<redacted>",
        ),
        (
            format!("https://bkt.s3.amazonaws.com/{}%zz?{q}", "k".repeat(190)),
            "...",
        ),
    ];
    for (url, frag) in &rows {
        let err = parse_url(url, Some(&endpoint)).expect_err(url);
        assert!(err.contains(frag), "{url}: {err:?} lacks {frag:?}");
        assert!(!err.contains(SECRET), "{url}: {err:?}");
    }
    // An s3:// key is literal: a '?' in it is kept for deletion, hidden in details.
    let obj = parse_url(&format!("s3://bkt/other/x.jpg?{q}"), None).expect("valid");
    assert!(obj.key.contains(SECRET));
    let policy = LocationPolicy::new(["bkt".to_string()], "keep-images/");
    let err = policy.check(&obj).expect_err("outside the prefix");
    assert!(err.contains("\"other/x.jpg?<redacted>\""), "{err}");
    let err =
        S3Endpoint::parse(&format!("http://u:{SECRET}@localhost:4566/?{q}")).expect_err("userinfo");
    assert!(!err.contains(SECRET), "{err}");
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
