//! In-memory fakes behind the `Queue` and `ObjectStore` seams, with scriptable failures, for
//! unit tests (use with `tokio::time::pause`). They record every call so tests can assert on
//! what the business logic asked for.

mod logs;
mod queue;
#[cfg(test)]
mod queue_tests;
mod sqs_rules;
mod store;
#[cfg(test)]
mod store_tests;

pub use logs::CapturedLogs;
pub use queue::{FakeQueue, QueueCall};
pub use store::FakeStore;

use crate::aws_error::{AwsError, ErrorClass};

/// A transient error as an adapter would classify it.
pub fn transient(service: &'static str, operation: &'static str, code: &str) -> AwsError {
    AwsError {
        service,
        operation,
        code: code.into(),
        message: format!("injected {code}"),
        class: ErrorClass::Transient,
        request_id: None,
    }
}

/// A permanent error as an adapter would classify it.
pub fn permanent(service: &'static str, operation: &'static str, code: &str) -> AwsError {
    AwsError {
        class: ErrorClass::Permanent,
        ..transient(service, operation, code)
    }
}
