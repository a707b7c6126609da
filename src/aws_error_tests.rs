//! Unit tests of `aws_error`.

use super::*;

#[test]
fn throttling_and_5xx_are_transient() {
    for code in [
        "SlowDown",
        "ThrottlingException",
        "Throttling.Foo",
        "RequestTimeout",
    ] {
        assert_eq!(
            classify_code(code, Some(400)),
            ErrorClass::Transient,
            "{code}"
        );
    }
    assert_eq!(classify_code("Whatever", Some(503)), ErrorClass::Transient);
    assert_eq!(classify_code("Whatever", Some(429)), ErrorClass::Transient);
}

#[test]
fn clock_skew_and_over_limit_are_transient() {
    for (code, status) in [
        ("RequestTimeTooSkewed", 403),
        ("RequestExpired", 400),
        ("OverLimit", 403),
        ("AWS.SimpleQueueService.OverLimit", 403),
    ] {
        assert_eq!(
            classify_code(code, Some(status)),
            ErrorClass::Transient,
            "{code}"
        );
    }
    assert!(is_clock_skew("RequestTimeTooSkewed", ""));
    assert!(is_clock_skew(
        "InvalidSignatureException",
        "Signature expired: 20261127T100000Z is now earlier than 20261127T101000Z"
    ));
    assert!(!is_clock_skew("InvalidSignatureException", "bad key"));
    assert!(!is_clock_skew("SlowDown", ""));
}

#[test]
fn access_and_missing_bucket_are_permanent() {
    for code in ["AccessDenied", "NoSuchBucket", "InvalidArgument"] {
        assert_eq!(
            classify_code(code, Some(403)),
            ErrorClass::Permanent,
            "{code}"
        );
    }
}

fn error(code: &str, class: ErrorClass) -> AwsError {
    AwsError {
        service: "s3",
        operation: "DeleteObjects",
        code: code.into(),
        message: "slow down".into(),
        class,
        request_id: None,
    }
}

#[test]
fn class_names_and_error_text() {
    assert_eq!(ErrorClass::Transient.as_str(), "transient");
    assert_eq!(ErrorClass::Permanent.to_string(), "permanent");
    let e = error("SlowDown", ErrorClass::Transient);
    assert!(e.is_transient());
    assert!(!error("AccessDenied", ErrorClass::Permanent).is_transient());
    assert_eq!(
        e.to_string(),
        "s3 DeleteObjects failed (transient): SlowDown: slow down"
    );
}

#[test]
fn clock_skew_is_read_from_the_error() {
    assert!(error("RequestTimeTooSkewed", ErrorClass::Transient).is_clock_skew());
    assert!(!error("SlowDown", ErrorClass::Transient).is_clock_skew());
}
