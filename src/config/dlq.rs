//! Settings of the `dlq` commands (`peek`, `replay`): queues only, no buckets or prefix.

use std::time::Duration;

use super::{
    bad, dlq_url, log_format, parse_bool, parse_count, parse_duration, queue_url,
    required_queue_url, whole_seconds, ConfigError,
};
use crate::cli::{CommonArgs, PeekArgs, ReplayArgs};
use crate::reason::Reason;
use crate::telemetry::LogFormat;

/// Validated `dlq replay` options (see [`replay`]).
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// Stop after this many messages were moved (or, with `dry_run`, would be).
    pub max: Option<u64>,
    /// Only these reasons; empty = every message.
    pub reasons: Vec<Reason>,
    /// Messages sent per second at most.
    pub rate: Option<f64>,
    pub dry_run: bool,
    /// Stop once the DLQ yields nothing new for this long.
    pub idle: Duration,
    /// Visibility timeout of each receive: how long a message stays hidden if we crash.
    pub hold: Duration,
}

/// Settings of the `dlq` commands. They touch only queues, so unlike [`common`](super::common) they do not
/// require `JANITOR_BUCKETS` / `JANITOR_PREFIX` (an operator may replay from a laptop).
#[derive(Debug, Clone)]
pub struct DlqCommon {
    pub queue_url: String,
    pub dlq_url: Option<String>,
    pub log_format: LogFormat,
    pub audit: bool,
}

/// `dlq peek`.
#[derive(Debug, Clone)]
pub struct PeekSettings {
    pub max: usize,
    pub json: bool,
}

/// `dlq replay`.
#[derive(Debug, Clone)]
pub struct ReplaySettings {
    pub options: ReplayOptions,
    /// `--to`; `None` = the main queue.
    pub to: Option<String>,
}

/// Validate the queue settings of the `dlq` commands (buckets and prefix are not needed).
pub fn dlq_common(args: &CommonArgs) -> Result<DlqCommon, ConfigError> {
    let log_format = log_format(&args.log_format)?;
    let queue_url = required_queue_url(args.queue_url.as_deref())?;
    let dlq_url = dlq_url(args.dlq_url.as_deref(), &queue_url)?;
    let audit = parse_bool("JANITOR_AUDIT", &args.audit)?;
    Ok(DlqCommon {
        queue_url,
        dlq_url,
        log_format,
        audit,
    })
}

/// Validate `dlq peek`.
pub fn peek(args: &PeekArgs) -> Result<(DlqCommon, PeekSettings), ConfigError> {
    let max = parse_count("--max", &args.max, 1, 1000)?;
    let common = dlq_common(&args.common)?;
    Ok((
        common,
        PeekSettings {
            max,
            json: args.json,
        },
    ))
}

/// `--reason` values: each one of the seven reasons of CONTRACT §4; duplicates collapse.
fn reasons(raw: &[String]) -> Result<Vec<Reason>, ConfigError> {
    let mut out = Vec::new();
    for r in raw {
        let reason = Reason::parse(r.trim()).ok_or_else(|| {
            let known: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
            bad(
                "--reason",
                format!("unknown reason {r:?}; expected one of {}", known.join(", ")),
            )
        })?;
        if !out.contains(&reason) {
            out.push(reason);
        }
    }
    Ok(out)
}

/// `--rate`: messages per second, 0.1 to 10000.
fn rate(raw: &str) -> Result<f64, ConfigError> {
    let r: f64 = raw.trim().parse().map_err(|_| {
        bad(
            "--rate",
            format!("expected messages per second, e.g. 50 or 0.5, got {raw:?}"),
        )
    })?;
    if !r.is_finite() || !(0.1..=10_000.0).contains(&r) {
        return Err(bad(
            "--rate",
            format!("must be between 0.1 and 10000 messages per second, got {raw:?}"),
        ));
    }
    Ok(r)
}

/// Validate `dlq replay`.
pub fn replay(args: &ReplayArgs) -> Result<(DlqCommon, ReplaySettings), ConfigError> {
    let max = match &args.max {
        Some(m) => Some(parse_count("--max", m, 1, 100_000_000)?),
        None => None,
    };
    let reasons = reasons(&args.reasons)?;
    let rate = args.rate.as_deref().map(rate).transpose()?;
    let idle = parse_duration("--idle-timeout", &args.idle_timeout)?;
    if !(Duration::from_secs(1)..=Duration::from_secs(300)).contains(&idle) {
        return Err(bad(
            "--idle-timeout",
            format!("must be between 1s and 5m, got {:?}", args.idle_timeout),
        ));
    }
    let hold = parse_duration("--visibility-timeout", &args.visibility_timeout)?;
    let hold = whole_seconds("--visibility-timeout", hold, &args.visibility_timeout)?;
    if !(Duration::from_secs(2)..=Duration::from_secs(43_200)).contains(&hold) {
        return Err(bad(
            "--visibility-timeout",
            format!(
                "must be between 2s and 12h, got {:?}",
                args.visibility_timeout
            ),
        ));
    }
    // A received message waits at most about max(1 s, 1/rate) for its turn to be sent.
    if let Some(r) = rate {
        let wait = (1.0 / r).max(1.0);
        if hold.as_secs_f64() < 3.0 * wait {
            return Err(bad(
                "--visibility-timeout",
                format!("must be at least {:.0}s at --rate {r}", (3.0 * wait).ceil()),
            ));
        }
    }
    let to = match args.to.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => Some(queue_url("--to", v)?),
        Some(_) => return Err(bad("--to", "must be a queue URL, got an empty string")),
        None => None,
    };
    let common = dlq_common(&args.common)?;
    Ok((
        common,
        ReplaySettings {
            options: ReplayOptions {
                max,
                reasons,
                rate,
                dry_run: args.dry_run,
                idle,
                hold,
            },
            to,
        },
    ))
}
