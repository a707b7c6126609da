//! Operational events: one struct per event, whose `emit()` writes the log line and updates the
//! metrics. Business code calls `emit`, never `metrics::counter!` directly. Labels stay bounded:
//! keys, URLs, page ids and message ids go to logs, never to labels. A URL or a detail that
//! may quote one goes through [`crate::redact`] here, whoever built it: no query string,
//! fragment or userinfo (a presigned URL's signature and token) reaches a log line.

use std::time::{Duration, SystemTime};

use super::audit_enabled;
use super::metrics as m;
use crate::reason::Reason;
use crate::redact;
use crate::retry::ErrorClass;

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

/// A sweep ended.
pub struct SweepFinished<'a> {
    /// `ok`, `error` or `skipped`.
    pub outcome: &'a str,
    pub scanned: u64,
    pub deleted: u64,
    pub elapsed: Duration,
    pub dry_run: bool,
    pub error: Option<&'a str>,
}

impl SweepFinished<'_> {
    pub fn emit(&self) {
        match self.outcome {
            "error" => tracing::error!(
                scanned = self.scanned,
                deleted = self.deleted,
                error = self.error,
                elapsed_ms = self.elapsed.as_millis() as u64,
                "sweep failed"
            ),
            outcome => tracing::info!(
                outcome,
                scanned = self.scanned,
                deleted = self.deleted,
                dry_run = self.dry_run,
                elapsed_ms = self.elapsed.as_millis() as u64,
                "sweep finished"
            ),
        }
        let outcome = match self.outcome {
            "ok" => "ok",
            "skipped" => "skipped",
            _ => "error",
        };
        metrics::counter!(m::SWEEPS, "outcome" => outcome).increment(1);
        metrics::counter!(m::SWEEP_SCANNED).increment(self.scanned);
        if outcome != "skipped" {
            metrics::histogram!(m::SWEEP_DURATION).record(self.elapsed.as_secs_f64());
        }
        if outcome == "ok" {
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
