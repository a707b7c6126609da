//! Unit tests of `telemetry::metrics`.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusBuilder;

use super::*;

/// What `/metrics` shows right after `run` starts, before any message or sweep.
fn startup_scrape() -> String {
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(MESSAGE_LATENCY.into()), LATENCY_BUCKETS)
        .and_then(|b| b.set_buckets_for_metric(Matcher::Full(SWEEP_DURATION.into()), SWEEP_BUCKETS))
        .and_then(|b| {
            b.set_buckets_for_metric(Matcher::Full(DELETE_BATCH_KEYS.into()), BATCH_BUCKETS)
        })
        .expect("buckets")
        .build_recorder();
    metrics::with_local_recorder(&recorder, || {
        describe();
        zero_init();
        init_run(["b1", "b2"], Some(Duration::from_secs(3600)));
    });
    recorder.handle().render()
}

/// Series names (`name` before `{` or ` `) of a Prometheus text scrape.
fn series_names(scrape: &str) -> BTreeSet<String> {
    scrape
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(str::to_owned)
        .collect()
}

/// `janitor_...` metric names an expression file refers to (recording rules are `janitor:`).
fn referenced(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("janitor_") {
        let before = rest[..at].chars().last();
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(tail.len());
        let word = !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
        // `janitor_*` in prose is no metric.
        if word && end > "janitor_".len() {
            out.insert(tail[..end].to_owned());
        }
        rest = &tail[end..];
    }
    out
}

fn repo_file(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn rules_and_dashboard_use_only_startup_series() {
    let present = series_names(&startup_scrape());
    for file in [
        "infra/prometheus/rules.yml",
        "infra/grafana/image-janitor.json",
    ] {
        let used = referenced(&repo_file(file));
        assert!(!used.is_empty(), "{file} names no janitor_ metric");
        let missing: Vec<_> = used.difference(&present).collect();
        assert!(
            missing.is_empty(),
            "{file} uses {missing:?}, absent from /metrics at start-up"
        );
    }
}

#[test]
fn startup_scrape_has_every_label_set_the_rules_select() {
    let scrape = startup_scrape();
    for queue in ["main", "dlq"] {
        for state in ["visible", "inflight", "delayed"] {
            let series = format!("{QUEUE_MESSAGES}{{queue=\"{queue}\",state=\"{state}\"}} 0");
            assert!(scrape.contains(&series), "missing {series}");
        }
    }
    for bucket in ["b1", "b2"] {
        for name in PREFIX_GAUGES {
            let series = format!("{name}{{bucket=\"{bucket}\"}} 0");
            assert!(scrape.contains(&series), "missing {series}");
        }
    }
    assert!(scrape.contains(&format!("{SWEEP_LAST_SUCCESS} 0")));
    assert!(scrape.contains(&format!("{SWEEP_INTERVAL} 3600")));
    assert!(scrape.contains(&format!("{MESSAGE_LATENCY}_bucket{{le=\"+Inf\"}} 0")));
    assert!(scrape.contains(&format!("{DELETE_BATCH_KEYS}_count 0")));
    assert!(scrape.contains(&format!(
        "{AWS_REQUESTS}{{service=\"s3\",operation=\"DeleteObjects\"}} 0"
    )));
}

/// String literals naming an AWS operation in the adapters: `const OP: &str = "X"`,
/// `operation: "X"` and `observe(SERVICE, "X", ...)`.
fn adapter_operations(source: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for marker in ["const OP: &str = ", "operation: ", "observe(\n"] {
        for (at, _) in source.match_indices(marker) {
            let tail = &source[at + marker.len()..];
            let tail = tail.trim_start();
            let tail = tail.strip_prefix("SERVICE,").map_or(tail, str::trim_start);
            if let Some(lit) = tail.strip_prefix('"') {
                if let Some(end) = lit.find('"') {
                    out.insert(lit[..end].to_owned());
                }
            }
        }
    }
    out
}

#[test]
fn aws_operations_cover_the_adapters() {
    let known: BTreeSet<String> = AWS_OPERATIONS
        .iter()
        .flat_map(|(_, ops)| ops.iter().map(|o| (*o).to_owned()))
        .collect();
    let mut seen = BTreeSet::new();
    for file in [
        "src/queue/sqs.rs",
        "src/store/s3.rs",
        "src/queue/mod.rs",
        "src/worker/acker.rs",
        "src/worker/batcher.rs",
    ] {
        seen.extend(adapter_operations(&repo_file(file)));
    }
    assert!(seen.contains("ReceiveMessage") && seen.contains("DeleteObjects"));
    let missing: Vec<_> = seen.difference(&known).collect();
    assert!(
        missing.is_empty(),
        "operations {missing:?} are counted but not zero-initialised: add them to AWS_OPERATIONS"
    );
}
