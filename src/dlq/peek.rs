//! `dlq peek`: the approximate depth, then up to N distinct messages, all left in place.

use std::io::Write;
use std::time::Duration;

use super::render;
use super::scan::{RestoreFailure, Scanner};
use super::{DlqError, DlqMessage};
use crate::queue::{Depth, Queue};
use crate::telemetry::events::PeekRestoreFailed;

/// How a peek reads the queue.
#[derive(Debug, Clone)]
pub struct PeekOptions {
    /// At most this many distinct messages.
    pub max: usize,
    /// Messages are hidden this long at most (a crash mid-peek), normally until the peek ends.
    pub hold: Duration,
    /// Stop when a receive waiting this long returns nothing new.
    pub idle: Duration,
}

impl PeekOptions {
    pub fn new(max: usize) -> Self {
        PeekOptions {
            max,
            hold: Duration::from_secs(30),
            idle: Duration::from_secs(1),
        }
    }
}

/// What a peek saw.
#[derive(Debug, Clone)]
pub struct PeekReport {
    pub depth: Depth,
    pub messages: Vec<DlqMessage>,
    /// Messages that could not be made visible at once (they reappear when the hold expires).
    pub restore_failures: Vec<RestoreFailure>,
}

/// Read the depth, then receive until `max` distinct messages were seen or nothing new comes;
/// every message received is made visible again before returning (also on error).
pub async fn peek(dlq: &dyn Queue, opts: &PeekOptions) -> Result<PeekReport, DlqError> {
    let depth = dlq.depth().await.map_err(DlqError::Depth)?;
    let mut scanner = Scanner::new(dlq, opts.hold, opts.idle);
    let mut messages = Vec::new();
    let mut failed = None;
    while messages.len() < opts.max {
        match scanner.next_new(opts.max - messages.len()).await {
            Ok(Some(batch)) => messages.extend(batch.iter().map(DlqMessage::from_received)),
            Ok(None) => break,
            Err(e) => {
                failed = Some(DlqError::Receive(e));
                break;
            }
        }
    }
    let restore_failures = scanner.restore().await;
    for f in &restore_failures {
        PeekRestoreFailed {
            message_id: &f.message_id,
            error: &f.error,
        }
        .emit();
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(PeekReport {
            depth,
            messages,
            restore_failures,
        }),
    }
}

/// Print a report. With `json`, stdout carries one message object per line and nothing else
/// (so `dlq peek --json | jq -r .reason | sort | uniq -c` counts reasons) and the depth summary
/// goes to `err`; otherwise the depth line and the table go to `out`.
pub fn write_report(
    report: &PeekReport,
    json: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<()> {
    if json {
        writeln!(err, "{}", render::depth_line(&report.depth))?;
        for m in &report.messages {
            writeln!(out, "{}", render::message_json(m))?;
        }
    } else {
        writeln!(out, "{}", render::depth_line(&report.depth))?;
        if report.messages.is_empty() {
            writeln!(out, "no messages received")?;
        } else {
            writeln!(out, "{}", render::table(&report.messages))?;
        }
    }
    out.flush()
}

#[cfg(test)]
#[path = "peek_tests.rs"]
mod tests;
