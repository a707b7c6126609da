//! The delete batcher: gathers keys from many messages, groups them by bucket, removes duplicates,
//! and flushes a bucket's keys as one DeleteObjects request at 1000 keys or as soon as nothing
//! more can join the batch soon (see [`super::intake`]); a linger only bounds the wait.
//! Per-key results are fanned back to every message that asked for the key.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::forecast::AckForecast;
use super::intake::{HandOver, Intake};
use crate::aws_error::{AwsError, ErrorClass};
use crate::s3url::ObjectRef;
use crate::store::{KeyOutcome, ObjectStore, MAX_KEYS_PER_DELETE};
use crate::supervisor::reraise_panic;
use crate::telemetry::events::{BatchClose, DeleteBatchClosed, DeleteBatchDone, Source};

/// Tuning of the batcher.
#[derive(Debug, Clone, Copy)]
pub struct BatcherConfig {
    /// Flush a bucket once it holds this many distinct keys (never more than 1000).
    pub max_keys: usize,
    /// The longest a bucket's keys wait for more to join: a safety net. A batch closes when the
    /// intake is quiet or the in-hand cap binds, which under load takes a few receive round trips
    /// (the 200 ms this used to be closed batches early whenever moto took 200-300 ms a call);
    /// this bound only matters when a probe is very slow to return.
    pub linger: Duration,
    /// DeleteObjects requests in flight at once.
    pub max_in_flight: usize,
}

impl Default for BatcherConfig {
    fn default() -> Self {
        BatcherConfig {
            max_keys: MAX_KEYS_PER_DELETE,
            linger: Duration::from_secs(1),
            max_in_flight: 8,
        }
    }
}

type KeyReply = oneshot::Sender<Result<(), AwsError>>;

struct Request {
    items: Vec<(ObjectRef, KeyReply)>,
    /// Dropped once the items are pending: the message has handed its keys over.
    handover: Option<HandOver>,
}

#[derive(Default)]
struct Pending {
    /// key → everyone waiting for it.
    keys: HashMap<String, Vec<KeyReply>>,
    /// Keys in arrival order (requests are sent in this order).
    order: Vec<String>,
    first_at: Option<Instant>,
    /// Messages (batcher requests) that added keys.
    messages: usize,
}

/// Handle to the batcher task. Cloneable; the task ends (after flushing) when all handles drop.
#[derive(Clone)]
pub struct DeleteBatcher {
    tx: mpsc::Sender<Request>,
    intake: Arc<Intake>,
    forecast: Arc<AckForecast>,
}

impl DeleteBatcher {
    /// Start the batcher task. Await the returned handle after dropping every `DeleteBatcher`.
    pub fn spawn(
        store: Arc<dyn ObjectStore>,
        config: BatcherConfig,
    ) -> (DeleteBatcher, tokio::task::JoinHandle<()>) {
        let (batcher, task) = DeleteBatcher::new(store, config);
        (batcher, tokio::spawn(task))
    }

    /// The handle and the batcher's task, for the caller to spawn (under the supervisor).
    pub fn new(
        store: Arc<dyn ObjectStore>,
        config: BatcherConfig,
    ) -> (DeleteBatcher, impl Future<Output = ()> + Send + 'static) {
        let (tx, rx) = mpsc::channel(1024);
        let config = BatcherConfig {
            max_keys: config.max_keys.clamp(1, MAX_KEYS_PER_DELETE),
            max_in_flight: config.max_in_flight.max(1),
            ..config
        };
        let intake = Arc::new(Intake::default());
        let forecast = Arc::new(AckForecast::default());
        let task = run(store, config, intake.clone(), forecast.clone(), rx);
        (
            DeleteBatcher {
                tx,
                intake,
                forecast,
            },
            task,
        )
    }

    /// The acknowledgements a completed DeleteObjects is about to cause (for the acker).
    pub fn forecast(&self) -> &Arc<AckForecast> {
        &self.forecast
    }

    /// What the receive loops report to, so that batches close when nothing more can join.
    pub fn intake(&self) -> &Arc<Intake> {
        &self.intake
    }

    /// Delete these objects; one result per object, in order. `Ok` = deleted or already absent.
    pub async fn delete(&self, objects: &[ObjectRef]) -> Vec<Result<(), AwsError>> {
        self.submit(objects, None).await
    }

    /// [`Self::delete`] for a message's first attempt: `handover` is released once the keys are
    /// pending in the batcher (or the batcher has stopped).
    pub async fn hand_over(
        &self,
        objects: &[ObjectRef],
        handover: HandOver,
    ) -> Vec<Result<(), AwsError>> {
        self.submit(objects, Some(handover)).await
    }

    async fn submit(
        &self,
        objects: &[ObjectRef],
        handover: Option<HandOver>,
    ) -> Vec<Result<(), AwsError>> {
        let mut items = Vec::with_capacity(objects.len());
        let mut waits = Vec::with_capacity(objects.len());
        for obj in objects {
            let (tx, rx) = oneshot::channel();
            items.push((obj.clone(), tx));
            waits.push(rx);
        }
        if self.tx.send(Request { items, handover }).await.is_err() {
            return objects.iter().map(|_| Err(stopped())).collect();
        }
        let mut out = Vec::with_capacity(waits.len());
        for rx in waits {
            out.push(rx.await.unwrap_or_else(|_| Err(stopped())));
        }
        out
    }
}

fn stopped() -> AwsError {
    AwsError {
        service: "s3",
        operation: "DeleteObjects",
        code: "BatcherStopped".into(),
        message: "the delete batcher has stopped".into(),
        class: ErrorClass::Transient,
        request_id: None,
    }
}

async fn run(
    store: Arc<dyn ObjectStore>,
    config: BatcherConfig,
    intake: Arc<Intake>,
    forecast: Arc<AckForecast>,
    mut rx: mpsc::Receiver<Request>,
) {
    let out = Out {
        store,
        forecast,
        permits: Arc::new(Semaphore::new(config.max_in_flight)),
    };
    let mut pending: HashMap<String, Pending> = HashMap::new();
    let mut flights = JoinSet::new();
    let mut changes = intake.subscribe();
    loop {
        let deadline = pending
            .values()
            .filter_map(|p| p.first_at)
            .min()
            .map(|t| t + config.linger);
        tokio::select! {
            req = rx.recv() => {
                let Some(req) = req else { break };
                add(&out, &mut flights, &mut pending, config, req).await;
                // Everything already queued joins this batch before it is judged.
                while let Ok(req) = rx.try_recv() {
                    add(&out, &mut flights, &mut pending, config, req).await;
                }
            }
            changed = changes.changed() => {
                if changed.is_err() {
                    // Unreachable while `intake` is held here; never spin on a closed channel.
                    changes = intake.subscribe();
                }
            }
            _ = sleep_until_opt(deadline) => {
                let now = Instant::now();
                let due: Vec<String> = pending
                    .iter()
                    .filter(|(_, p)| p.first_at.is_some_and(|t| t + config.linger <= now))
                    .map(|(b, _)| b.clone())
                    .collect();
                for bucket in due {
                    if let Some(p) = pending.remove(&bucket) {
                        launch(&out, &mut flights, bucket, p, BatchClose::Linger).await;
                    }
                }
            }
            Some(joined) = flights.join_next(), if !flights.is_empty() => reraise_panic(joined),
        }
        let open: usize = pending.values().map(|p| p.messages).sum();
        let close = changes
            .borrow_and_update()
            .close_reason(!flights.is_empty(), open);
        if let Some(reason) = close.filter(|_| !pending.is_empty()) {
            close_all(&out, &mut flights, &mut pending, reason).await;
        }
    }
    close_all(&out, &mut flights, &mut pending, BatchClose::Shutdown).await;
    while let Some(joined) = flights.join_next().await {
        reraise_panic(joined);
    }
}

/// Where closed batches go: the store, at most `max_in_flight` at once, with the acker told
/// what a batch's success is about to cause.
struct Out {
    store: Arc<dyn ObjectStore>,
    forecast: Arc<AckForecast>,
    permits: Arc<Semaphore>,
}

/// Make one message's keys pending (flushing a bucket that reaches `max_keys`), then release its
/// hand-over guard.
async fn add(
    out: &Out,
    flights: &mut JoinSet<()>,
    pending: &mut HashMap<String, Pending>,
    config: BatcherConfig,
    req: Request,
) {
    let mut last_bucket: Option<String> = None;
    for (obj, reply) in req.items {
        let p = pending.entry(obj.bucket.clone()).or_default();
        p.first_at.get_or_insert_with(Instant::now);
        if last_bucket.as_deref() != Some(obj.bucket.as_str()) || p.messages == 0 {
            p.messages += 1;
            last_bucket = Some(obj.bucket.clone());
        }
        match p.keys.get_mut(&obj.key) {
            Some(waiters) => waiters.push(reply),
            None => {
                p.order.push(obj.key.clone());
                p.keys.insert(obj.key, vec![reply]);
            }
        }
        if p.order.len() >= config.max_keys {
            let full = std::mem::take(p);
            launch(out, flights, obj.bucket, full, BatchClose::Full).await;
        }
    }
    drop(req.handover);
}

/// Close every bucket's batch now.
async fn close_all(
    out: &Out,
    flights: &mut JoinSet<()>,
    pending: &mut HashMap<String, Pending>,
    reason: BatchClose,
) {
    for (bucket, p) in pending.drain() {
        launch(out, flights, bucket, p, reason).await;
    }
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

/// Send one DeleteObjects request (waiting for a free slot first) and fan out its results.
async fn launch(
    out: &Out,
    flights: &mut JoinSet<()>,
    bucket: String,
    batch: Pending,
    reason: BatchClose,
) {
    if batch.order.is_empty() {
        return;
    }
    DeleteBatchClosed {
        bucket: &bucket,
        keys: batch.order.len(),
        messages: batch.messages,
        reason,
        age: batch.first_at.map(|t| t.elapsed()).unwrap_or_default(),
    }
    .emit();
    let Ok(permit) = out.permits.clone().acquire_owned().await else {
        return;
    };
    let (store, forecast) = (out.store.clone(), out.forecast.clone());
    flights.spawn(async move {
        let _permit = permit;
        flush(store.as_ref(), &forecast, &bucket, batch).await;
    });
}

async fn flush(store: &dyn ObjectStore, forecast: &AckForecast, bucket: &str, mut batch: Pending) {
    let started = Instant::now();
    let requested = batch.order.len();
    let (mut deleted, mut transient, mut permanent) = (0, 0, 0);
    let mut count = |r: &Result<(), AwsError>| match r {
        Ok(()) => deleted += 1,
        Err(e) if e.is_transient() => transient += 1,
        Err(_) => permanent += 1,
    };
    match store.delete_objects(bucket, &batch.order).await {
        Ok(outcomes) => {
            // Every key deleted: each message of the batch acknowledges next (unless it waits
            // for another batch); tell the acker before waking them.
            if outcomes.len() == requested && outcomes.iter().all(|o| o.result.is_ok()) {
                forecast.expect(batch.messages);
            }
            for outcome in outcomes {
                count(&outcome.result);
                if let Some(waiters) = batch.keys.remove(&outcome.key) {
                    for w in waiters {
                        let _ = w.send(outcome.result.clone());
                    }
                }
            }
        }
        Err(err) if narrowable(&err) && batch.order.len() > 1 => {
            for outcome in narrow(store, bucket, &batch.order, err).await {
                count(&outcome.result);
                if let Some(waiters) = batch.keys.remove(&outcome.key) {
                    for w in waiters {
                        let _ = w.send(outcome.result.clone());
                    }
                }
            }
        }
        Err(err) => {
            for (_, waiters) in batch.keys.drain() {
                count(&Err(err.clone()));
                for w in waiters {
                    let _ = w.send(Err(err.clone()));
                }
            }
        }
    }
    // A key the store did not report on: treat as a transient failure, never as success.
    for (_, waiters) in batch.keys.drain() {
        let err = AwsError {
            code: "MissingResult".into(),
            message: "DeleteObjects response did not cover this key".into(),
            ..stopped()
        };
        count(&Err(err.clone()));
        for w in waiters {
            let _ = w.send(Err(err.clone()));
        }
    }
    DeleteBatchDone {
        source: Source::Worker,
        bucket,
        requested,
        deleted,
        transient_errors: transient,
        permanent_errors: permanent,
        elapsed: started.elapsed(),
    }
    .emit();
}

/// A permanent error for a whole DeleteObjects that one of its keys may have caused
/// (`MalformedXML`, `InvalidArgument`, ...): worth narrowing down so that the messages whose
/// keys merely rode in the same request are not dead-lettered with the culprit. Bucket-wide
/// refusals (`NoSuchBucket`, `AccessDenied`) and transient errors are not narrowed.
fn narrowable(err: &AwsError) -> bool {
    !err.is_transient() && !matches!(err.code.as_str(), "NoSuchBucket" | "AccessDenied")
}

/// Bisect a rejected request: retry each half; a half that fails the same way is split again,
/// down to single keys. Costs about 2·log2(n) requests per culprit, and only on failure.
async fn narrow(
    store: &dyn ObjectStore,
    bucket: &str,
    keys: &[String],
    first: AwsError,
) -> Vec<KeyOutcome> {
    let mut out = Vec::with_capacity(keys.len());
    let mut todo: Vec<(Vec<String>, AwsError)> = vec![(keys.to_vec(), first)];
    while let Some((keys, err)) = todo.pop() {
        if keys.len() == 1 || !narrowable(&err) {
            out.extend(keys.into_iter().map(|key| KeyOutcome {
                key,
                result: Err(err.clone()),
            }));
            continue;
        }
        let (left, right) = keys.split_at(keys.len() / 2);
        for half in [left, right] {
            match store.delete_objects(bucket, half).await {
                Ok(outcomes) => out.extend(outcomes),
                Err(e) => todo.push((half.to_vec(), e)),
            }
        }
    }
    tracing::info!(
        bucket,
        keys = keys.len(),
        "DeleteObjects was rejected as a whole; narrowed it down key by key"
    );
    out
}
