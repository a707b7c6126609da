//! Gates: the proxy holds matching requests until the test lets them go, so that a test acts
//! at an exact point of the binary's work ("its ListObjectsV2 of the second bucket has arrived",
//! "its DeleteObjects is in flight") instead of after a sleep it hopes is long enough.
//!
//! ```ignore
//! let gate = proxy.gate(GateRule::s3("ListObjectsV2").bucket(&second));
//! gate.wait_arrived(1, Duration::from_secs(60)).await; // the request is now held
//! daemon.signal("KILL");                                // ... at exactly that point
//! gate.open();                                          // or drop the gate
//! ```
//!
//! A held request has been counted (`FaultProxy::count`) and its fault rules evaluated; it goes
//! on (to those rules, then upstream) when released. Dropping the [`Gate`] opens it, so a failed
//! test never leaves a request hanging.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Semaphore};

use super::rules::{Op, Service};

/// Which requests a gate holds.
#[derive(Debug, Clone)]
pub struct GateRule {
    service: Service,
    operation: String,
    bucket: Option<String>,
    pass_first: u64,
}

impl GateRule {
    /// S3 requests of this operation (`ListObjectsV2`, `DeleteObjects`, ...).
    pub fn s3(operation: &str) -> GateRule {
        GateRule::new(Service::S3, operation)
    }

    /// SQS requests of this operation (`SendMessageBatch`, `DeleteMessageBatch`, ...).
    pub fn sqs(operation: &str) -> GateRule {
        GateRule::new(Service::Sqs, operation)
    }

    fn new(service: Service, operation: &str) -> GateRule {
        GateRule {
            service,
            operation: operation.to_owned(),
            bucket: None,
            pass_first: 0,
        }
    }

    /// Only S3 requests for this bucket (path-style: the first path segment).
    pub fn bucket(mut self, bucket: &str) -> GateRule {
        self.bucket = Some(bucket.to_owned());
        self
    }

    /// Let the first `n` matching requests through; hold the ones after them.
    pub fn pass_first(mut self, n: u64) -> GateRule {
        self.pass_first = n;
        self
    }

    fn matches(&self, op: &Op, path: &str) -> bool {
        op.service == self.service
            && op.name == self.operation
            && self
                .bucket
                .as_deref()
                .is_none_or(|b| path.trim_start_matches('/').split('/').next() == Some(b))
    }
}

/// The proxy's side of a gate.
pub(super) struct GateState {
    rule: GateRule,
    /// Matching requests seen (passed or held).
    seen: AtomicU64,
    /// Matching requests that were held (released or not).
    arrived: watch::Sender<u64>,
    /// One permit per request the test released; closed once the gate is open.
    permits: Semaphore,
}

impl GateState {
    pub(super) fn new(rule: GateRule) -> GateState {
        GateState {
            rule,
            seen: AtomicU64::new(0),
            arrived: watch::Sender::new(0),
            permits: Semaphore::new(0),
        }
    }

    pub(super) fn matches(&self, op: &Op, path: &str) -> bool {
        self.rule.matches(op, path)
    }

    /// Called by the proxy for a matching request: returns once the request may go on.
    pub(super) async fn hold(&self) {
        let n = self.seen.fetch_add(1, Ordering::SeqCst) + 1;
        if n <= self.rule.pass_first {
            return;
        }
        self.arrived.send_modify(|a| *a += 1);
        // An error means the gate was opened (closed semaphore): go on.
        if let Ok(permit) = self.permits.acquire().await {
            permit.forget();
        }
    }
}

/// The test's handle on a gate (from `FaultProxy::gate`). Dropping it opens the gate.
pub struct Gate {
    pub(super) state: Arc<GateState>,
}

impl Gate {
    /// Requests held so far (including those since released).
    pub fn arrived(&self) -> u64 {
        *self.state.arrived.borrow()
    }

    /// Matching requests seen so far, passed or held.
    pub fn seen(&self) -> u64 {
        self.state.seen.load(Ordering::SeqCst)
    }

    /// Wait until `n` requests have arrived at the gate; panics (naming the gate) after `timeout`.
    pub async fn wait_arrived(&self, n: u64, timeout: Duration) {
        let mut rx = self.state.arrived.subscribe();
        let waited = tokio::time::timeout(timeout, rx.wait_for(|a| *a >= n)).await;
        assert!(
            matches!(waited, Ok(Ok(_))),
            "timed out after {timeout:?} waiting for request {n} at the gate {:?} ({} arrived, {} seen)",
            self.state.rule,
            self.arrived(),
            self.seen()
        );
    }

    /// Let `n` more held (or future) requests through, in arrival order.
    pub fn release(&self, n: usize) {
        self.state.permits.add_permits(n);
    }

    /// Let every held request through, and every later one pass.
    pub fn open(&self) {
        self.state.permits.close();
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.open();
    }
}
