//! Unit tests of `store::s3`.

use super::*;

fn keys(ks: &[&str]) -> Vec<String> {
    ks.iter().map(|k| k.to_string()).collect()
}

fn err<'a>(key: Option<&'a str>, code: &'a str) -> DeleteError<'a> {
    DeleteError {
        key,
        code,
        message: "m",
    }
}

#[test]
fn keys_not_listed_and_no_such_key_are_deleted() {
    let out = delete_outcomes(
        &keys(&["a", "b", "c"]),
        [err(Some("b"), "NoSuchKey"), err(Some("c"), "AccessDenied")].into_iter(),
    );
    assert!(out[0].result.is_ok());
    assert!(out[1].result.is_ok());
    let e = out[2].result.as_ref().unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.class),
        ("AccessDenied", ErrorClass::Permanent)
    );
}

#[test]
fn an_error_without_a_key_leaves_the_rest_unconfirmed() {
    let out = delete_outcomes(
        &keys(&["a", "b", "c"]),
        [err(None, "InternalError"), err(Some("c"), "AccessDenied")].into_iter(),
    );
    for o in &out[..2] {
        let e = o.result.as_ref().unwrap_err();
        assert_eq!(e.code, "UnattributedError");
        assert_eq!(e.class, ErrorClass::Transient);
    }
    assert_eq!(out[2].result.as_ref().unwrap_err().code, "AccessDenied");
}
