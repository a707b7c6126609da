//! The bucket-name rule, alone and as image URLs see it.

use super::*;
use crate::s3url::parse_url;
use crate::s3url::tests::ok;

#[test]
fn bucket_names() {
    for good in [
        "abc",
        "keep-notion-sync-images",
        "a.b.c",
        "my-bkt.2",
        "0ab",
        &"b".repeat(63),
    ] {
        assert!(valid_bucket_name(good), "{good:?}");
        assert_eq!(validate_bucket(good), Ok(()), "{good:?}");
    }
    for bad in [
        "",
        "ab",
        "Upper",
        "-dash",
        "dash-",
        ".dot",
        "dot.",
        "a..b",
        "b_kt",
        "bkt ",
        "b/kt",
        &"b".repeat(64),
    ] {
        assert!(!valid_bucket_name(bad), "{bad:?}");
        let err = validate_bucket(bad).expect_err(bad);
        assert!(err.starts_with("invalid bucket name"), "{err}");
    }
}

#[test]
fn bucket_length_limits() {
    let b63 = "b".repeat(63);
    let b64 = "b".repeat(64);
    assert_eq!(
        parse_url(&format!("s3://{b63}/k"), None),
        ok(&b63, "k").map_err(String::from)
    );
    assert!(
        parse_url(&format!("s3://{b64}/k"), None).is_err_and(|e| e.contains("invalid bucket name"))
    );
    assert!(parse_url("s3://abc/k", None).is_ok());
}
