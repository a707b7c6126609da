//! One failed AWS call, classified once in the adapter: [`AwsError`] and its [`ErrorClass`]
//! (transient: retry later; permanent: give up now). Pure: no SDK type here (see `aws.rs`).

use std::fmt;

/// What the caller should do about a failure: try again later, or give up now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Throttling, 5xx, timeouts, connection errors: worth retrying.
    Transient,
    /// Access denied, missing bucket, bad input: retrying cannot help.
    Permanent,
}

impl ErrorClass {
    /// Label value used in metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Transient => "transient",
            ErrorClass::Permanent => "permanent",
        }
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One failed AWS call (or one failed entry of a batch call), classified once, in the adapter.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{service} {operation} failed ({class}): {code}: {message}")]
pub struct AwsError {
    pub service: &'static str,
    pub operation: &'static str,
    /// The AWS error code (`AccessDenied`, `SlowDown`, ...) or a local kind (`dispatch`, `timeout`).
    pub code: String,
    pub message: String,
    pub class: ErrorClass,
    pub request_id: Option<String>,
}

impl AwsError {
    pub fn is_transient(&self) -> bool {
        self.class == ErrorClass::Transient
    }

    /// The request was refused because the signing clock differs from AWS's: a problem of this
    /// node, not of the message, so it never counts toward `retries_exhausted`.
    pub fn is_clock_skew(&self) -> bool {
        is_clock_skew(&self.code, &self.message)
    }
}

/// `RequestTimeTooSkewed` (S3), `RequestExpired`, and SQS's signature-expired refusals.
pub fn is_clock_skew(code: &str, message: &str) -> bool {
    matches!(code, "RequestTimeTooSkewed" | "RequestExpired")
        || (matches!(code, "InvalidSignatureException" | "SignatureDoesNotMatch")
            && message.contains("Signature expired"))
}

/// Error codes that AWS services use for throttling and server-side trouble.
pub fn classify_code(code: &str, http_status: Option<u16>) -> ErrorClass {
    const TRANSIENT_CODES: &[&str] = &[
        "SlowDown",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "InternalFailure",
        "ServiceUnavailable",
        "RequestThrottled",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "KMS.ThrottlingException",
        "OperationAborted",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
        "IDPCommunicationError",
        "ExpiredToken",
        "ExpiredTokenException",
        // The node's clock is off (or a request sat too long before it was sent). The SDK
        // corrects its signing clock from the response's Date header and retries; never a
        // reason to dead-letter a message or stop the daemon.
        "RequestExpired",
        "RequestTimeTooSkewed",
        // SQS: too many messages in flight (120,000 on a standard queue). Receive again later.
        "OverLimit",
        "AWS.SimpleQueueService.OverLimit",
    ];
    if TRANSIENT_CODES.contains(&code) || code.starts_with("Throttling") {
        return ErrorClass::Transient;
    }
    match http_status {
        Some(429) | Some(500..=599) => ErrorClass::Transient,
        _ => ErrorClass::Permanent,
    }
}

#[cfg(test)]
mod tests {
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
}
