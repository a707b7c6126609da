//! The acker: gathers "delete this message" requests from many message tasks into
//! DeleteMessageBatch calls of up to 10, checking each entry's result.
//!
//! A batch closes when it is full or when no more acks are coming: the acks of one DeleteObjects
//! result arrive together (every message it completed is woken at once), and the batcher says how
//! many before it wakes them ([`AckForecast`]); the acker waits for those, and sends as soon as
//! none is due. Acks nobody forecast (a message with nothing to delete, a retry) get a few
//! scheduler turns to be joined by others. Up to four DeleteMessageBatch calls are in flight;
//! `linger` only bounds the gathering.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use backon::Retryable;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::forecast::AckForecast;
use crate::aws_error::{AwsError, ErrorClass};
use crate::queue::{Queue, Receipt};
use crate::supervisor::reraise_panic;
use crate::telemetry::events::{AckBatchFailed, AckEntryFailed, MessagesAcked};

const MAX_BATCH: usize = 10;

/// Scheduler rounds without a new ack before a partial batch is sent.
const IDLE_ROUNDS: usize = 4;

/// DeleteMessageBatch calls in flight at once: the acks of one large DeleteObjects result go out
/// side by side rather than one round trip after another.
const MAX_IN_FLIGHT: usize = 4;

struct AckRequest {
    receipt: Receipt,
    sent_at: Option<SystemTime>,
    reply: oneshot::Sender<Result<(), AwsError>>,
}

#[derive(Clone)]
pub struct Acker {
    tx: mpsc::Sender<AckRequest>,
}

impl Acker {
    /// Start the acker task; it ends (after flushing) when every `Acker` is dropped.
    pub fn spawn(
        queue: Arc<dyn Queue>,
        linger: Duration,
        forecast: Arc<AckForecast>,
    ) -> (Acker, tokio::task::JoinHandle<()>) {
        let (acker, task) = Acker::new(queue, linger, forecast);
        (acker, tokio::spawn(task))
    }

    /// The handle and the acker's task, for the caller to spawn (under the supervisor).
    /// `forecast`: the delete batcher's ([`super::batcher::DeleteBatcher::forecast`]).
    pub fn new(
        queue: Arc<dyn Queue>,
        linger: Duration,
        forecast: Arc<AckForecast>,
    ) -> (Acker, impl Future<Output = ()> + Send + 'static) {
        let (tx, rx) = mpsc::channel(1024);
        (Acker { tx }, run(queue, linger, forecast, rx))
    }

    /// Delete one message from the queue (batched with others).
    pub async fn ack(&self, receipt: Receipt, sent_at: Option<SystemTime>) -> Result<(), AwsError> {
        let (reply, rx) = oneshot::channel();
        let req = AckRequest {
            receipt,
            sent_at,
            reply,
        };
        if self.tx.send(req).await.is_err() {
            return Err(stopped());
        }
        rx.await.unwrap_or_else(|_| Err(stopped()))
    }
}

/// The error of an ack that never reached SQS because the acker task is gone.
pub fn is_stopped(e: &AwsError) -> bool {
    e.code == STOPPED
}

const STOPPED: &str = "AckerStopped";

fn stopped() -> AwsError {
    AwsError {
        service: "sqs",
        operation: "DeleteMessageBatch",
        code: STOPPED.into(),
        message: "the acker has stopped".into(),
        class: ErrorClass::Transient,
        request_id: None,
    }
}

async fn run(
    queue: Arc<dyn Queue>,
    linger: Duration,
    forecast: Arc<AckForecast>,
    mut rx: mpsc::Receiver<AckRequest>,
) {
    let mut flights = JoinSet::new();
    while let Some(first) = rx.recv().await {
        forecast.arrived();
        let mut batch = Vec::with_capacity(MAX_BATCH);
        batch.push(first);
        gather(&mut rx, &mut batch, &forecast, linger).await;
        while let Some(joined) = flights.try_join_next() {
            reraise_panic(joined);
        }
        if flights.len() >= MAX_IN_FLIGHT {
            if let Some(joined) = flights.join_next().await {
                reraise_panic(joined);
            }
        }
        let queue = queue.clone();
        flights.spawn(async move { flush(queue.as_ref(), batch).await });
    }
    while let Some(joined) = flights.join_next().await {
        reraise_panic(joined);
    }
}

/// Add the acks that are ready or about to be: stop when the batch is full, when none is
/// forecast and [`IDLE_ROUNDS`] scheduler rounds bring nothing new, or after `linger` (which
/// drops a forecast not met by then).
async fn gather(
    rx: &mut mpsc::Receiver<AckRequest>,
    batch: &mut Vec<AckRequest>,
    forecast: &AckForecast,
    linger: Duration,
) {
    let deadline = Instant::now() + linger;
    let mut idle = 0;
    while batch.len() < MAX_BATCH && idle < IDLE_ROUNDS {
        let got = match rx.try_recv() {
            Ok(req) => Some(req),
            Err(TryRecvError::Disconnected) => break,
            Err(TryRecvError::Empty) if forecast.due() > 0 => {
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(req)) => Some(req),
                    Ok(None) => break,
                    Err(_) => {
                        forecast.clear();
                        break;
                    }
                }
            }
            Err(TryRecvError::Empty) => None,
        };
        match got {
            Some(req) => {
                forecast.arrived();
                batch.push(req);
                idle = 0;
            }
            None => {
                idle += 1;
                tokio::task::yield_now().await;
            }
        }
        if Instant::now() >= deadline {
            break;
        }
    }
}

async fn flush(queue: &dyn Queue, batch: Vec<AckRequest>) {
    if batch.is_empty() {
        return;
    }
    let (receipts, slots) = distinct(&batch);
    let result = (|| queue.delete_batch(&receipts))
        .retry(
            backon::ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(100))
                .with_max_times(3)
                .with_jitter(),
        )
        .when(|e: &AwsError| e.is_transient())
        .await;
    let mut acked = Vec::with_capacity(batch.len());
    match result {
        Ok(results) => {
            for (req, slot) in batch.into_iter().zip(slots) {
                let Some(res) = results.get(slot).cloned() else {
                    continue;
                };
                if res.is_ok() {
                    acked.push(req.sent_at);
                } else if let Err(e) = &res {
                    AckEntryFailed { error: e }.emit();
                }
                let _ = req.reply.send(res);
            }
        }
        Err(err) => {
            AckBatchFailed { error: &err }.emit();
            for req in batch {
                let _ = req.reply.send(Err(err.clone()));
            }
        }
    }
    if !acked.is_empty() {
        MessagesAcked { sent_at: &acked }.emit();
    }
}

/// The batch's receipt handles, each once, and each request's index among them. The same handle
/// can be acknowledged twice at once (moto can hand one message to two receives with the same
/// handle); moto refuses a DeleteMessageBatch that names one twice, which would leave the other
/// nine messages to be redelivered.
fn distinct(batch: &[AckRequest]) -> (Vec<Receipt>, Vec<usize>) {
    let mut receipts: Vec<Receipt> = Vec::with_capacity(batch.len());
    let slots = batch
        .iter()
        .map(
            |req| match receipts.iter().position(|r| r == &req.receipt) {
                Some(i) => i,
                None => {
                    receipts.push(req.receipt.clone());
                    receipts.len() - 1
                }
            },
        )
        .collect();
    (receipts, slots)
}

#[cfg(test)]
#[path = "acker_tests.rs"]
mod tests;
