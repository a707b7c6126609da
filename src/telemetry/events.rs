//! Operational events: one struct per event, whose `emit()` writes the log line and updates the
//! metrics. Business code calls `emit`, never `metrics::counter!` directly. Labels stay bounded:
//! keys, URLs, page ids and message ids go to logs, never to labels. A URL or a detail that
//! may quote one goes through [`crate::redact`] here, whoever built it: no query string,
//! fragment or userinfo (a presigned URL's signature and token) reaches a log line.

use std::time::{Duration, SystemTime};

use super::audit_enabled;
use super::metrics as m;
use crate::aws_error::{AwsError, ErrorClass};
use crate::reason::Reason;
use crate::redact;

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

/// How a sweep ended (the `outcome` label of `janitor_sweeps_total`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SweepOutcome {
    /// Every allowed bucket was swept and every stale object deleted.
    Ok,
    /// Not run: another replica held the lease, or a sweep completed recently.
    Skipped,
    /// The sweep stopped early, or some objects could not be deleted: why.
    Failed(String),
}

impl SweepOutcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            SweepOutcome::Ok => "ok",
            SweepOutcome::Skipped => "skipped",
            SweepOutcome::Failed(_) => "error",
        }
    }
}

/// A sweep ended.
pub struct SweepFinished {
    pub outcome: SweepOutcome,
    pub scanned: u64,
    pub deleted: u64,
    pub elapsed: Duration,
    pub dry_run: bool,
}

impl SweepFinished {
    pub fn emit(&self) {
        let outcome = self.outcome.as_str();
        match &self.outcome {
            SweepOutcome::Failed(error) => tracing::error!(
                scanned = self.scanned,
                deleted = self.deleted,
                error = error.as_str(),
                elapsed_ms = self.elapsed.as_millis() as u64,
                "sweep failed"
            ),
            SweepOutcome::Ok | SweepOutcome::Skipped => tracing::info!(
                outcome,
                scanned = self.scanned,
                deleted = self.deleted,
                dry_run = self.dry_run,
                elapsed_ms = self.elapsed.as_millis() as u64,
                "sweep finished"
            ),
        }
        metrics::counter!(m::SWEEPS, "outcome" => outcome).increment(1);
        metrics::counter!(m::SWEEP_SCANNED).increment(self.scanned);
        if self.outcome != SweepOutcome::Skipped {
            metrics::histogram!(m::SWEEP_DURATION).record(self.elapsed.as_secs_f64());
        }
        if self.outcome == SweepOutcome::Ok {
            let now = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0);
            metrics::gauge!(m::SWEEP_LAST_SUCCESS).set(now);
        }
    }
}

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

/// A page of the sweeper's listing failed transiently; it is asked for again after `retry_in`.
pub struct SweepListRetried<'a> {
    pub bucket: &'a str,
    pub error: &'a AwsError,
    pub retry_in: Duration,
}

impl SweepListRetried<'_> {
    pub fn emit(&self) {
        let e = self.error;
        tracing::warn!(
            bucket = self.bucket,
            code = %e.code,
            request_id = e.request_id.as_deref(),
            error = %e.message,
            retry_in_ms = self.retry_in.as_millis() as u64,
            "sweeper: listing failed; retrying"
        );
    }
}

/// S3 refused to delete one stale object (per-key error of a DeleteObjects); the sweep goes on.
pub struct SweepDeleteRefused<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub error: &'a AwsError,
}

impl SweepDeleteRefused<'_> {
    pub fn emit(&self) {
        let e = self.error;
        tracing::warn!(
            bucket = self.bucket,
            key = self.key,
            code = %e.code,
            request_id = e.request_id.as_deref(),
            error = %e.message,
            "sweeper: delete refused"
        );
    }
}

/// Stale objects whose deletes still failed transiently after the sweeper's retries.
pub struct SweepKeysStillFailing<'a> {
    pub bucket: &'a str,
    pub keys: usize,
}

impl SweepKeysStillFailing<'_> {
    pub fn emit(&self) {
        tracing::warn!(
            bucket = self.bucket,
            keys = self.keys,
            "sweeper: keys still failing after retries"
        );
    }
}

/// The sweeper's lease could not be renewed (`lost`: another replica has it, or it expired,
/// and the sweep stops; otherwise it is tried again) or released (it expires on its own).
pub struct SweepLeaseTrouble<'a> {
    pub trouble: LeaseTrouble,
    /// The lease error, whole (it names the lease object and the AWS error).
    pub error: &'a dyn std::fmt::Display,
}

/// What went wrong with the sweeper's lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseTrouble {
    Lost,
    RenewFailed,
    ReleaseFailed,
}

impl SweepLeaseTrouble<'_> {
    pub fn emit(&self) {
        let error = self.error;
        match self.trouble {
            LeaseTrouble::Lost => {
                tracing::warn!(error = %error, "sweeper lease lost; stopping the sweep")
            }
            LeaseTrouble::RenewFailed => {
                tracing::warn!(error = %error, "sweeper lease renewal failed; will retry")
            }
            LeaseTrouble::ReleaseFailed => tracing::warn!(
                error = %error,
                "could not release the sweeper lease; it expires on its own"
            ),
        }
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

/// A sweep finished with one bucket (its listing complete): what remains under the prefix.
/// Sets the `janitor_prefix_*` gauges; the only label is the bucket.
pub struct PrefixObserved<'a> {
    pub bucket: &'a str,
    pub objects: u64,
    pub bytes: u64,
    /// Age of the oldest remaining object when the listing finished (0 when none).
    pub oldest_age: Duration,
    /// Objects older than the max age that the sweep saw and did not delete.
    pub stale_remaining: u64,
    /// Objects listed without `LastModified` (skipped; counted in `objects`).
    pub undated: u64,
    /// When the listing finished.
    pub listed_at: SystemTime,
    pub dry_run: bool,
}

impl PrefixObserved<'_> {
    pub fn emit(&self) {
        let at = self
            .listed_at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        tracing::info!(
            bucket = self.bucket,
            objects = self.objects,
            bytes = self.bytes,
            oldest_age_s = self.oldest_age.as_secs(),
            stale_remaining = self.stale_remaining,
            undated = self.undated,
            dry_run = self.dry_run,
            "prefix census"
        );
        let bucket = self.bucket.to_owned();
        metrics::gauge!(m::PREFIX_OBJECTS, "bucket" => bucket.clone()).set(self.objects as f64);
        metrics::gauge!(m::PREFIX_BYTES, "bucket" => bucket.clone()).set(self.bytes as f64);
        metrics::gauge!(m::PREFIX_OLDEST_AGE, "bucket" => bucket.clone())
            .set(self.oldest_age.as_secs_f64());
        metrics::gauge!(m::PREFIX_STALE_REMAINING, "bucket" => bucket.clone())
            .set(self.stale_remaining as f64);
        metrics::gauge!(m::PREFIX_SCAN_TIMESTAMP, "bucket" => bucket).set(at);
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
