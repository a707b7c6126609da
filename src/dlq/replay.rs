//! `dlq replay`: move DLQ messages to the main queue (or `--to`). Send first, then delete from
//! the DLQ only what was sent: a crash at any point can duplicate a message, never lose one.
//! Bodies go byte for byte; original attributes are kept; every `janitor.*` is dropped.

use backon::Retryable;

use super::pace::Pacer;
use super::scan::{short_retry, RestoreFailure, Scanner};
use super::{DlqError, DlqMessage};
use crate::aws_error::AwsError;
use crate::queue::{size_batches, Outgoing, Queue, Receipt, Received};

pub use crate::config::ReplayOptions;

/// Which half of the move failed for a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Not sent: it was not deleted and stays in the DLQ.
    Send,
    /// Sent but not deleted: it is in the target queue and still in the DLQ (a duplicate).
    Delete,
}

/// One message that was not moved cleanly.
#[derive(Debug, Clone)]
pub struct ReplayFailure {
    pub message_id: String,
    pub stage: Stage,
    pub error: AwsError,
}

/// What a replay did.
#[derive(Debug, Default)]
pub struct ReplayReport {
    /// Sent to the target and deleted from the DLQ.
    pub replayed: u64,
    /// Did not match `--reason`; left in the DLQ.
    pub skipped: u64,
    /// `--dry-run`: would have been moved.
    pub would_replay: u64,
    pub failures: Vec<ReplayFailure>,
    pub restore_failures: Vec<RestoreFailure>,
    /// The run stopped early on this error; the counts say what was done before.
    pub aborted: Option<DlqError>,
}

/// Hears about each message as the replay goes (progress bar, per-message lines).
pub trait ReplayObserver: Sync {
    fn replayed(&self, _m: &DlqMessage, _new_id: &str) {}
    fn would_replay(&self, _m: &DlqMessage) {}
    fn skipped(&self, _m: &DlqMessage) {}
    fn failed(&self, _m: &DlqMessage, _f: &ReplayFailure) {}
}

/// An observer that ignores everything.
pub struct Quiet;
impl ReplayObserver for Quiet {}

/// Replay from `dlq` to `target`. Always returns a report; `report.aborted` says whether the
/// run ended early. Every message received and not deleted is made visible again at the end.
pub async fn replay(
    dlq: &dyn Queue,
    target: &dyn Queue,
    opts: &ReplayOptions,
    observer: &dyn ReplayObserver,
) -> ReplayReport {
    let mut scanner = Scanner::new(dlq, opts.hold, opts.idle);
    let mut report = ReplayReport::default();
    if let Err(e) = run(&mut scanner, dlq, target, opts, observer, &mut report).await {
        report.aborted = Some(e);
    }
    report.restore_failures = scanner.restore().await;
    report
}

async fn run(
    scanner: &mut Scanner<'_>,
    dlq: &dyn Queue,
    target: &dyn Queue,
    opts: &ReplayOptions,
    observer: &dyn ReplayObserver,
    report: &mut ReplayReport,
) -> Result<(), DlqError> {
    let mut pacer = Pacer::new(opts.rate);
    loop {
        let done = report.replayed + report.would_replay + report.failures.len() as u64;
        let left = opts.max.map_or(u64::MAX, |m| m.saturating_sub(done));
        if left == 0 {
            return Ok(());
        }
        let want = usize::try_from(left)
            .unwrap_or(usize::MAX)
            .min(pacer.batch_size());
        let Some(batch) = scanner.next_new(want).await.map_err(DlqError::Receive)? else {
            return Ok(());
        };
        let mut chosen: Vec<(Received, DlqMessage)> = Vec::new();
        for m in batch {
            let view = DlqMessage::from_received(&m);
            if !view.matches(&opts.reasons) {
                report.skipped += 1;
                observer.skipped(&view);
            } else if opts.dry_run {
                report.would_replay += 1;
                observer.would_replay(&view);
            } else {
                chosen.push((m, view));
            }
        }
        if chosen.is_empty() {
            continue;
        }
        pacer.admit(chosen.len()).await;
        move_batch(scanner, dlq, target, chosen, observer, report).await?;
    }
}

/// Send the batch, then delete from the DLQ exactly the entries that were sent.
async fn move_batch(
    scanner: &mut Scanner<'_>,
    dlq: &dyn Queue,
    target: &dyn Queue,
    chosen: Vec<(Received, DlqMessage)>,
    observer: &dyn ReplayObserver,
    report: &mut ReplayReport,
) -> Result<(), DlqError> {
    let outgoing: Vec<Outgoing> = chosen
        .iter()
        .map(|(m, view)| Outgoing {
            body: m.body.clone(),
            attributes: view.original_attributes.clone(),
        })
        .collect();
    // A call-level failure aborts the run; the messages stay held in the DLQ and are made
    // visible again. (If the call did reach SQS, they are duplicated, not lost.)
    // SQS caps a batch at 10 entries and 1 MiB: large messages go in smaller batches or alone.
    let mut sent = Vec::with_capacity(outgoing.len());
    for range in size_batches(&outgoing) {
        let part = &outgoing[range];
        let results = (|| target.send_batch(part))
            .retry(short_retry())
            .when(|e: &AwsError| e.is_transient())
            .await;
        match results {
            Ok(r) => sent.extend(r),
            // Nothing sent yet: abort; the messages stay held in the DLQ.
            Err(e) if sent.is_empty() => return Err(DlqError::Send(e)),
            // Earlier parts were sent: record this part's failure per message and go on to
            // delete what was sent.
            Err(e) => sent.extend(part.iter().map(|_| Err(e.clone()))),
        }
    }
    let mut to_delete: Vec<(Receipt, &DlqMessage, String)> = Vec::new();
    for ((m, view), result) in chosen.iter().zip(sent) {
        match result {
            Ok(new_id) => to_delete.push((m.receipt.clone(), view, new_id)),
            Err(error) => fail(report, observer, view, Stage::Send, error),
        }
    }
    if to_delete.is_empty() {
        return Ok(());
    }
    let receipts: Vec<Receipt> = to_delete.iter().map(|(r, _, _)| r.clone()).collect();
    let deleted = (|| dlq.delete_batch(&receipts))
        .retry(short_retry())
        .when(|e: &AwsError| e.is_transient())
        .await;
    match deleted {
        Ok(results) => {
            for ((_, view, new_id), result) in to_delete.into_iter().zip(results) {
                match result {
                    Ok(()) => {
                        scanner.forget(&view.message_id);
                        report.replayed += 1;
                        observer.replayed(view, &new_id);
                    }
                    Err(error) => fail(report, observer, view, Stage::Delete, error),
                }
            }
        }
        Err(error) => {
            for (_, view, _) in to_delete {
                fail(report, observer, view, Stage::Delete, error.clone());
            }
        }
    }
    Ok(())
}

fn fail(
    report: &mut ReplayReport,
    observer: &dyn ReplayObserver,
    view: &DlqMessage,
    stage: Stage,
    error: AwsError,
) {
    let failure = ReplayFailure {
        message_id: view.message_id.clone(),
        stage,
        error,
    };
    observer.failed(view, &failure);
    report.failures.push(failure);
}

#[cfg(test)]
#[path = "replay_tests.rs"]
mod tests;
