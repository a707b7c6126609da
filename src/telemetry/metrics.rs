//! The Prometheus recorder, metric descriptions, and zero-initialised label sets (CONTRACT §7).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};

use crate::reason::Reason;

pub const MESSAGES_RECEIVED: &str = "janitor_messages_received_total";
pub const MESSAGES_ACKED: &str = "janitor_messages_acked_total";
pub const MESSAGES_DEAD_LETTERED: &str = "janitor_messages_dead_lettered_total";
pub const MESSAGES_RETRIED: &str = "janitor_messages_retried_total";
pub const OBJECTS_DELETED: &str = "janitor_objects_deleted_total";
pub const DELETE_ERRORS: &str = "janitor_delete_errors_total";
pub const AWS_REQUESTS: &str = "janitor_aws_requests_total";
pub const MESSAGE_LATENCY: &str = "janitor_message_latency_seconds";
pub const SWEEPS: &str = "janitor_sweeps_total";
pub const INFLIGHT: &str = "janitor_inflight_messages";
pub const QUEUE_MESSAGES: &str = "janitor_queue_messages";
pub const SWEEP_DURATION: &str = "janitor_sweep_duration_seconds";
pub const SWEEP_SCANNED: &str = "janitor_sweep_objects_scanned_total";
pub const SWEEP_LAST_SUCCESS: &str = "janitor_sweep_last_success_timestamp_seconds";
pub const BUILD_INFO: &str = "janitor_build_info";
pub const DELETE_BATCH_KEYS: &str = "janitor_delete_batch_keys";
pub const QUEUE_OLDEST_AGE: &str = "janitor_queue_oldest_age_seconds";
pub const CLOCK_SKEW_ERRORS: &str = "janitor_clock_skew_errors_total";
pub const PREFIX_OBJECTS: &str = "janitor_prefix_objects";
pub const PREFIX_BYTES: &str = "janitor_prefix_bytes";
pub const PREFIX_OLDEST_AGE: &str = "janitor_prefix_oldest_object_age_seconds";
pub const PREFIX_STALE_REMAINING: &str = "janitor_prefix_stale_objects_remaining";
pub const PREFIX_SCAN_TIMESTAMP: &str = "janitor_prefix_scan_timestamp_seconds";
pub const START_TIME: &str = "janitor_start_time_seconds";
pub const SWEEP_INTERVAL: &str = "janitor_sweep_interval_seconds";

/// Every `operation` label of `janitor_aws_requests_total` the adapters emit, by service: the
/// series exist (at 0) from start-up, so `rate()` and `increase()` see a change from zero.
/// The `aws_operations_cover_the_adapters` test keeps this list in step with the adapters.
pub const AWS_OPERATIONS: &[(&str, &[&str])] = &[
    (
        "sqs",
        &[
            "ReceiveMessage",
            "DeleteMessageBatch",
            "ChangeMessageVisibilityBatch",
            "SendMessageBatch",
            "GetQueueAttributes",
            "GetQueueUrl",
        ],
    ),
    (
        "s3",
        &[
            "DeleteObjects",
            "DeleteObject",
            "ListObjectsV2",
            "GetObject",
            "PutObject",
            "GetBucketLifecycleConfiguration",
        ],
    ),
];

/// The per-bucket prefix gauges each sweep sets (issue 17), zero-initialised per configured
/// bucket. A `janitor_prefix_scan_timestamp_seconds` of 0 means "no sweep yet".
/// (Spelled out: scripts/check_settings.py reads the names from this file.)
pub const PREFIX_GAUGES: &[&str] = &[
    "janitor_prefix_objects",
    "janitor_prefix_bytes",
    "janitor_prefix_oldest_object_age_seconds",
    "janitor_prefix_stale_objects_remaining",
    "janitor_prefix_scan_timestamp_seconds",
];

const LATENCY_BUCKETS: &[f64] = &[
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
];
const SWEEP_BUCKETS: &[f64] = &[0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0];
const BATCH_BUCKETS: &[f64] = &[1.0, 10.0, 50.0, 100.0, 250.0, 500.0, 1000.0];

/// Install the global Prometheus recorder and return the handle `/metrics` renders.
pub fn install() -> Result<PrometheusHandle, BuildError> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(MESSAGE_LATENCY.into()), LATENCY_BUCKETS)?
        .set_buckets_for_metric(Matcher::Full(SWEEP_DURATION.into()), SWEEP_BUCKETS)?
        .set_buckets_for_metric(Matcher::Full(DELETE_BATCH_KEYS.into()), BATCH_BUCKETS)?
        .install_recorder()?;
    describe();
    describe_prefix();
    zero_init();
    Ok(handle)
}

/// What `run` knows once its settings are read: the start time, the sweep interval (0 = timer
/// off, e.g. with the CronJob component) and one series per configured bucket for the prefix
/// gauges. Alerts compare against these instead of guessing the configuration.
pub fn init_run<'a>(buckets: impl IntoIterator<Item = &'a str>, sweep_interval: Option<Duration>) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    metrics::gauge!(START_TIME).set(now);
    metrics::gauge!(SWEEP_INTERVAL).set(sweep_interval.map_or(0.0, |d| d.as_secs_f64()));
    zero_init_prefix(buckets);
}

fn describe() {
    describe_counter!(MESSAGES_RECEIVED, "Messages received from the main queue.");
    describe_counter!(
        MESSAGES_ACKED,
        "Messages deleted from the main queue after all their objects were gone."
    );
    describe_counter!(
        MESSAGES_DEAD_LETTERED,
        "Messages moved to the dead-letter queue, by reason."
    );
    describe_counter!(
        MESSAGES_RETRIED,
        "Messages released back to the queue after transient failures."
    );
    describe_counter!(
        OBJECTS_DELETED,
        "Objects deleted (or confirmed absent), by source."
    );
    describe_counter!(
        DELETE_ERRORS,
        "Per-key or whole-request delete failures, by class."
    );
    describe_counter!(
        AWS_REQUESTS,
        "AWS API calls made, by service and operation."
    );
    describe_histogram!(
        MESSAGE_LATENCY,
        Unit::Seconds,
        "Time from the producer's send to the ack."
    );
    describe_counter!(
        SWEEPS,
        "Sweeps, by outcome (skipped = another replica held the lease)."
    );
    describe_gauge!(INFLIGHT, "Messages being worked on by this process.");
    describe_gauge!(
        QUEUE_MESSAGES,
        "Approximate queue depth, by queue and state."
    );
    describe_histogram!(
        SWEEP_DURATION,
        Unit::Seconds,
        "Wall time of completed sweeps."
    );
    describe_counter!(SWEEP_SCANNED, "Objects listed by the sweeper.");
    describe_gauge!(
        SWEEP_LAST_SUCCESS,
        "Unix time of the last successful sweep by this process."
    );
    describe_gauge!(
        BUILD_INFO,
        "Always 1; the version label says which build runs."
    );
    describe_gauge!(START_TIME, Unit::Seconds, "Unix time this process started.");
    describe_gauge!(
        SWEEP_INTERVAL,
        Unit::Seconds,
        "JANITOR_SWEEP_INTERVAL in seconds; 0 when the in-process sweeper timer is off."
    );
    describe_histogram!(
        DELETE_BATCH_KEYS,
        "Keys per DeleteObjects request sent by the worker."
    );
    describe_counter!(
        CLOCK_SKEW_ERRORS,
        "AWS requests refused because this node's clock is off, by service."
    );
    for service in ["sqs", "s3"] {
        metrics::counter!(CLOCK_SKEW_ERRORS, "service" => service).absolute(0);
    }
}

/// Make every bounded label set visible from the start, so dashboards and `rate()` see zeros.
fn zero_init() {
    metrics::counter!(MESSAGES_RECEIVED).absolute(0);
    metrics::counter!(MESSAGES_ACKED).absolute(0);
    metrics::counter!(MESSAGES_RETRIED).absolute(0);
    for reason in Reason::ALL {
        metrics::counter!(MESSAGES_DEAD_LETTERED, "reason" => reason.as_str()).absolute(0);
    }
    for source in ["worker", "sweeper"] {
        metrics::counter!(OBJECTS_DELETED, "source" => source).absolute(0);
    }
    for class in ["transient", "permanent"] {
        metrics::counter!(DELETE_ERRORS, "class" => class).absolute(0);
    }
    for outcome in ["ok", "error", "skipped"] {
        metrics::counter!(SWEEPS, "outcome" => outcome).absolute(0);
    }
    metrics::counter!(SWEEP_SCANNED).absolute(0);
    for (service, operations) in AWS_OPERATIONS {
        for operation in *operations {
            metrics::counter!(AWS_REQUESTS, "service" => *service, "operation" => *operation)
                .absolute(0);
        }
    }
    // A registered histogram renders its buckets at 0 before its first sample.
    let _ = metrics::histogram!(MESSAGE_LATENCY);
    let _ = metrics::histogram!(SWEEP_DURATION);
    let _ = metrics::histogram!(DELETE_BATCH_KEYS);
    metrics::gauge!(INFLIGHT).set(0.0);
    // 0 until the first poll (at start, then every JANITOR_QUEUE_POLL_INTERVAL).
    for queue in ["main", "dlq"] {
        for state in ["visible", "inflight", "delayed"] {
            metrics::gauge!(QUEUE_MESSAGES, "queue" => queue, "state" => state).set(0.0);
        }
    }
    metrics::gauge!(QUEUE_OLDEST_AGE, "queue" => "main").set(0.0);
    // 0 = no successful sweep by this process yet.
    metrics::gauge!(SWEEP_LAST_SUCCESS).set(0.0);
    metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
}

/// The sweeper's `janitor_prefix_*` gauges: what remains under the prefix, per bucket, as of the
/// last sweep that completed that bucket's listing (docs/metrics.md).
fn describe_prefix() {
    describe_gauge!(
        PREFIX_OBJECTS,
        "Objects under JANITOR_PREFIX after the last sweep of the bucket (listed minus deleted)."
    );
    describe_gauge!(
        PREFIX_BYTES,
        Unit::Bytes,
        "Total size of the objects under JANITOR_PREFIX after the last sweep of the bucket."
    );
    describe_gauge!(
        PREFIX_OLDEST_AGE,
        Unit::Seconds,
        "Age of the oldest object left under JANITOR_PREFIX when the last sweep listed it (0 if none)."
    );
    describe_gauge!(
        PREFIX_STALE_REMAINING,
        "Objects older than JANITOR_SWEEP_MAX_AGE that the last sweep saw but did not delete."
    );
    describe_gauge!(
        PREFIX_SCAN_TIMESTAMP,
        Unit::Seconds,
        "Unix time the last sweep of the bucket finished listing it (0 = not yet swept)."
    );
}

/// Zero-initialise the `janitor_prefix_*` gauges for every configured bucket, so the series
/// exist from start-up; `janitor_prefix_scan_timestamp_seconds` 0 says "not swept yet".
pub fn zero_init_prefix<'a>(buckets: impl IntoIterator<Item = &'a str>) {
    for bucket in buckets {
        for name in PREFIX_GAUGES {
            metrics::gauge!(*name, "bucket" => bucket.to_owned()).set(0.0);
        }
    }
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
