//! One message, start to finish: plan, delete (with in-process backoff), then the verdict —
//! ack, dead-letter, release for a later retry, or hand back unfinished at shutdown.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::acker::Acker;
use super::batcher::DeleteBatcher;
use super::heartbeat::Heartbeat;
use super::intake::HandOver;
use crate::deadletter::DeadLetter;
use crate::message::plan;
use backon::BackoffBuilder;

use crate::aws_error::AwsError;
use crate::queue::{Queue, Received};
use crate::reason::{Reason, Rejection};
use crate::retry::{delete_backoff, release_delay};
use crate::s3url::{LocationPolicy, ObjectRef, S3Endpoint};
use crate::telemetry::events::{ClockSkew, Inflight, MessageRetried, ObjectAudit, Source};

/// Everything a message task needs; shared by all of them.
pub struct Ctx {
    pub queue: Arc<dyn Queue>,
    pub dead_letter: DeadLetter,
    pub batcher: DeleteBatcher,
    pub acker: Acker,
    pub policy: LocationPolicy,
    pub endpoint: Option<S3Endpoint>,
    pub visibility: Duration,
    pub max_attempts: u32,
    pub dry_run: bool,
    /// Shutdown started: stop waiting in backoff, hand the message back.
    pub stop: CancellationToken,
    /// Drain deadline passed: abandon work in hand, hand the message back.
    pub abandon: CancellationToken,
}

/// How processing ended.
#[derive(Debug)]
enum Outcome {
    Deleted,
    Rejected(Rejection, Option<String>),
    Transient(AwsError, Option<String>),
    Unfinished,
    DryRun,
}

/// Decrements the in-flight gauge however the task ends.
struct InflightGuard;

impl InflightGuard {
    fn new() -> Self {
        Inflight::inc();
        InflightGuard
    }
}

impl Drop for InflightGuard {
    fn drop(&mut self) {
        Inflight::dec();
    }
}

/// Process one received message to its verdict. `handover` is released once its keys are with
/// the batcher (or it will delete nothing), so that a batch need not wait for it.
pub async fn handle(ctx: Arc<Ctx>, msg: Received, handover: HandOver) {
    let _inflight = InflightGuard::new();
    let heartbeat = Heartbeat::start(ctx.queue.clone(), msg.receipt.clone(), ctx.visibility);
    let outcome = tokio::select! {
        outcome = process(&ctx, &msg, handover) => outcome,
        _ = ctx.abandon.cancelled() => Outcome::Unfinished,
    };
    // The heartbeat keeps the message hidden until its verdict is being written: `settle`
    // stops it right before the final write (ack, DLQ delete, release).
    settle(&ctx, &msg, outcome, heartbeat).await;
}

async fn process(ctx: &Ctx, msg: &Received, handover: HandOver) -> Outcome {
    let plan = match plan(msg.body.as_bytes(), &ctx.policy, ctx.endpoint.as_ref()) {
        Ok(plan) => plan,
        Err(rejection) => return Outcome::Rejected(rejection, page_id_of(&msg.body)),
    };
    if ctx.dry_run {
        tracing::info!(
            message_id = %msg.message_id,
            page_id = plan.message.page_id.as_deref(),
            objects = ?plan.objects.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "dry run: would delete"
        );
        return Outcome::DryRun;
    }
    let page_id = plan.message.page_id.clone();
    let mut remaining: Vec<ObjectRef> = plan.objects.clone();
    let mut delays = delete_backoff().build();
    let mut handover = Some(handover);
    loop {
        let results = match handover.take() {
            Some(first) => ctx.batcher.hand_over(&remaining, first).await,
            None => ctx.batcher.delete(&remaining).await,
        };
        let mut retry = Vec::new();
        let mut last_err = None;
        for (obj, result) in remaining.iter().zip(results) {
            match result {
                // Audited as soon as it is confirmed, whatever the message's final verdict
                // (a sibling key may still be refused and the message dead-lettered).
                Ok(()) => ObjectAudit {
                    source: Source::Worker,
                    bucket: &obj.bucket,
                    key: &obj.key,
                    message_id: Some(&msg.message_id),
                    page_id: page_id.as_deref(),
                    refused: None,
                }
                .emit(),
                Err(e) if e.is_transient() => {
                    retry.push(obj.clone());
                    last_err = Some(e);
                }
                Err(e) => {
                    ObjectAudit {
                        source: Source::Worker,
                        bucket: &obj.bucket,
                        key: &obj.key,
                        message_id: Some(&msg.message_id),
                        page_id: page_id.as_deref(),
                        refused: Some(&e.code),
                    }
                    .emit();
                    let detail = format!("{obj}: S3 refused the delete: {}: {}", e.code, e.message);
                    return Outcome::Rejected(
                        Rejection::new(Reason::DeleteRejected, detail),
                        page_id,
                    );
                }
            }
        }
        let Some(err) = last_err else {
            return Outcome::Deleted;
        };
        let Some(delay) = delays.next() else {
            return Outcome::Transient(err, page_id);
        };
        tracing::debug!(message_id = %msg.message_id, failed = retry.len(), ?delay, "transient delete failure; retrying");
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = ctx.stop.cancelled() => return Outcome::Unfinished,
        }
        remaining = retry;
    }
}

async fn settle(ctx: &Ctx, msg: &Received, outcome: Outcome, heartbeat: Heartbeat) {
    match outcome {
        Outcome::Deleted => {
            heartbeat.stop().await;
            // A failed ack is logged by the acker; the message comes back and is a cheap no-op.
            let _ = ctx.acker.ack(msg.receipt.clone(), msg.sent_at).await;
        }
        Outcome::Rejected(rejection, page_id) => {
            if ctx.dry_run {
                heartbeat.stop().await;
                tracing::info!(message_id = %msg.message_id, reason = %rejection.reason, detail = %rejection.detail, "dry run: would dead-letter");
                return;
            }
            dead_letter(ctx, msg, page_id.as_deref(), rejection, heartbeat).await;
        }
        Outcome::Transient(err, page_id) => {
            if err.is_clock_skew() {
                // The node's clock, not the message: never dead-letter for it.
                ClockSkew {
                    service: err.service,
                    operation: err.operation,
                    code: &err.code,
                    message: &err.message,
                }
                .emit();
            } else if msg.receive_count >= ctx.max_attempts {
                let detail = format!(
                    "received {} times (JANITOR_MAX_ATTEMPTS={}); last error: {}: {}",
                    msg.receive_count, ctx.max_attempts, err.code, err.message
                );
                let rejection = Rejection::new(Reason::RetriesExhausted, detail);
                dead_letter(ctx, msg, page_id.as_deref(), rejection, heartbeat).await;
                return;
            }
            let delay = release_delay(msg.receive_count);
            MessageRetried {
                message_id: &msg.message_id,
                attempts: msg.receive_count,
                delay,
                error: &format!("{}: {}", err.code, err.message),
            }
            .emit();
            heartbeat.stop().await;
            release(ctx, msg, delay).await;
        }
        Outcome::Unfinished => {
            heartbeat.stop().await;
            release(ctx, msg, Duration::ZERO).await;
        }
        Outcome::DryRun => heartbeat.stop().await,
    }
}

/// Send the copy to the DLQ while the heartbeat still runs, then stop it and delete.
async fn dead_letter(
    ctx: &Ctx,
    msg: &Received,
    page_id: Option<&str>,
    rejection: Rejection,
    heartbeat: Heartbeat,
) {
    let (reason, detail) = (rejection.reason, rejection.detail.as_str());
    let sent = ctx.dead_letter.send_copy(msg, reason, detail).await;
    heartbeat.stop().await;
    let result = match sent {
        Ok(()) => ctx.dead_letter.remove(msg, page_id, reason, detail).await,
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        tracing::error!(message_id = %msg.message_id, reason = %reason, code = %e.code, request_id = e.request_id.as_deref(), error = %e.message, "dead-lettering failed; the message will be redelivered");
    }
}

async fn release(ctx: &Ctx, msg: &Received, delay: Duration) {
    if let Err(e) = ctx.queue.change_visibility(&msg.receipt, delay).await {
        tracing::warn!(message_id = %msg.message_id, code = %e.code, request_id = e.request_id.as_deref(), error = %e.message, "could not release message; it reappears when its visibility expires");
    }
}

/// Best-effort page id for logs when the message did not validate.
fn page_id_of(body: &str) -> Option<String> {
    crate::message::parse_body(body.as_bytes())
        .ok()
        .and_then(|m| m.page_id)
}
