//! The acker: gathers "delete this message" requests from many message tasks into
//! DeleteMessageBatch calls of up to 10, checking each entry's result.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use backon::Retryable;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::queue::{Queue, Receipt};
use crate::retry::{AwsError, ErrorClass};
use crate::telemetry::events::MessagesAcked;

const MAX_BATCH: usize = 10;

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
    pub fn spawn(queue: Arc<dyn Queue>, linger: Duration) -> (Acker, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(1024);
        (Acker { tx }, tokio::spawn(run(queue, linger, rx)))
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

fn stopped() -> AwsError {
    AwsError {
        service: "sqs",
        operation: "DeleteMessageBatch",
        code: "AckerStopped".into(),
        message: "the acker has stopped".into(),
        class: ErrorClass::Transient,
        request_id: None,
    }
}

async fn run(queue: Arc<dyn Queue>, linger: Duration, mut rx: mpsc::Receiver<AckRequest>) {
    let mut batch: Vec<AckRequest> = Vec::with_capacity(MAX_BATCH);
    let mut deadline: Option<Instant> = None;
    loop {
        tokio::select! {
            req = rx.recv() => match req {
                Some(req) => {
                    deadline.get_or_insert_with(|| Instant::now() + linger);
                    batch.push(req);
                    if batch.len() >= MAX_BATCH {
                        flush(queue.as_ref(), std::mem::take(&mut batch)).await;
                        deadline = None;
                    }
                }
                None => break,
            },
            _ = async { match deadline { Some(t) => tokio::time::sleep_until(t).await, None => std::future::pending().await } } => {
                flush(queue.as_ref(), std::mem::take(&mut batch)).await;
                deadline = None;
            }
        }
    }
    flush(queue.as_ref(), batch).await;
}

async fn flush(queue: &dyn Queue, batch: Vec<AckRequest>) {
    if batch.is_empty() {
        return;
    }
    let receipts: Vec<Receipt> = batch.iter().map(|r| r.receipt.clone()).collect();
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
            for (req, res) in batch.into_iter().zip(results) {
                if res.is_ok() {
                    acked.push(req.sent_at);
                } else if let Err(e) = &res {
                    tracing::warn!(code = %e.code, request_id = e.request_id.as_deref(), error = %e.message, "message delete failed; it will be redelivered");
                }
                let _ = req.reply.send(res);
            }
        }
        Err(err) => {
            tracing::warn!(code = %err.code, request_id = err.request_id.as_deref(), error = %err.message, "DeleteMessageBatch failed; messages will be redelivered");
            for req in batch {
                let _ = req.reply.send(Err(err.clone()));
            }
        }
    }
    if !acked.is_empty() {
        MessagesAcked { sent_at: &acked }.emit();
    }
}
