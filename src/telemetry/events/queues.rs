//! Events of the queues: depth readings (and failed reads), the dead-letter copy left behind,
//! and the `dlq` tools.

use crate::aws_error::AwsError;
use crate::redact;
use crate::telemetry::metrics as m;

/// A queue-depth reading.
pub struct QueueDepthObserved {
    /// `main` or `dlq`.
    pub queue: &'static str,
    pub visible: u64,
    pub inflight: u64,
    pub delayed: u64,
}

impl QueueDepthObserved {
    pub fn emit(&self) {
        for (state, v) in [
            ("visible", self.visible),
            ("inflight", self.inflight),
            ("delayed", self.delayed),
        ] {
            metrics::gauge!(m::QUEUE_MESSAGES, "queue" => self.queue, "state" => state)
                .set(v as f64);
        }
    }
}

// AWS failures outside the worker, logged where they happen (no metric of their own: the
// failed request is already counted by `janitor_aws_requests_total`, and what it costs shows in
// the gauges and counters of the work it stopped). Each names the AWS `code`, the `request_id`
// when AWS returned one, and the message as `error`.

/// A queue-depth read failed; `janitor_queue_messages` keeps its previous values.
pub struct QueueDepthFailed<'a> {
    /// `main` or `dlq`.
    pub queue: &'static str,
    pub error: &'a AwsError,
}

impl QueueDepthFailed<'_> {
    pub fn emit(&self) {
        let e = self.error;
        tracing::warn!(
            queue = self.queue,
            code = %e.code,
            request_id = e.request_id.as_deref(),
            error = %e.message,
            "queue depth read failed"
        );
    }
}

/// The dead-lettered copy was sent but the original not deleted from the main queue: it comes
/// back and is dead-lettered again (a duplicate in the DLQ, never a loss).
pub struct DeadLetterNotRemoved<'a> {
    pub message_id: &'a str,
    pub error: &'a AwsError,
}

impl DeadLetterNotRemoved<'_> {
    pub fn emit(&self) {
        let e = self.error;
        tracing::warn!(
            message_id = self.message_id,
            code = %e.code,
            request_id = e.request_id.as_deref(),
            error = %e.message,
            "dead-lettered but not deleted from the main queue"
        );
    }
}

/// `dlq peek` could not make a message visible again; it reappears when its hold expires.
pub struct PeekRestoreFailed<'a> {
    pub message_id: &'a str,
    pub error: &'a AwsError,
}

impl PeekRestoreFailed<'_> {
    pub fn emit(&self) {
        let e = self.error;
        tracing::warn!(
            message_id = self.message_id,
            code = %e.code,
            request_id = e.request_id.as_deref(),
            error = %e.message,
            "could not make a peeked message visible again; it reappears when its visibility timeout ends"
        );
    }
}

/// A `dlq replay` run ended.
pub struct DlqReplayFinished<'a> {
    pub dlq: &'a str,
    pub target: &'a str,
    pub replayed: u64,
    pub skipped: u64,
    pub would_replay: u64,
    pub failed: usize,
    pub dry_run: bool,
}

impl DlqReplayFinished<'_> {
    pub fn emit(&self) {
        tracing::info!(
            dlq = %redact::url(self.dlq),
            target = %redact::url(self.target),
            replayed = self.replayed,
            skipped = self.skipped,
            would_replay = self.would_replay,
            failed = self.failed,
            dry_run = self.dry_run,
            "dlq replay finished"
        );
    }
}
