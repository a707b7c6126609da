//! Typed, validated settings: every `JANITOR_*` variable of CONTRACT §5, converted once.
//! A bad value becomes a [`ConfigError`] naming the setting; `main` prints it and exits 2,
//! before any AWS call.

use std::net::SocketAddr;
use std::num::{NonZeroU32, NonZeroUsize};
use std::time::Duration;

use crate::cli::{CommonArgs, RunArgs, SweepArgs};
use crate::queue::QueueId;
use crate::s3url::{valid_bucket_name, LocationPolicy, ObjectRef, S3Endpoint};
use crate::telemetry::LogFormat;

/// A setting with a bad or missing value. Displays as one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {setting}: {problem}")]
pub struct ConfigError {
    /// The environment variable (and, lower-cased, the flag) at fault.
    pub setting: &'static str,
    pub problem: String,
}

/// Where environment-only settings (the lease's location and TTL, the S3 endpoint, an explicitly
/// empty `JANITOR_PREFIX`) are read from: the process environment, or a map in tests.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment (a value that is not UTF-8 counts as unset).
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn bad(setting: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        setting,
        problem: problem.into().replace('\n', " "),
    }
}

/// Settings common to commands that touch the queue and the buckets.
#[derive(Debug, Clone)]
pub struct Common {
    pub queue_url: String,
    pub dlq_url: Option<String>,
    pub policy: LocationPolicy,
    pub log_format: LogFormat,
    pub force_path_style: bool,
    pub audit: bool,
    /// The configured S3 endpoint (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL), for URL matching.
    pub s3_endpoint: Option<S3Endpoint>,
}

/// Where the sweeper's lease object lives (outside the allowed prefix; own IAM permission).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseLocation {
    pub bucket: String,
    pub key: String,
}

/// The sweeper's settings.
#[derive(Debug, Clone)]
pub struct SweepSettings {
    pub max_age: Duration,
    /// `None` = the in-daemon timer is disabled.
    pub interval: Option<Duration>,
    pub dry_run: bool,
    pub lease: LeaseLocation,
    /// How long the lease stays live without renewal (`JANITOR_SWEEP_LEASE_TTL`); the holder
    /// renews every quarter of it.
    pub lease_ttl: Duration,
}

/// Everything `image-janitor run` needs.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub common: Common,
    pub concurrency: NonZeroUsize,
    pub wait_time: Duration,
    pub visibility_timeout: Duration,
    pub max_attempts: NonZeroU32,
    pub sweep: SweepSettings,
    pub http_addr: SocketAddr,
    pub shutdown_timeout: Duration,
    pub dry_run: bool,
    pub queue_poll_interval: Option<Duration>,
}

/// Parse `500ms`, `20s`, `5m`, `1h`, `7d` (and combinations humantime accepts, e.g. `1h30m`).
pub fn parse_duration(setting: &'static str, raw: &str) -> Result<Duration, ConfigError> {
    let raw = raw.trim();
    if raw == "0" {
        return Ok(Duration::ZERO);
    }
    humantime::parse_duration(raw).map_err(|e| {
        bad(
            setting,
            format!("{e} (got {raw:?}; use e.g. 500ms, 20s, 5m, 1h, 7d)"),
        )
    })
}

/// `true/false`, `1/0`, `yes/no`, `on/off` (case-insensitive).
pub fn parse_bool(setting: &'static str, raw: &str) -> Result<bool, ConfigError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" | "" => Ok(false),
        _ => Err(bad(setting, format!("expected true or false, got {raw:?}"))),
    }
}

fn parse_count<T: std::str::FromStr>(
    setting: &'static str,
    raw: &str,
    min: u64,
    max: u64,
) -> Result<T, ConfigError> {
    let n: u64 = raw
        .trim()
        .parse()
        .map_err(|_| bad(setting, format!("expected a whole number, got {raw:?}")))?;
    if !(min..=max).contains(&n) {
        return Err(bad(
            setting,
            format!("must be between {min} and {max}, got {n}"),
        ));
    }
    n.to_string()
        .parse()
        .map_err(|_| bad(setting, format!("out of range: {n}")))
}

fn whole_seconds(setting: &'static str, d: Duration, raw: &str) -> Result<Duration, ConfigError> {
    if d.subsec_nanos() != 0 {
        return Err(bad(setting, format!("must be whole seconds, got {raw:?}")));
    }
    Ok(d)
}

fn queue_url(setting: &'static str, raw: &str) -> Result<String, ConfigError> {
    let raw = raw.trim();
    let parsed =
        url::Url::parse(raw).map_err(|e| bad(setting, format!("not a URL ({e}): {raw:?}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(bad(
            setting,
            format!("expected an http(s) queue URL, got {raw:?}"),
        ));
    }
    Ok(raw.to_owned())
}

/// `JANITOR_DLQ_URL`, if set: a queue URL that does not name the main queue (dead-lettering
/// into the queue itself would loop invalid messages forever, with no backoff).
fn dlq_url(raw: Option<&str>, main: &str) -> Result<Option<String>, ConfigError> {
    let Some(v) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let url = queue_url("JANITOR_DLQ_URL", v)?;
    if QueueId::same_url(&url, main) {
        return Err(bad(
            "JANITOR_DLQ_URL",
            format!("{url} is the main queue (JANITOR_QUEUE_URL); name the dead-letter queue"),
        ));
    }
    Ok(Some(url))
}

fn log_format(raw: &str) -> Result<LogFormat, ConfigError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "json" => Ok(LogFormat::Json),
        "text" => Ok(LogFormat::Text),
        other => Err(bad(
            "JANITOR_LOG_FORMAT",
            format!("expected json or text, got {other:?}"),
        )),
    }
}

/// Only the log format, for commands that need nothing else validated first.
pub fn log_format_only(raw: &str) -> Result<LogFormat, ConfigError> {
    log_format(raw)
}

/// The main queue URL alone (for `publish`).
pub fn required_queue_url(raw: Option<&str>) -> Result<String, ConfigError> {
    match raw {
        Some(v) if !v.trim().is_empty() => queue_url("JANITOR_QUEUE_URL", v),
        _ => Err(bad(
            "JANITOR_QUEUE_URL",
            "required (set it or pass --queue-url)",
        )),
    }
}

/// The prefix is required; it may be empty only when set explicitly (flag or env present).
fn prefix(raw: Option<&str>, env: Env) -> Result<String, ConfigError> {
    if let Some(p) = raw {
        return Ok(p.to_owned());
    }
    env("JANITOR_PREFIX").ok_or_else(|| {
        bad(
            "JANITOR_PREFIX",
            "required (set it or pass --prefix; set it to the empty string to allow every key)",
        )
    })
}

fn s3_endpoint(env: Env) -> Result<Option<S3Endpoint>, ConfigError> {
    for setting in ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"] {
        if let Some(v) = env(setting) {
            if v.trim().is_empty() {
                continue;
            }
            let name: &'static str = if setting == "AWS_ENDPOINT_URL_S3" {
                "AWS_ENDPOINT_URL_S3"
            } else {
                "AWS_ENDPOINT_URL"
            };
            return S3Endpoint::parse(v.trim())
                .map(Some)
                .map_err(|e| bad(name, e));
        }
    }
    Ok(None)
}

/// Validate the settings shared by `run` and `sweep`.
pub fn common(args: &CommonArgs, env: Env) -> Result<Common, ConfigError> {
    let log_format = log_format(&args.log_format)?;
    let queue_url = required_queue_url(args.queue_url.as_deref())?;
    let dlq_url = dlq_url(args.dlq_url.as_deref(), &queue_url)?;
    let buckets: Vec<String> = args
        .buckets
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(str::to_owned)
        .collect();
    if buckets.is_empty() {
        return Err(bad(
            "JANITOR_BUCKETS",
            "required: a comma-separated list of bucket names",
        ));
    }
    if let Some(b) = buckets.iter().find(|b| !valid_bucket_name(b)) {
        return Err(bad(
            "JANITOR_BUCKETS",
            format!("not a valid S3 bucket name: {b:?}"),
        ));
    }
    let prefix = prefix(args.prefix.as_deref(), env)?;
    if prefix.len() > 1024 || prefix.chars().any(char::is_control) {
        return Err(bad(
            "JANITOR_PREFIX",
            "must be at most 1024 bytes with no control characters",
        ));
    }
    let force_path_style = match &args.s3_force_path_style {
        Some(v) => parse_bool("JANITOR_S3_FORCE_PATH_STYLE", v)?,
        None => false,
    };
    let audit = parse_bool("JANITOR_AUDIT", &args.audit)?;
    Ok(Common {
        queue_url,
        dlq_url,
        policy: LocationPolicy::new(buckets, prefix),
        log_format,
        force_path_style,
        audit,
        s3_endpoint: s3_endpoint(env)?,
    })
}

/// Where the lease lives: `JANITOR_SWEEP_LEASE_BUCKET` (default: the first bucket *as listed* in
/// `JANITOR_BUCKETS`, `raw_buckets` — the policy's set is sorted, and the Terraform module grants
/// the lease permission on its first `bucket_name`) and `JANITOR_SWEEP_LEASE_KEY` (default
/// `image-janitor/sweeper.lease`), which must lie outside the prefix.
fn lease(
    common: &Common,
    raw_buckets: Option<&str>,
    env: Env,
) -> Result<LeaseLocation, ConfigError> {
    let first_listed = raw_buckets
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .find(|b| !b.is_empty());
    let bucket = match env("JANITOR_SWEEP_LEASE_BUCKET") {
        Some(b) if !b.trim().is_empty() => b.trim().to_owned(),
        _ => first_listed
            .or_else(|| common.policy.buckets().next())
            .map(str::to_owned)
            .ok_or_else(|| bad("JANITOR_BUCKETS", "required"))?,
    };
    if !valid_bucket_name(&bucket) {
        return Err(bad(
            "JANITOR_SWEEP_LEASE_BUCKET",
            format!("not a valid bucket name: {bucket:?}"),
        ));
    }
    let key = match env("JANITOR_SWEEP_LEASE_KEY") {
        Some(k) if !k.trim().is_empty() => k.trim().to_owned(),
        _ => "image-janitor/sweeper.lease".to_owned(),
    };
    let prefix = common.policy.prefix();
    if !prefix.is_empty() && key.starts_with(prefix) {
        return Err(bad(
            "JANITOR_SWEEP_LEASE_KEY",
            format!("{key:?} is under JANITOR_PREFIX {prefix:?}; the lease must live outside it"),
        ));
    }
    Ok(LeaseLocation { bucket, key })
}

/// The lease object is never deleted by anyone but the sweeper's own lease code, even when an
/// empty `JANITOR_PREFIX` puts it inside the allowed location.
fn common_excluding_lease(mut common: Common, lease: &LeaseLocation) -> Common {
    common.policy = common
        .policy
        .excluding(ObjectRef::new(&lease.bucket, &lease.key));
    common
}

/// Default of `JANITOR_SWEEP_LEASE_TTL`.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(120);

/// `JANITOR_SWEEP_LEASE_TTL` (an env-only project extra, like the lease location): how long a
/// crashed holder blocks the other replicas. 2s (the holder renews every TTL/4) to 1d.
fn lease_ttl(env: Env) -> Result<Duration, ConfigError> {
    lease_ttl_from(env("JANITOR_SWEEP_LEASE_TTL").as_deref())
}

fn lease_ttl_from(raw: Option<&str>) -> Result<Duration, ConfigError> {
    let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
        return Ok(DEFAULT_LEASE_TTL);
    };
    bounded("JANITOR_SWEEP_LEASE_TTL", raw, SECOND * 2, DAY)
}

fn dry_run(raw: &Option<String>) -> Result<bool, ConfigError> {
    raw.as_deref()
        .map_or(Ok(false), |v| parse_bool("JANITOR_DRY_RUN", v))
}

/// `JANITOR_SWEEP_MAX_AGE` / `--max-age`: 1s to 10 years (`now - max_age` must stay a date).
fn max_age(setting: &'static str, raw: &str) -> Result<Duration, ConfigError> {
    bounded(setting, raw, SECOND, DAY * 3650)
}

const SECOND: Duration = Duration::from_secs(1);
const DAY: Duration = Duration::from_secs(86_400);

/// A duration within `min..=max`, or an error naming the setting and the range.
fn bounded(
    setting: &'static str,
    raw: &str,
    min: Duration,
    max: Duration,
) -> Result<Duration, ConfigError> {
    let d = parse_duration(setting, raw)?;
    if !(min..=max).contains(&d) {
        return Err(bad(
            setting,
            format!(
                "must be between {} and {}, got {:?}",
                humantime::format_duration(min),
                humantime::format_duration(max),
                raw.trim()
            ),
        ));
    }
    Ok(d)
}

/// A duration that is 0 (off) or within `min..=max`.
fn off_or_bounded(
    setting: &'static str,
    raw: &str,
    min: Duration,
    max: Duration,
) -> Result<Duration, ConfigError> {
    let d = parse_duration(setting, raw)?;
    if d.is_zero() {
        return Ok(d);
    }
    bounded(setting, raw, min, max).map_err(|e| {
        bad(
            setting,
            format!("0 (off) or {}", e.problem.replacen("must be ", "", 1)),
        )
    })
}

/// Validate everything `run` needs.
pub fn run(args: &RunArgs) -> Result<RunSettings, ConfigError> {
    run_in(args, &process_env)
}

/// [`run`] with environment-only settings read from `env`.
pub fn run_in(args: &RunArgs, env: Env) -> Result<RunSettings, ConfigError> {
    let common = common(&args.common, env)?;
    let concurrency = parse_count("JANITOR_CONCURRENCY", &args.concurrency, 1, 256)?;
    let wait_time = parse_duration("JANITOR_WAIT_TIME", &args.wait_time)?;
    let wait_time = whole_seconds("JANITOR_WAIT_TIME", wait_time, &args.wait_time)?;
    if wait_time > Duration::from_secs(20) {
        return Err(bad(
            "JANITOR_WAIT_TIME",
            format!("must be between 0s and 20s, got {:?}", args.wait_time),
        ));
    }
    let visibility = parse_duration("JANITOR_VISIBILITY_TIMEOUT", &args.visibility_timeout)?;
    let visibility = whole_seconds(
        "JANITOR_VISIBILITY_TIMEOUT",
        visibility,
        &args.visibility_timeout,
    )?;
    if !(Duration::from_secs(2)..=Duration::from_secs(43_200)).contains(&visibility) {
        return Err(bad(
            "JANITOR_VISIBILITY_TIMEOUT",
            format!(
                "must be between 2s and 12h, got {:?}",
                args.visibility_timeout
            ),
        ));
    }
    let max_attempts = parse_count("JANITOR_MAX_ATTEMPTS", &args.max_attempts, 1, 1000)?;
    let interval = off_or_bounded(
        "JANITOR_SWEEP_INTERVAL",
        &args.sweep_interval,
        SECOND,
        DAY * 30,
    )?;
    let sweep_max_age = max_age("JANITOR_SWEEP_MAX_AGE", &args.sweep_max_age)?;
    let http_addr = args.http_addr.trim().parse().map_err(|_| {
        bad(
            "JANITOR_HTTP_ADDR",
            format!("expected HOST:PORT, got {:?}", args.http_addr),
        )
    })?;
    let shutdown_timeout = parse_duration("JANITOR_SHUTDOWN_TIMEOUT", &args.shutdown_timeout)?;
    if shutdown_timeout > Duration::from_secs(3600) {
        return Err(bad("JANITOR_SHUTDOWN_TIMEOUT", "must be at most 1h"));
    }
    let poll = off_or_bounded(
        "JANITOR_QUEUE_POLL_INTERVAL",
        &args.queue_poll_interval,
        Duration::from_millis(100),
        DAY,
    )?;
    let lease = lease(&common, args.common.buckets.as_deref(), env)?;
    let common = common_excluding_lease(common, &lease);
    Ok(RunSettings {
        concurrency,
        wait_time,
        visibility_timeout: visibility,
        max_attempts,
        sweep: SweepSettings {
            max_age: sweep_max_age,
            interval: (!interval.is_zero()).then_some(interval),
            dry_run: dry_run(&args.dry_run)?,
            lease,
            lease_ttl: lease_ttl(env)?,
        },
        http_addr,
        shutdown_timeout,
        dry_run: dry_run(&args.dry_run)?,
        queue_poll_interval: (!poll.is_zero()).then_some(poll),
        common,
    })
}

/// Validate everything `sweep` needs.
pub fn sweep(args: &SweepArgs) -> Result<(Common, SweepSettings), ConfigError> {
    sweep_in(args, &process_env)
}

/// [`sweep`] with environment-only settings read from `env`.
pub fn sweep_in(args: &SweepArgs, env: Env) -> Result<(Common, SweepSettings), ConfigError> {
    let common = common(&args.common, env)?;
    let lease = lease(&common, args.common.buckets.as_deref(), env)?;
    let common = common_excluding_lease(common, &lease);
    let settings = SweepSettings {
        max_age: max_age("JANITOR_SWEEP_MAX_AGE", &args.max_age)?,
        interval: None,
        dry_run: dry_run(&args.dry_run)?,
        lease,
        lease_ttl: lease_ttl(env)?,
    };
    Ok((common, settings))
}

mod dlq;
pub use dlq::{dlq_common, peek, replay, DlqCommon, PeekSettings, ReplayOptions, ReplaySettings};

#[cfg(test)]
mod tests;
