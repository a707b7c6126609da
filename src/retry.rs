//! Error classification (transient vs permanent) and the backoff policies built on it.

use std::fmt;
use std::time::Duration;

use backon::ExponentialBuilder;

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
    pub fn class(&self) -> ErrorClass {
        self.class
    }

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

/// In-process retry for transient delete failures: exponential with full jitter, bounded.
/// Total worst-case wait is about 0.2 + 0.4 + 0.8 + 1.6 = 3 s before the message is released.
pub fn delete_backoff() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(2))
        .with_factor(2.0)
        .with_max_times(4)
        .with_jitter()
}

/// Backoff for a receive loop or poller whose AWS call failed: never a hot loop.
pub fn loop_backoff() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(250))
        .with_max_delay(Duration::from_secs(20))
        .with_factor(2.0)
        .without_max_times()
        .with_jitter()
}

/// Visibility delay for a message released after in-process retries failed: grows with the
/// receive count (5 s, 10 s, 20 s, ... capped at 15 min), with ±20 % jitter so that messages
/// that failed together do not all come back together.
pub fn release_delay(receive_count: u32) -> Duration {
    let exp = receive_count.saturating_sub(1).min(16);
    let base = 5u64.saturating_mul(1u64 << exp).min(900);
    let jitter = 0.8 + fastrand::f64() * 0.4;
    Duration::from_secs_f64(base as f64 * jitter).min(Duration::from_secs(900))
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

    #[test]
    fn release_delay_grows_and_is_capped() {
        for _ in 0..50 {
            let d1 = release_delay(1).as_secs_f64();
            assert!((4.0..=6.0).contains(&d1), "{d1}");
            let d3 = release_delay(3).as_secs_f64();
            assert!((16.0..=24.0).contains(&d3), "{d3}");
            assert!(release_delay(40) <= Duration::from_secs(900));
        }
    }
}
