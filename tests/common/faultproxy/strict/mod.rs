//! AWS-strict mode of the fault proxy: every request is authorised against the module's shipped
//! IAM policies (evaluated by `@cloud-copilot/iam-simulate`, see [`evaluator`]) and checked
//! against the S3/SQS limits moto does not enforce. The caller's identity is its access key id
//! (`Authorization: AWS4-HMAC-SHA256 Credential=<key>/…`), mapped to a role by [`StrictPolicy`].
//!
//! What is enforced, and how each answer is shaped, is tabled in docs/faults.md.

pub mod evaluator;
pub mod policy;
pub mod s3;
pub mod sqs;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::http::request::Parts;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::Value;

use self::evaluator::{Check, Decision};
use self::policy::{PolicyVars, Role, ACCOUNT};
use super::rules::{s3_error, Op, Service};
use super::{Shared, Upstream};

/// Access key ids of the three shipped roles in [`StrictPolicy::shipped`].
pub const WORKER_KEY: &str = "AKIDWORKER";
pub const OPERATOR_KEY: &str = "AKIDOPERATOR";
pub const NOTION_WRITER_KEY: &str = "AKIDNOTIONWRITER";

/// Who may do what: access key id → identity (a name and its identity policy).
#[derive(Debug, Clone, Default)]
pub struct StrictPolicy {
    identities: HashMap<String, Identity>,
}

#[derive(Debug, Clone)]
pub struct Identity {
    /// The role name, e.g. `worker` (principal `arn:aws:iam::123456789012:role/worker`).
    pub name: String,
    pub policy: Value,
}

impl StrictPolicy {
    /// No identities: every request is refused as from an unknown access key.
    pub fn new() -> StrictPolicy {
        StrictPolicy::default()
    }

    /// Requests signed with `access_key` act as role `name` holding `policy`.
    pub fn identity(mut self, access_key: &str, name: &str, policy: Value) -> StrictPolicy {
        self.identities.insert(
            access_key.to_owned(),
            Identity {
                name: name.to_owned(),
                policy,
            },
        );
        self
    }

    /// The module's worker, operator and Notion Writer policies for one deployment, under
    /// [`WORKER_KEY`], [`OPERATOR_KEY`] and [`NOTION_WRITER_KEY`].
    pub fn shipped(vars: &PolicyVars) -> StrictPolicy {
        StrictPolicy::new()
            .identity(WORKER_KEY, "worker", policy::policy(Role::Worker, vars))
            .identity(
                OPERATOR_KEY,
                "operator",
                policy::policy(Role::Operator, vars),
            )
            .identity(
                NOTION_WRITER_KEY,
                "notion-writer",
                policy::policy(Role::NotionWriter, vars),
            )
    }
}

/// A request (or a key of a DeleteObjects) strict mode refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Denial {
    /// Role name, or the unknown access key id.
    pub identity: String,
    pub action: String,
    pub resource: String,
    pub context: serde_json::Map<String, Value>,
}

/// Strict-mode state kept in the proxy.
#[derive(Default)]
pub(super) struct StrictState {
    pub policy: StrictPolicy,
    /// Queue URL → MaximumMessageSize, read once from moto.
    pub max_size: HashMap<String, usize>,
    pub denials: Vec<Denial>,
    /// Checks the evaluator could not evaluate (each also refused).
    pub errors: Vec<String>,
}

/// What to do with a request.
pub(super) enum Admit {
    Respond(Response<Full<Bytes>>),
    Forward {
        /// DeleteObjects keys to answer with per-key AccessDenied.
        denied_keys: HashSet<String>,
        /// Get/HeadObject: the ListBucket check deciding whether a 404 may be told.
        on_missing: Option<Missing>,
    },
}

pub(super) struct Missing {
    identity: Identity,
    list: Check,
    method: Method,
}

fn forward_all() -> Admit {
    Admit::Forward {
        denied_keys: HashSet::new(),
        on_missing: None,
    }
}

/// `(access key id, region)` from a SigV4 `Authorization` header.
fn credential(parts: &Parts) -> Option<(String, String)> {
    let auth = parts.headers.get("authorization")?.to_str().ok()?;
    let scope = auth.split("Credential=").nth(1)?.split([',', ' ']).next()?;
    let mut fields = scope.split('/');
    let key = fields.next()?.to_owned();
    let region = fields.nth(1).unwrap_or(crate::common::REGION).to_owned();
    Some((key, region))
}

fn principal(identity: &Identity) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{}", identity.name)
}

/// Ask the evaluator; record denials and evaluator errors. True per allowed check.
async fn evaluate(shared: &Arc<Shared>, identity: &Identity, checks: Vec<Check>) -> Vec<bool> {
    let (who, policy) = (principal(identity), identity.policy.clone());
    let asked = checks.clone();
    let decisions =
        tokio::task::spawn_blocking(move || evaluator::shared().evaluate(&who, &policy, &asked))
            .await
            .unwrap_or_else(|e| panic!("IAM evaluator task: {e}"));
    let mut s = shared.lock();
    let strict = s.strict.get_or_insert_with(Default::default);
    checks
        .into_iter()
        .zip(decisions)
        .map(|(c, d)| {
            if let Decision::Error(e) = &d {
                eprintln!(
                    "[strict proxy] evaluator error for {} on {}: {e}",
                    c.action, c.resource
                );
                strict
                    .errors
                    .push(format!("{} {}: {e}", c.action, c.resource));
            }
            let allowed = d == Decision::Allowed;
            if !allowed {
                strict.denials.push(Denial {
                    identity: identity.name.clone(),
                    action: c.action,
                    resource: c.resource,
                    context: c.context,
                });
            }
            allowed
        })
        .collect()
}

/// Authorise a request and apply the limits; `None` when strict mode is off.
pub(super) async fn admit(
    shared: &Arc<Shared>,
    client: &Upstream,
    upstream: &str,
    op: &Op,
    parts: &Parts,
    body: &Bytes,
) -> Admit {
    let Some(policy) = shared.lock().strict.as_ref().map(|s| s.policy.clone()) else {
        return forward_all();
    };
    let (key, region) = credential(parts).unwrap_or_default();
    let Some(identity) = policy.identities.get(&key).cloned() else {
        shared
            .lock()
            .strict
            .get_or_insert_with(Default::default)
            .denials
            .push(Denial {
                identity: key.clone(),
                action: op.label(),
                resource: "*".into(),
                context: Default::default(),
            });
        return Admit::Respond(unknown_key(op, &parts.method));
    };
    match op.service {
        Service::S3 => admit_s3(shared, &identity, op, parts, body).await,
        Service::Sqs => {
            admit_sqs(
                shared, client, upstream, &identity, op, parts, body, &region,
            )
            .await
        }
    }
}

fn unknown_key(op: &Op, method: &Method) -> Response<Full<Bytes>> {
    match op.service {
        Service::S3 => {
            let mut resp = s3_error(
                StatusCode::FORBIDDEN,
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
                "STRICT",
            );
            if method == Method::HEAD {
                *resp.body_mut() = Full::new(Bytes::new());
            }
            resp
        }
        Service::Sqs => sqs::error(
            StatusCode::FORBIDDEN,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        ),
    }
}

async fn admit_s3(
    shared: &Arc<Shared>,
    identity: &Identity,
    op: &Op,
    parts: &Parts,
    body: &Bytes,
) -> Admit {
    let query: HashMap<String, String> = parts
        .uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    match s3::need(op, &parts.method, parts.uri.path(), &query, body) {
        s3::S3Need::Refuse(resp) => Admit::Respond(resp),
        s3::S3Need::All(checks) => {
            if evaluate(shared, identity, checks).await.iter().all(|a| *a) {
                forward_all()
            } else {
                Admit::Respond(s3::access_denied(&parts.method))
            }
        }
        s3::S3Need::Object { checks, list } => {
            if evaluate(shared, identity, checks).await.iter().all(|a| *a) {
                Admit::Forward {
                    denied_keys: HashSet::new(),
                    on_missing: Some(Missing {
                        identity: identity.clone(),
                        list,
                        method: parts.method.clone(),
                    }),
                }
            } else {
                Admit::Respond(s3::access_denied(&parts.method))
            }
        }
        s3::S3Need::PerKey { keys, checks } => {
            let allowed = evaluate(shared, identity, checks).await;
            let denied_keys = keys
                .into_iter()
                .zip(allowed)
                .filter(|(_, a)| !a)
                .map(|(k, _)| k)
                .collect();
            Admit::Forward {
                denied_keys,
                on_missing: None,
            }
        }
    }
}

/// After forwarding a Get/HeadObject: S3 tells "no such key" (404) only to a caller that may
/// list the bucket without a prefix condition; anyone else gets 403 AccessDenied.
pub(super) async fn after_forward(
    shared: &Arc<Shared>,
    missing: Option<Missing>,
    resp: Response<Full<Bytes>>,
) -> Response<Full<Bytes>> {
    let Some(m) = missing else {
        return resp;
    };
    if resp.status() != StatusCode::NOT_FOUND {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let no_such_key =
        m.method == Method::HEAD || String::from_utf8_lossy(&bytes).contains("NoSuchKey");
    if no_such_key && !evaluate(shared, &m.identity, vec![m.list]).await[0] {
        return s3::access_denied(&m.method);
    }
    Response::from_parts(parts, Full::new(bytes))
}

#[allow(clippy::too_many_arguments)]
async fn admit_sqs(
    shared: &Arc<Shared>,
    client: &Upstream,
    upstream: &str,
    identity: &Identity,
    op: &Op,
    parts: &Parts,
    body: &Bytes,
    region: &str,
) -> Admit {
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        return forward_all(); // not ours to judge: moto answers a malformed request
    };
    let check = sqs::check(&op.name, &json, region);
    let (action, resource) = (check.action.clone(), check.resource.clone());
    if !evaluate(shared, identity, vec![check]).await[0] {
        return Admit::Respond(sqs::access_denied(&action, &resource));
    }
    if let Some(resp) = sqs::static_limits(&op.name, &json) {
        return Admit::Respond(resp);
    }
    if matches!(op.name.as_str(), "SendMessage" | "SendMessageBatch") {
        if let Some(url) = json["QueueUrl"].as_str() {
            if let Some(max) = max_message_size(shared, client, upstream, parts, url).await {
                if let Some(resp) = sqs::size_limit(&op.name, &json, max) {
                    return Admit::Respond(resp);
                }
            }
        }
    }
    forward_all()
}

/// The queue's MaximumMessageSize, read from moto once per queue.
async fn max_message_size(
    shared: &Arc<Shared>,
    client: &Upstream,
    upstream: &str,
    parts: &Parts,
    queue_url: &str,
) -> Option<usize> {
    let cached = shared
        .lock()
        .strict
        .as_ref()
        .and_then(|s| s.max_size.get(queue_url).copied());
    if cached.is_some() {
        return cached;
    }
    let body = serde_json::json!({"QueueUrl": queue_url, "AttributeNames": ["MaximumMessageSize"]});
    let mut req = Request::post(format!("{upstream}/"))
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", "AmazonSQS.GetQueueAttributes");
    if let Some(auth) = parts.headers.get("authorization") {
        req = req.header("authorization", auth.clone());
    }
    let req = req.body(Full::new(Bytes::from(body.to_string()))).ok()?;
    let resp = client.request(req).await.ok()?;
    let bytes = resp.into_body().collect().await.ok()?.to_bytes();
    let answer: Value = serde_json::from_slice(&bytes).ok()?;
    let max = answer["Attributes"]["MaximumMessageSize"]
        .as_str()?
        .parse()
        .ok()?;
    if let Some(s) = shared.lock().strict.as_mut() {
        s.max_size.insert(queue_url.to_owned(), max);
    }
    Some(max)
}
