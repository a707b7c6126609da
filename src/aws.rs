//! Shared AWS adapter glue: SDK configuration, and turning any SDK error into a classified [`AwsError`].
//! Only this module, `queue::sqs` and `store::s3` see SDK types.

use std::error::Error as StdError;
use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::aws_error::{classify_code, is_clock_skew, AwsError, ErrorClass};
use crate::telemetry::events::AwsRequest;

/// Load the standard AWS chain (env, profile, IRSA web identity, IMDS) with our timeouts.
/// `long_poll` is the ReceiveMessage wait, so that SQS calls may outlast it.
pub async fn load_config(long_poll: Duration) -> SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(5))
        .operation_attempt_timeout(long_poll + Duration::from_secs(15))
        .operation_timeout(long_poll + Duration::from_secs(45))
        .build();
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts)
        .load()
        .await
}

/// Record one AWS call for `janitor_aws_requests_total` and classify its error, if any.
pub fn observe<T, E>(
    service: &'static str,
    operation: &'static str,
    result: Result<T, SdkError<E, HttpResponse>>,
) -> Result<T, AwsError>
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    AwsRequest { service, operation }.emit();
    result.map_err(|err| classify(service, operation, err))
}

/// Classify an SDK error once: transport trouble and throttling are transient, the rest permanent.
pub fn classify<E>(
    service: &'static str,
    operation: &'static str,
    err: SdkError<E, HttpResponse>,
) -> AwsError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let request_id = err
        .raw_response()
        .and_then(|r| {
            r.headers()
                .get("x-amzn-requestid")
                .or_else(|| r.headers().get("x-amz-request-id"))
        })
        .map(str::to_owned);
    let (code, class) = match &err {
        SdkError::TimeoutError(_) => ("timeout".to_owned(), ErrorClass::Transient),
        SdkError::DispatchFailure(_) => ("dispatch".to_owned(), ErrorClass::Transient),
        SdkError::ResponseError(_) => ("response".to_owned(), ErrorClass::Transient),
        SdkError::ConstructionFailure(_) => ("construction".to_owned(), ErrorClass::Permanent),
        SdkError::ServiceError(service_err) => {
            let status = service_err.raw().status().as_u16();
            let code = err.code().unwrap_or("Unknown").to_owned();
            let class = if is_clock_skew(&code, err.message().unwrap_or_default()) {
                ErrorClass::Transient
            } else {
                classify_code(&code, Some(status))
            };
            (code, class)
        }
        _ => ("unknown".to_owned(), ErrorClass::Transient),
    };
    let message = err
        .message()
        .map(str::to_owned)
        .unwrap_or_else(|| one_line(&err));
    AwsError {
        service,
        operation,
        code,
        message,
        class,
        request_id,
    }
}

/// The full source chain of an error, on one line.
fn one_line(err: &dyn StdError) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out.replace('\n', " ")
}

/// A request the SDK refused to build: our bug, never worth retrying.
pub fn build_error(
    service: &'static str,
    operation: &'static str,
    err: impl std::fmt::Display,
) -> AwsError {
    entry_error(
        service,
        operation,
        "BuildRequest",
        err.to_string(),
        ErrorClass::Permanent,
    )
}

/// An error built by an adapter itself (a malformed response, a per-entry failure).
pub fn entry_error(
    service: &'static str,
    operation: &'static str,
    code: &str,
    message: impl Into<String>,
    class: ErrorClass,
) -> AwsError {
    AwsError {
        service,
        operation,
        code: code.to_owned(),
        message: message.into(),
        class,
        request_id: None,
    }
}
