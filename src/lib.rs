//! image-janitor: deletes temporary Keep images from S3 once the Notion Writer has copied them.
//!
//! Module map (see docs/ and ../shared/DESIGN.md for the flow):
//!
//! | module | job |
//! |---|---|
//! | [`cli`] | clap derive: `run`, `sweep`, `dlq {peek, replay}`, `publish`, `preflight` |
//! | [`config`] | raw flags/env → typed, validated settings ([`config::ConfigError`] → exit 2) |
//! | [`message`] | the page.created schema and SNS envelope (pure) |
//! | [`s3url`] | URL → [`s3url::ObjectRef`]; the location policy (pure) |
//! | [`reason`] | dead-letter reasons; [`reason::Rejection`] details are redacted, one line, ≤ 1 KiB |
//! | [`redact`] | URLs and free text as shown in logs, details and `dlq peek`: no query, fragment or userinfo (pure) |
//! | [`queue`] | the `Queue` seam; [`queue::sqs`] is the only `aws_sdk_sqs` user |
//! | [`store`] | the `ObjectStore` seam; [`store::s3`] is the only `aws_sdk_s3` user |
//! | [`aws`] | SDK config and SDK error → [`aws_error::AwsError`], shared by the two adapters |
//! | [`aws_error`] | [`aws_error::AwsError`] and its class (transient / permanent); pure |
//! | [`retry`] | backoff policies |
//! | [`worker`] | receive loops, delete batcher, acker, heartbeat, per-message verdicts |
//! | [`deadletter`] | dead-lettering with `janitor.*` attributes |
//! | [`dlq`] | operator tools: `dlq peek` and `dlq replay` |
//! | [`sweeper`] | stale-object sweeps (one-shot and the in-daemon timer) under an S3 lease |
//! | [`depth`] | queue-depth gauge poller |
//! | [`telemetry`] | tracing init, operational events, HTTP endpoints, metrics |
//! | [`timestamp`] | RFC 3339 UTC timestamps, formatted and parsed (pure) |
//! | [`shutdown`] | signals |
//! | [`app`] | `run` wired together, drain on shutdown |
//! | [`publish`] | `image-janitor publish` |
//! | [`preflight`] | `image-janitor preflight`: every permission and setting `run` needs, checked |

pub mod app;
pub mod aws;
pub mod aws_error;
pub mod cli;
pub mod config;
pub mod deadletter;
pub mod depth;
pub mod dlq;
pub mod message;
pub mod preflight;
pub mod publish;
pub mod queue;
pub mod reason;
pub mod redact;
pub mod retry;
pub mod s3url;
pub mod shutdown;
pub mod store;
pub mod sweeper;
pub mod telemetry;
pub mod timestamp;
pub mod worker;

#[cfg(test)]
pub mod fakes;
