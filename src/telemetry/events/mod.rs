//! Operational events: one struct per event, whose `emit()` writes the log line and updates the
//! metrics. Business code calls `emit`, never `metrics::counter!` directly. Labels stay bounded:
//! keys, URLs, page ids and message ids go to logs, never to labels. A URL or a detail that
//! may quote one goes through [`crate::redact`] here, whoever built it: no query string,
//! fragment or userinfo (a presigned URL's signature and token) reaches a log line.
//!
//! One file a theme: [`worker`] (messages, deletes, acks, the supervisor), [`sweep`] (the
//! sweeper and its lease), [`queues`] (queue depth, the dead-letter queue and its tools).
//! Everything is re-exported here: callers name `telemetry::events::X`.

mod queues;
mod sweep;
mod worker;

pub use queues::*;
pub use sweep::*;
pub use worker::*;

use super::metrics as m;

/// Where a deletion came from (`source` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Worker,
    Sweeper,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Worker => "worker",
            Source::Sweeper => "sweeper",
        }
    }
}

/// One AWS API call.
pub struct AwsRequest {
    pub service: &'static str,
    pub operation: &'static str,
}

impl AwsRequest {
    pub fn emit(&self) {
        metrics::counter!(m::AWS_REQUESTS, "service" => self.service, "operation" => self.operation)
            .increment(1);
    }
}
