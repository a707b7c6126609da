//! `image-janitor preflight`: prove, before any traffic, that every permission and setting `run`
//! needs is in place, changing nothing a user cares about. One [`Check`] per line, ok / WARN /
//! FAIL (or skip, when a check does not apply) with the fix; exit 1 when any check fails.
//!
//! | module | job |
//! |---|---|
//! | [`queues`] | main queue, RedrivePolicy, maxReceiveCount, visibility, size, encryption, DLQ |
//! | [`send_probe`] | `--send-probe`: a marker message sent to the DLQ and deleted at once |
//! | [`buckets`] | delete probes under and above the prefix, the sweeper's list, the lease |
//! | [`lifecycle`] | the bucket lifecycle rule that backs the prefix up |
//! | [`render`] | the text line and the JSON line of a check |
//! | [`command`] | the subcommand: AWS adapters, printing, exit code |
//!
//! Everything here talks to AWS through the `Queue` / `ObjectStore` seams only, so each check's
//! ok / WARN / FAIL logic is unit-tested on the fakes (`tests.rs`, `bucket_tests.rs`).

pub mod buckets;
pub mod command;
pub mod lifecycle;
pub mod queues;
pub mod render;
pub mod send_probe;

#[cfg(test)]
mod bucket_tests;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use crate::config::{LeaseLocation, RunSettings};
use crate::queue::Queue;
use crate::s3url::LocationPolicy;
use crate::store::ObjectStore;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// `run` works, but something is weaker or broader than it should be.
    Warn,
    /// `run` would fail (or lose track of messages): exit 1.
    Fail,
    /// The check does not apply to these settings, or could not be made without changing
    /// something (it says which); never affects the exit code.
    Skip,
}

impl Status {
    /// `ok`, `WARN`, `FAIL`, `skip` (text output).
    pub fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
            Status::Skip => "skip",
        }
    }

    /// `ok`, `warn`, `fail`, `skip` (JSON output).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Stable identifier, e.g. `max_receive_count` (documented in docs/preflight.md).
    pub name: &'static str,
    /// What was checked: a queue URL, a bucket, or `s3://bucket/key`.
    pub target: String,
    pub status: Status,
    /// What was found, in one line.
    pub detail: String,
    /// What to do about it (WARN and FAIL).
    pub fix: Option<String>,
}

impl Check {
    pub fn ok(name: &'static str, target: impl Into<String>, detail: impl Into<String>) -> Check {
        Check {
            name,
            target: target.into(),
            status: Status::Ok,
            detail: detail.into(),
            fix: None,
        }
    }

    pub fn skip(name: &'static str, target: impl Into<String>, detail: impl Into<String>) -> Check {
        Check {
            status: Status::Skip,
            ..Check::ok(name, target, detail)
        }
    }

    pub fn warn(
        name: &'static str,
        target: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            status: Status::Warn,
            fix: Some(fix.into()),
            ..Check::ok(name, target, detail)
        }
    }

    pub fn fail(
        name: &'static str,
        target: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            status: Status::Fail,
            fix: Some(fix.into()),
            ..Check::ok(name, target, detail)
        }
    }
}

/// The settings preflight checks against: those of `run`, plus its own flag.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `JANITOR_DLQ_URL`, when set.
    pub configured_dlq: Option<String>,
    pub policy: LocationPolicy,
    pub max_attempts: u32,
    /// `JANITOR_VISIBILITY_TIMEOUT`.
    pub visibility: Duration,
    /// `JANITOR_SWEEP_MAX_AGE` (the lifecycle window is judged against it).
    pub sweep_max_age: Duration,
    /// `Some` when the sweeper timer is enabled: then the list and the lease are needed.
    pub lease: Option<LeaseLocation>,
    /// `--send-probe`.
    pub send_probe: bool,
}

impl Settings {
    pub fn from_run(run: &RunSettings, send_probe: bool) -> Settings {
        Settings {
            configured_dlq: run.common.dlq_url.clone(),
            policy: run.common.policy.clone(),
            max_attempts: run.max_attempts.get(),
            visibility: run.visibility_timeout,
            sweep_max_age: run.sweep.max_age,
            lease: run.sweep.interval.map(|_| run.sweep.lease.clone()),
            send_probe,
        }
    }
}

/// Opens another queue of the same account and client (the DLQ, once its URL is known).
pub type OpenQueue = Arc<dyn Fn(&str) -> Arc<dyn Queue> + Send + Sync>;

/// What the checks run against.
#[derive(Clone)]
pub struct Target {
    pub main: Arc<dyn Queue>,
    pub open: OpenQueue,
    pub store: Arc<dyn ObjectStore>,
}

/// Run every check, in a fixed order: queues, then per bucket, then the lease.
pub async fn run(target: &Target, settings: &Settings) -> Vec<Check> {
    let mut checks = Vec::new();
    let dlq = queues::check(target, settings, &mut checks).await;
    checks.push(match dlq {
        Some(dlq) if settings.send_probe => send_probe::probe(dlq.as_ref()).await,
        Some(dlq) => Check::skip(
            send_probe::NAME,
            dlq.url(),
            "SendMessage is not probed: it cannot be checked without sending a message \
             (GetQueueAttributes on the DLQ answered; pass --send-probe to send and delete a marker message)",
        ),
        None => Check::skip(send_probe::NAME, "", "no reachable dead-letter queue"),
    });
    checks.extend(buckets::check(target.store.as_ref(), settings).await);
    checks
}

/// How many checks failed.
pub fn failures(checks: &[Check]) -> usize {
    checks.iter().filter(|c| c.status == Status::Fail).count()
}
