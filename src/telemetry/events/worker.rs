//! Events of the worker: messages received, deleted, acknowledged, retried, dead-lettered;
//! its AWS failures; the supervisor's one line when a long-lived task stops.

use std::time::{Duration, SystemTime};

use super::Source;
use crate::aws_error::{AwsError, ErrorClass};
use crate::reason::Reason;
use crate::redact;
use crate::telemetry::audit_enabled;
use crate::telemetry::metrics as m;

/// A receive returned (`count` may be 0 after an empty long poll).
pub struct MessagesReceived {
    pub count: usize,
    /// Age (now − SentTimestamp) of the oldest message received; `None` when empty.
    pub oldest_age: Option<Duration>,
}

impl MessagesReceived {
    pub fn emit(&self) {
        if self.count > 0 {
            tracing::debug!(count = self.count, "received messages");
            metrics::counter!(m::MESSAGES_RECEIVED).increment(self.count as u64);
        }
        let age = self.oldest_age.map_or(0.0, |d| d.as_secs_f64());
        metrics::gauge!(m::QUEUE_OLDEST_AGE, "queue" => "main").set(age);
    }
}

/// A DeleteMessageBatch confirmed these messages deleted.
pub struct MessagesAcked<'a> {
    pub sent_at: &'a [Option<SystemTime>],
}

impl MessagesAcked<'_> {
    pub fn emit(&self) {
        tracing::debug!(count = self.sent_at.len(), "acked messages");
        metrics::counter!(m::MESSAGES_ACKED).increment(self.sent_at.len() as u64);
        let now = SystemTime::now();
        let hist = metrics::histogram!(m::MESSAGE_LATENCY);
        for sent in self.sent_at.iter().flatten() {
            if let Ok(latency) = now.duration_since(*sent) {
                hist.record(latency.as_secs_f64());
            }
        }
    }
}

/// A message went to the dead-letter queue.
pub struct MessageDeadLettered<'a> {
    pub message_id: &'a str,
    pub page_id: Option<&'a str>,
    pub reason: Reason,
    pub detail: &'a str,
    pub attempts: u32,
}

impl MessageDeadLettered<'_> {
    pub fn emit(&self) {
        // Already redacted when it came from a `Rejection`; cheap and idempotent either way.
        let detail = redact::text(self.detail);
        let detail: &str = &detail;
        tracing::warn!(
            message_id = self.message_id,
            page_id = self.page_id,
            reason = self.reason.as_str(),
            detail,
            attempts = self.attempts,
            "message dead-lettered"
        );
        if audit_enabled() {
            tracing::info!(
                target: "janitor::audit",
                event = "message_dead_lettered",
                source = "worker",
                message_id = self.message_id,
                page_id = self.page_id,
                reason = self.reason.as_str(),
                detail,
            );
        }
        metrics::counter!(m::MESSAGES_DEAD_LETTERED, "reason" => self.reason.as_str()).increment(1);
    }
}

/// AWS refused a request because this node's clock is off (`RequestTimeTooSkewed`,
/// `RequestExpired`, "Signature expired"). The message is released, never dead-lettered.
pub struct ClockSkew<'a> {
    pub service: &'static str,
    pub operation: &'static str,
    pub code: &'a str,
    pub message: &'a str,
}

impl ClockSkew<'_> {
    pub fn emit(&self) {
        tracing::error!(
            service = self.service,
            operation = self.operation,
            code = self.code,
            error = self.message,
            "AWS refused the request because this node's clock is off; check NTP on the node (messages are retried, never dead-lettered for this)"
        );
        metrics::counter!(m::CLOCK_SKEW_ERRORS, "service" => self.service).increment(1);
    }
}

/// A message was released for a later retry after transient failures.
pub struct MessageRetried<'a> {
    pub message_id: &'a str,
    pub attempts: u32,
    pub delay: Duration,
    pub error: &'a str,
}

impl MessageRetried<'_> {
    pub fn emit(&self) {
        tracing::warn!(
            message_id = self.message_id,
            attempts = self.attempts,
            retry_in_ms = self.delay.as_millis() as u64,
            error = self.error,
            "transient failure; message released for retry"
        );
        metrics::counter!(m::MESSAGES_RETRIED).increment(1);
    }
}

/// One DeleteObjects request finished (worker batcher or sweeper).
pub struct DeleteBatchDone<'a> {
    pub source: Source,
    pub bucket: &'a str,
    pub requested: usize,
    pub deleted: usize,
    pub transient_errors: usize,
    pub permanent_errors: usize,
    pub elapsed: Duration,
}

impl DeleteBatchDone<'_> {
    pub fn emit(&self) {
        tracing::info!(
            source = self.source.as_str(),
            bucket = self.bucket,
            requested = self.requested,
            deleted = self.deleted,
            transient_errors = self.transient_errors,
            permanent_errors = self.permanent_errors,
            elapsed_ms = self.elapsed.as_millis() as u64,
            "delete batch done"
        );
        metrics::counter!(m::OBJECTS_DELETED, "source" => self.source.as_str())
            .increment(self.deleted as u64);
        if self.source == Source::Worker {
            metrics::histogram!(m::DELETE_BATCH_KEYS).record(self.requested as f64);
        }
        DeleteErrors {
            class: ErrorClass::Transient,
            count: self.transient_errors,
        }
        .emit();
        DeleteErrors {
            class: ErrorClass::Permanent,
            count: self.permanent_errors,
        }
        .emit();
    }
}

/// Delete failures (per key, or every key of a failed request).
pub struct DeleteErrors {
    pub class: ErrorClass,
    pub count: usize,
}

impl DeleteErrors {
    pub fn emit(&self) {
        if self.count > 0 {
            metrics::counter!(m::DELETE_ERRORS, "class" => self.class.as_str())
                .increment(self.count as u64);
        }
    }
}

/// The audit trail of one object: deleted, or refused (with the reason).
pub struct ObjectAudit<'a> {
    pub source: Source,
    pub bucket: &'a str,
    pub key: &'a str,
    pub message_id: Option<&'a str>,
    pub page_id: Option<&'a str>,
    /// `None` = deleted; `Some(reason)` = refused.
    pub refused: Option<&'a str>,
}

impl ObjectAudit<'_> {
    pub fn emit(&self) {
        if !audit_enabled() {
            return;
        }
        let event = if self.refused.is_some() {
            "object_refused"
        } else {
            "object_deleted"
        };
        tracing::info!(
            target: "janitor::audit",
            event,
            source = self.source.as_str(),
            bucket = self.bucket,
            key = self.key,
            message_id = self.message_id,
            page_id = self.page_id,
            reason = self.refused,
        );
    }
}

/// In-flight message gauge.
pub struct Inflight;

impl Inflight {
    pub fn inc() {
        metrics::gauge!(m::INFLIGHT).increment(1.0);
    }
    pub fn dec() {
        metrics::gauge!(m::INFLIGHT).decrement(1.0);
    }
}

/// A long-lived task of `run` ended before shutdown (or misbehaved during it): the process
/// stops, exit 1. Logged once, naming the task.
pub struct TaskFailed<'a> {
    /// The task's bounded name (`delete_batcher`, `acker`, `receive_loop`, …).
    pub task: &'static str,
    /// The task and how it ended, for people.
    pub detail: &'a str,
    /// It did not stop within its shutdown grace and was aborted (a warning, not a failure).
    pub overran: bool,
}

impl TaskFailed<'_> {
    pub fn emit(&self) {
        let detail = self.detail;
        if self.overran {
            tracing::warn!(
                task = self.task,
                detail,
                "a task did not stop within the shutdown bound; aborted"
            );
        } else {
            tracing::error!(
                task = self.task,
                detail,
                "a long-lived task stopped; draining and exiting with status 1"
            );
        }
    }
}

/// A ReceiveMessage failed transiently; the loop backs off.
pub struct ReceiveFailed<'a> {
    pub receive_loop: usize,
    pub error: &'a AwsError,
    pub retry_in: Duration,
}

impl ReceiveFailed<'_> {
    pub fn emit(&self) {
        let e = self.error;
        tracing::warn!(receive_loop = self.receive_loop, code = %e.code, request_id = e.request_id.as_deref(), error = %e.message, retry_in_ms = self.retry_in.as_millis() as u64, "receive failed; backing off");
    }
}

/// A ReceiveMessage was refused permanently; the loop stops (and with it the process).
pub struct ReceiveRefused<'a> {
    pub receive_loop: usize,
    pub error: &'a AwsError,
}

impl ReceiveRefused<'_> {
    pub fn emit(&self) {
        let e = self.error;
        tracing::error!(receive_loop = self.receive_loop, code = %e.code, request_id = e.request_id.as_deref(), error = %e.message, "receive refused permanently; stopping");
    }
}

/// One entry of a DeleteMessageBatch failed; that message will be redelivered.
pub struct AckEntryFailed<'a> {
    pub error: &'a AwsError,
}

impl AckEntryFailed<'_> {
    pub fn emit(&self) {
        let e = self.error;
        tracing::warn!(code = %e.code, request_id = e.request_id.as_deref(), error = %e.message, "message delete failed; it will be redelivered");
    }
}

/// A whole DeleteMessageBatch failed (after its retries); its messages will be redelivered.
pub struct AckBatchFailed<'a> {
    pub error: &'a AwsError,
}

impl AckBatchFailed<'_> {
    pub fn emit(&self) {
        let e = self.error;
        tracing::warn!(code = %e.code, request_id = e.request_id.as_deref(), error = %e.message, "DeleteMessageBatch failed; messages will be redelivered");
    }
}

/// A heartbeat's ChangeMessageVisibility failed: transient (it retries next period) or refused
/// (the heartbeat stops).
pub struct VisibilityExtensionFailed<'a> {
    pub error: &'a AwsError,
}

impl VisibilityExtensionFailed<'_> {
    pub fn emit(&self) {
        let e = self.error;
        if e.is_transient() {
            tracing::warn!(code = %e.code, request_id = e.request_id.as_deref(), error = %e.message, "visibility extension failed; will retry");
        } else {
            tracing::warn!(code = %e.code, request_id = e.request_id.as_deref(), error = %e.message, "visibility extension refused; heartbeat stops");
        }
    }
}

/// Sending a message to the DLQ, or deleting it from the main queue after, failed.
pub struct DeadLetterFailed<'a> {
    pub message_id: &'a str,
    pub reason: Reason,
    pub error: &'a AwsError,
}

impl DeadLetterFailed<'_> {
    pub fn emit(&self) {
        let e = self.error;
        tracing::error!(message_id = self.message_id, reason = %self.reason, code = %e.code, request_id = e.request_id.as_deref(), error = %e.message, "dead-lettering failed; the message will be redelivered");
    }
}

/// Releasing a message (ChangeMessageVisibility for a retry or a hand-back) failed.
pub struct ReleaseFailed<'a> {
    pub message_id: &'a str,
    pub error: &'a AwsError,
}

impl ReleaseFailed<'_> {
    pub fn emit(&self) {
        let e = self.error;
        tracing::warn!(message_id = self.message_id, code = %e.code, request_id = e.request_id.as_deref(), error = %e.message, "could not release message; it reappears when its visibility expires");
    }
}

/// Why the worker's delete batcher closed a batch (see `worker::intake`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchClose {
    /// The bucket reached the key cap (1000, the DeleteObjects limit).
    Full,
    /// Every message in hand had handed its keys over and no receive that could add to the
    /// batch was under way.
    Quiet,
    /// The receive loops were waiting for in-hand permits, which only a closed batch frees.
    InHandCap,
    /// The linger bound ran out first.
    Linger,
    /// The worker is stopping.
    Shutdown,
}

impl BatchClose {
    pub fn as_str(self) -> &'static str {
        match self {
            BatchClose::Full => "full",
            BatchClose::Quiet => "quiet",
            BatchClose::InHandCap => "in_hand_cap",
            BatchClose::Linger => "linger",
            BatchClose::Shutdown => "shutdown",
        }
    }
}

/// The worker's delete batcher closed a batch. Debug level, target `janitor::batch`: the
/// benchmark (`scripts/bench.sh`) turns it on to count batches by reason and size.
pub struct DeleteBatchClosed<'a> {
    pub bucket: &'a str,
    pub keys: usize,
    pub messages: usize,
    pub reason: BatchClose,
    /// Since the batch's first key arrived.
    pub age: Duration,
}

impl DeleteBatchClosed<'_> {
    pub fn emit(&self) {
        tracing::debug!(
            target: "janitor::batch",
            bucket = self.bucket,
            keys = self.keys,
            messages = self.messages,
            reason = self.reason.as_str(),
            age_ms = self.age.as_millis() as u64,
            "delete batch closed"
        );
    }
}
