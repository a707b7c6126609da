//! A fault-injecting HTTP proxy between the binary and moto: counts requests per AWS operation
//! and, on demand and while running, fails them the way S3 and SQS do (see [`rules::Fault`]),
//! makes the endpoint unreachable for a while, or denies some keys inside DeleteObjects.
//!
//! It runs on its own thread and Tokio runtime, so a test that blocks (the harness's `ureq`
//! calls, `Daemon::start`) never stalls it. Point the binary at it with
//! `cmd.env("AWS_ENDPOINT_URL", proxy.url())`.
//!
//! # AWS-strict mode
//!
//! `FaultProxy::strict(upstream, StrictPolicy)` also makes the proxy answer as AWS would where
//! moto is lenient ([`strict`]; the full table is in docs/faults.md):
//! - IAM: each request is authorised, by `@cloud-copilot/iam-simulate`, against the identity
//!   policy of the caller's access key id. [`StrictPolicy::shipped`] maps [`WORKER_KEY`],
//!   [`OPERATOR_KEY`] and [`NOTION_WRITER_KEY`] to the module's own policies, rendered from
//!   `infra/terraform/modules/image-janitor/policies/*.json.tftpl` for the test's queues,
//!   buckets and prefix ([`PolicyVars::deployment`]). An unknown key is refused
//!   (`InvalidAccessKeyId` / `InvalidClientTokenId`).
//! - DeleteObjects: `s3:DeleteObject` per key; denied keys come back as per-key AccessDenied
//!   inside the 200 (moto gets the rest). ListObjects(V2): `s3:ListBucket` with `s3:prefix`.
//!   Get/HeadObject on a missing key: 404 only with an unconditioned `s3:ListBucket`, else 403.
//! - Limits: DeleteObjects ≤ 1,000 keys and XML-1.0-only characters (else 400 MalformedXML);
//!   SQS batches ≤ 10 entries and ≤ 1 MiB, ≤ 10 message attributes, bodies ≤ the queue's
//!   MaximumMessageSize.
//!
//! ```ignore
//! let vars = PolicyVars::deployment(&queue_url, &dlq_url, &[bucket.clone()], "keep-images/");
//! let proxy = FaultProxy::strict(common::moto(), StrictPolicy::shipped(&vars));
//! cmd.env("AWS_ENDPOINT_URL", proxy.url()).env("AWS_ACCESS_KEY_ID", WORKER_KEY);
//! // ... later: proxy.strict_denials() lists every refused action/resource.
//! ```
//! # Control instead of wall-clock margins
//!
//! - [`FaultProxy::gate`] holds matching requests until the test releases them ([`gate`]): act
//!   at the moment the binary is at a known step, never after a sleep.
//! - [`FaultProxy::backdate`] makes listings show chosen objects as written a known time ago
//!   ([`backdate`]): stale and fresh objects side by side, no waiting for ages to pass.
//!
//! Faults, latency, unreachability and `deny_deletes_under` keep working in strict mode (faults
//! are applied first, as a network or service failure would be). `common::Env` starts one
//! strict proxy per test and points `Env::janitor()` at it: strict is the harness's default.

pub mod backdate;
pub mod gate;
pub mod rules;
pub mod s3_deny;
pub mod strict;

use std::collections::{BTreeMap, HashMap};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_LENGTH};
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

#[allow(unused_imports)]
pub use gate::{Gate, GateRule};
pub use rules::{Fault, Op, Rule, Service};
#[allow(unused_imports)]
pub use strict::policy::{PolicyVars, Role};
pub use strict::{Denial, StrictPolicy, NOTION_WRITER_KEY, OPERATOR_KEY, WORKER_KEY};

type Upstream = Client<HttpConnector, Full<Bytes>>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Label under which connections refused while unreachable are counted.
pub const REFUSED: &str = "tcp:refused";

#[derive(Default)]
struct State {
    rules: Vec<(u64, Rule)>,
    next_rule: u64,
    unreachable_until: Option<Instant>,
    deny_prefixes: Vec<String>,
    /// `sqs:ReceiveMessage` → requests seen (faulted or not).
    counts: BTreeMap<String, u64>,
    /// `sqs:ReceiveMessage` → requests that got a fault (not latency).
    injected: BTreeMap<String, u64>,
    /// Keys of every DeleteObjects request that reached moto and got a 200.
    delete_batches: Vec<Vec<String>>,
    /// Every DeleteObjects request that hit a deny rule: (allowed keys, denied keys).
    denied: Vec<(Vec<String>, Vec<String>)>,
    /// Strict mode (None: off).
    strict: Option<strict::StrictState>,
    /// Gates, tried in order (the first that matches holds the request).
    gates: Vec<Arc<gate::GateState>>,
    /// Keys whose LastModified listings show moved back.
    ages: backdate::Ages,
    /// Listing entries backdated so far.
    backdated: u64,
}

#[derive(Default)]
struct Shared(Mutex<State>);

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Handle to a running proxy; stops it when dropped.
pub struct FaultProxy {
    url: String,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Identifies a rule for [`FaultProxy::remove`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleId(u64);

impl FaultProxy {
    /// Listen on 127.0.0.1:0 and forward to `upstream` (e.g. `common::moto()`).
    pub fn start(upstream: &str) -> FaultProxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind fault proxy");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("proxy address"));
        let shared = Arc::new(Shared::default());
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let upstream = upstream.trim_end_matches('/').to_owned();
        let state = shared.clone();
        let thread = std::thread::Builder::new()
            .name("faultproxy".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("fault proxy runtime");
                rt.block_on(async move {
                    let listener = TcpListener::from_std(listener).expect("tokio listener");
                    tokio::select! {
                        _ = serve(listener, state, upstream) => {}
                        _ = stopped => {}
                    }
                });
                rt.shutdown_background();
            })
            .expect("spawn fault proxy thread");
        FaultProxy {
            url,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// A proxy in AWS-strict mode (see the module docs) with these identities.
    pub fn strict(upstream: &str, policy: StrictPolicy) -> FaultProxy {
        // Start (or fail to start, loudly, in the test's own thread) the IAM evaluator now.
        strict::evaluator::shared();
        let proxy = FaultProxy::start(upstream);
        proxy.set_policy(policy);
        proxy
    }

    /// Turn strict mode on, or replace its identities (e.g. after adding a bucket).
    pub fn set_policy(&self, policy: StrictPolicy) {
        let mut s = self.shared.lock();
        s.strict.get_or_insert_with(Default::default).policy = policy;
    }

    /// Every action (or DeleteObjects key) strict mode refused so far.
    pub fn strict_denials(&self) -> Vec<Denial> {
        self.shared
            .lock()
            .strict
            .as_ref()
            .map(|s| s.denials.clone())
            .unwrap_or_default()
    }

    /// Checks the IAM evaluator could not evaluate (each was refused); should stay empty.
    pub fn strict_errors(&self) -> Vec<String> {
        self.shared
            .lock()
            .strict
            .as_ref()
            .map(|s| s.errors.clone())
            .unwrap_or_default()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Add a rule (rules are tried in order; latencies add up, the first fault wins).
    pub fn add(&self, rule: Rule) -> RuleId {
        let mut s = self.shared.lock();
        s.next_rule += 1;
        let id = s.next_rule;
        s.rules.push((id, rule));
        RuleId(id)
    }

    pub fn remove(&self, id: RuleId) {
        self.shared.lock().rules.retain(|(i, _)| *i != id.0);
    }

    pub fn clear_rules(&self) {
        self.shared.lock().rules.clear();
    }

    /// Reset every connection and request, new or pooled, for `d` from now.
    pub fn unreachable_for(&self, d: Duration) {
        self.shared.lock().unreachable_until = Some(Instant::now() + d);
    }

    /// DeleteObjects answers `AccessDenied` (inside a 200) for every key under `prefix`.
    pub fn deny_deletes_under(&self, prefix: &str) {
        self.shared.lock().deny_prefixes.push(prefix.to_owned());
    }

    /// Requests seen for one operation label (`sqs:ReceiveMessage`, `s3:DeleteObjects`, [`REFUSED`]).
    pub fn count(&self, label: &str) -> u64 {
        self.shared.lock().counts.get(label).copied().unwrap_or(0)
    }

    /// Every counter: label → requests seen.
    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.shared.lock().counts.clone()
    }

    /// Requests (and refused connections) seen so far, all operations.
    pub fn total(&self) -> u64 {
        self.shared.lock().counts.values().sum()
    }

    /// Faults injected, by operation label.
    pub fn injected(&self) -> BTreeMap<String, u64> {
        self.shared.lock().injected.clone()
    }

    /// The keys of every DeleteObjects request that moto answered with 200.
    pub fn delete_batches(&self) -> Vec<Vec<String>> {
        self.shared.lock().delete_batches.clone()
    }

    /// key → how many DeleteObjects requests that reached moto named it.
    pub fn deleted_key_counts(&self) -> HashMap<String, usize> {
        let mut out = HashMap::new();
        for batch in &self.shared.lock().delete_batches {
            for key in batch {
                *out.entry(key.clone()).or_insert(0) += 1;
            }
        }
        out
    }

    /// Hold matching requests until the test releases them (see [`gate`]).
    pub fn gate(&self, rule: GateRule) -> Gate {
        let state = Arc::new(gate::GateState::new(rule));
        self.shared.lock().gates.push(state.clone());
        Gate { state }
    }

    /// Listings through this proxy show these keys as written `by` before they really were.
    pub fn backdate<K: Into<String>>(&self, keys: impl IntoIterator<Item = K>, by: Duration) {
        let mut s = self.shared.lock();
        for k in keys {
            s.ages.insert(k.into(), by);
        }
    }

    /// Listing entries backdated so far (a test proves its scenario with it).
    pub fn backdated(&self) -> u64 {
        self.shared.lock().backdated
    }

    /// Every DeleteObjects request that hit a deny rule: (allowed keys, denied keys).
    pub fn denied_requests(&self) -> Vec<(Vec<String>, Vec<String>)> {
        self.shared.lock().denied.clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, upstream: String) {
    let client: Upstream = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(5))
        .build_http();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let conn = Conn::new(stream);
        {
            let mut s = shared.lock();
            if s.unreachable_until.is_some_and(|t| Instant::now() < t) {
                *s.counts.entry(REFUSED.into()).or_default() += 1;
                conn.reset.store(true, Ordering::SeqCst);
                continue; // dropped here: RST
            }
        }
        let reset = conn.reset.clone();
        let (shared, client, upstream) = (shared.clone(), client.clone(), upstream.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                handle(
                    shared.clone(),
                    client.clone(),
                    upstream.clone(),
                    reset.clone(),
                    req,
                )
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(conn), service)
                .await;
        });
    }
}

/// One request: count it, apply the rules, forward what is left.
async fn handle(
    shared: Arc<Shared>,
    client: Upstream,
    upstream: String,
    reset: Arc<AtomicBool>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, BoxError> {
    let op = Op::of(&req);
    let label = op.label();
    let now = Instant::now();
    let (latency, fault, deny) = {
        let mut s = shared.lock();
        *s.counts.entry(label.clone()).or_default() += 1;
        let mut latency = Duration::ZERO;
        let mut fault = None;
        if s.unreachable_until.is_some_and(|t| now < t) {
            fault = Some(Fault::Reset);
        }
        for (_, rule) in &s.rules {
            if fault.is_some() {
                break;
            }
            if rule.fires(&op, now) {
                match rule.fault {
                    Fault::Latency(d) => latency += d,
                    f => fault = Some(f),
                }
            }
        }
        if fault.is_some() {
            *s.injected.entry(label.clone()).or_default() += 1;
        }
        let deny = if op.name == "DeleteObjects" {
            s.deny_prefixes.clone()
        } else {
            Vec::new()
        };
        (latency, fault, deny)
    };
    let gate = {
        let s = shared.lock();
        let path = req.uri().path();
        s.gates.iter().find(|g| g.matches(&op, path)).cloned()
    };
    if let Some(gate) = gate {
        gate.hold().await;
    }
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match fault {
        Some(Fault::Reset) => {
            reset.store(true, Ordering::SeqCst);
            return Err("injected connection reset".into());
        }
        Some(f) => {
            if let Some(resp) = rules::error_response(f, &op) {
                return Ok(resp);
            }
        }
        None => {}
    }
    let (parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let (denied_keys, on_missing) =
        match strict::admit(&shared, &client, &upstream, &op, &parts, &body).await {
            strict::Admit::Respond(resp) => return Ok(resp),
            strict::Admit::Forward {
                denied_keys,
                on_missing,
            } => (denied_keys, on_missing),
        };
    if op.service != Service::S3 || op.name != "DeleteObjects" {
        let resp = forward(&client, &upstream, parts, body).await;
        let resp = strict::after_forward(&shared, on_missing, resp).await;
        return Ok(backdate::listing(&shared, &op, resp).await);
    }
    let is_denied =
        |key: &str| deny.iter().any(|p| key.starts_with(p.as_str())) || denied_keys.contains(key);
    let split = match s3_deny::split(&body, is_denied) {
        Ok(split) => split,
        // Not ours to judge: let moto answer a malformed request.
        Err(_) => return Ok(forward(&client, &upstream, parts, body).await),
    };
    if split.denied.is_empty() {
        let resp = forward(&client, &upstream, parts, body).await;
        if resp.status() == StatusCode::OK {
            shared.lock().delete_batches.push(split.allowed);
        }
        return Ok(resp);
    }
    let upstream_result = match split.forward {
        Some(xml) => {
            let mut parts = parts;
            for h in ["content-md5", "x-amz-sdk-checksum-algorithm"] {
                parts.headers.remove(h);
            }
            let checksums: Vec<_> = parts
                .headers
                .keys()
                .filter(|k| k.as_str().starts_with("x-amz-checksum-"))
                .cloned()
                .collect();
            for k in checksums {
                parts.headers.remove(k);
            }
            let resp = forward(&client, &upstream, parts, Bytes::from(xml)).await;
            if resp.status() != StatusCode::OK {
                return Ok(resp);
            }
            shared.lock().delete_batches.push(split.allowed.clone());
            Some(resp.into_body().collect().await?.to_bytes())
        }
        None => None,
    };
    shared
        .lock()
        .denied
        .push((split.allowed.clone(), split.denied.clone()));
    let xml = s3_deny::merge(upstream_result.as_deref(), &split.denied)?;
    let mut resp = Response::new(Full::new(Bytes::from(xml)));
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/xml"));
    Ok(resp)
}

/// Send the request on to moto with the same method, path, query and headers; 502 if moto fails.
async fn forward(
    client: &Upstream,
    upstream: &str,
    mut parts: hyper::http::request::Parts,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".into());
    match format!("{upstream}{path}").parse() {
        Ok(uri) => parts.uri = uri,
        Err(e) => return bad_gateway(&format!("bad upstream uri: {e}")),
    }
    // The body is buffered: frame it with a Content-Length of its own.
    for h in [
        "content-length",
        "transfer-encoding",
        "expect",
        "connection",
    ] {
        parts.headers.remove(h);
    }
    if !body.is_empty() || matches!(parts.method.as_str(), "POST" | "PUT") {
        parts
            .headers
            .insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    }
    let resp = match client
        .request(Request::from_parts(parts, Full::new(body)))
        .await
    {
        Ok(r) => r,
        Err(e) => return bad_gateway(&format!("upstream: {e}")),
    };
    let (mut parts, body) = resp.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return bad_gateway(&format!("upstream body: {e}")),
    };
    for h in ["transfer-encoding", "connection", "keep-alive"] {
        parts.headers.remove(h);
    }
    Response::from_parts(parts, Full::new(body))
}

fn bad_gateway(msg: &str) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(msg.to_owned())));
    *resp.status_mut() = StatusCode::BAD_GATEWAY;
    resp
}

/// A client connection that can be made to end with a TCP RST instead of a FIN.
struct Conn {
    stream: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Conn {
    fn new(stream: TcpStream) -> Conn {
        Conn {
            stream,
            reset: Arc::new(AtomicBool::new(false)),
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if self.reset.load(Ordering::SeqCst) {
            // SO_LINGER 0 makes close() send RST at once; with a zero timeout it never blocks,
            // which is what the deprecation warns about.
            #[allow(deprecated)]
            let _ = self.stream.set_linger(Some(Duration::ZERO));
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
