//! What the fault proxy does to a request: which AWS operation it is, which rules match it,
//! and the error responses it fakes, shaped as S3 (REST-XML) and SQS (JSON protocol) send them.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, Response, StatusCode};

/// The service a request is for: SQS JSON-protocol calls carry `X-Amz-Target: AmazonSQS.*`,
/// everything else is S3 (path-style).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Sqs,
    S3,
}

/// One request, classified: `Op { service: S3, name: "DeleteObjects" }`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Op {
    pub service: Service,
    pub name: String,
}

impl Op {
    /// Classify a request by the AWS operation it performs.
    pub fn of<B>(req: &Request<B>) -> Op {
        if let Some(target) = req
            .headers()
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
        {
            let name = target.rsplit('.').next().unwrap_or(target).to_owned();
            return Op {
                service: Service::Sqs,
                name,
            };
        }
        let path = req.uri().path().trim_start_matches('/');
        let has_key = path.split_once('/').is_some_and(|(_, k)| !k.is_empty());
        let query: Vec<(String, String)> = req
            .uri()
            .query()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        let has = |name: &str| query.iter().any(|(k, _)| k == name);
        let name = match (req.method(), has_key) {
            (&Method::POST, false) if has("delete") => "DeleteObjects",
            (&Method::GET, false) if query.iter().any(|(k, v)| k == "list-type" && v == "2") => {
                "ListObjectsV2"
            }
            (&Method::GET, false) => "ListObjects",
            (&Method::PUT, false) => "CreateBucket",
            (&Method::HEAD, false) => "HeadBucket",
            (&Method::PUT, true) => "PutObject",
            (&Method::GET, true) => "GetObject",
            (&Method::HEAD, true) => "HeadObject",
            (&Method::DELETE, true) => "DeleteObject",
            (m, _) => return Op::s3(&format!("{m}")),
        };
        Op::s3(name)
    }

    fn s3(name: &str) -> Op {
        Op {
            service: Service::S3,
            name: name.to_owned(),
        }
    }

    /// `sqs:ReceiveMessage`, `s3:DeleteObjects`: the key of the proxy's counters.
    pub fn label(&self) -> String {
        let service = match self.service {
            Service::Sqs => "sqs",
            Service::S3 => "s3",
        };
        format!("{service}:{}", self.name)
    }
}

/// What to do to a matching request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// S3 `503 SlowDown`.
    S3SlowDown,
    /// S3 `500 InternalError`.
    S3InternalError,
    /// SQS `500 InternalFailure` (JSON protocol, `x-amzn-query-error`).
    SqsInternalError,
    /// SQS `400 RequestThrottled` (JSON protocol, `x-amzn-query-error`).
    SqsThrottled,
    /// Close the connection without a response (TCP RST).
    Reset,
    /// Wait this long, then go on (other rules may still apply; the request is forwarded).
    Latency(Duration),
}

/// Which requests a rule applies to, how often, and until when.
#[derive(Debug, Clone)]
pub struct Rule {
    pub service: Option<Service>,
    pub operation: Option<String>,
    pub fault: Fault,
    pub probability: f64,
    pub until: Option<Instant>,
}

impl Rule {
    /// Every request of `service` (None = every request) gets `fault`, until removed.
    pub fn new(service: Option<Service>, fault: Fault) -> Rule {
        Rule {
            service,
            operation: None,
            fault,
            probability: 1.0,
            until: None,
        }
    }

    pub fn s3(fault: Fault) -> Rule {
        Rule::new(Some(Service::S3), fault)
    }

    pub fn sqs(fault: Fault) -> Rule {
        Rule::new(Some(Service::Sqs), fault)
    }

    pub fn all(fault: Fault) -> Rule {
        Rule::new(None, fault)
    }

    /// Only this operation (`ReceiveMessage`, `DeleteObjects`, ...).
    pub fn operation(mut self, name: &str) -> Rule {
        self.operation = Some(name.to_owned());
        self
    }

    /// Apply to this fraction of the matching requests (0.0–1.0).
    pub fn probability(mut self, p: f64) -> Rule {
        self.probability = p;
        self
    }

    /// Expire this long from now.
    pub fn for_duration(mut self, d: Duration) -> Rule {
        self.until = Some(Instant::now() + d);
        self
    }

    pub fn is_live(&self, now: Instant) -> bool {
        self.until.is_none_or(|t| now < t)
    }

    /// Does this rule fire for this request (the dice are rolled here)?
    pub fn fires(&self, op: &Op, now: Instant) -> bool {
        self.is_live(now)
            && self.service.is_none_or(|s| s == op.service)
            && self.operation.as_deref().is_none_or(|o| o == op.name)
            && (self.probability >= 1.0 || fastrand::f64() < self.probability)
    }
}

/// The response a real service would send for this fault (None for `Reset` and `Latency`).
pub fn error_response(fault: Fault, op: &Op) -> Option<Response<Full<Bytes>>> {
    let request_id = format!("FAULT{:016X}", fastrand::u64(..));
    match fault {
        Fault::S3SlowDown => Some(s3_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "SlowDown",
            "Please reduce your request rate.",
            &request_id,
        )),
        Fault::S3InternalError => Some(s3_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "We encountered an internal error. Please try again.",
            &request_id,
        )),
        Fault::SqsInternalError => Some(sqs_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailure",
            "Receiver",
            &format!("injected internal failure of {}", op.name),
            &request_id,
        )),
        Fault::SqsThrottled => Some(sqs_error(
            StatusCode::BAD_REQUEST,
            "RequestThrottled",
            "Sender",
            "Rate exceeded",
            &request_id,
        )),
        Fault::Reset | Fault::Latency(_) => None,
    }
}

/// An S3 REST error: an XML `<Error>` document, as S3 sends it.
pub fn s3_error(
    status: StatusCode,
    code: &str,
    message: &str,
    request_id: &str,
) -> Response<Full<Bytes>> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{request_id}</RequestId><HostId>faultproxy</HostId></Error>"
    );
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert("content-type", hv("application/xml"));
    h.insert("x-amz-request-id", hv(request_id));
    resp
}

/// An SQS JSON-protocol error: `__type` in the body and the query-compatible code in
/// `x-amzn-query-error` (`Code;Sender|Receiver`), which aws-sdk-sqs prefers for the error code.
pub fn sqs_error(
    status: StatusCode,
    code: &str,
    fault: &str,
    message: &str,
    request_id: &str,
) -> Response<Full<Bytes>> {
    let body = serde_json::json!({
        "__type": format!("com.amazonaws.sqs#{code}"),
        "message": message,
    })
    .to_string();
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert("content-type", hv("application/x-amz-json-1.0"));
    h.insert("x-amzn-query-error", hv(&format!("{code};{fault}")));
    h.insert("x-amzn-requestid", hv(request_id));
    resp
}

fn hv(s: &str) -> hyper::header::HeaderValue {
    hyper::header::HeaderValue::from_str(s).expect("a valid header value")
}
