//! Telemetry: tracing initialisation, operational events (log line + metric), and the HTTP endpoints.

pub mod events;
pub mod http;
pub mod metrics;

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing_subscriber::{fmt, EnvFilter};

/// How log lines are written (`JANITOR_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

static AUDIT: AtomicBool = AtomicBool::new(true);

/// `JANITOR_AUDIT`: whether `janitor::audit` events are written.
pub fn set_audit(enabled: bool) {
    AUDIT.store(enabled, Ordering::Relaxed);
}

pub fn audit_enabled() -> bool {
    AUDIT.load(Ordering::Relaxed)
}

/// Install the global subscriber: level from `RUST_LOG` (default `info`), logs on stderr.
/// Call [`set_audit`] first: the audit target is forced on or off accordingly.
/// Safe to call more than once (later calls do nothing).
pub fn init_tracing(format: LogFormat) {
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let rust_log = std::env::var("RUST_LOG").unwrap_or_default();
    for directive in sdk_wire_caps(&rust_log) {
        if let Ok(directive) = directive.parse() {
            filter = filter.add_directive(directive);
        }
    }
    if audit_enabled() {
        // The audit trail does not depend on RUST_LOG: it is a record, not a diagnostic.
        if let Ok(directive) = "janitor::audit=info".parse() {
            filter = filter.add_directive(directive);
        }
    } else if let Ok(directive) = "janitor::audit=off".parse() {
        filter = filter.add_directive(directive);
    }
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        // Colour codes only for a terminal: a file or a log collector gets plain text.
        LogFormat::Text => builder
            .with_target(true)
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
    };
}

/// The AWS SDK logs whole HTTP requests and responses at trace level: SQS message bodies (so
/// presigned URLs with their signatures and tokens) and the DLQ copies sent. A broad trace
/// directive (`RUST_LOG=trace`, `aws=trace`) gets these caps to debug; only a directive that
/// names an `aws_smithy…` target itself turns the wire logs on.
fn sdk_wire_caps(rust_log: &str) -> Vec<&'static str> {
    let directives: Vec<(&str, &str)> = rust_log
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| match d.rsplit_once('=') {
            Some((target, level)) => (target.split('[').next().unwrap_or(""), level),
            None if d.contains('[') => (d.split('[').next().unwrap_or(""), "trace"),
            None if is_level(d) => ("", d),
            None => (d, "trace"),
        })
        .collect();
    let named = directives.iter().any(|(t, _)| t.starts_with("aws_smithy"));
    let broad_trace = directives.iter().any(|(t, level)| {
        "aws_smithy".starts_with(t) && (level.eq_ignore_ascii_case("trace") || *level == "5")
    });
    if broad_trace && !named {
        vec![
            "aws_smithy_runtime=debug",
            "aws_smithy_runtime_api=debug",
            "aws_smithy_http_client=debug",
        ]
    } else {
        Vec::new()
    }
}

fn is_level(s: &str) -> bool {
    ["trace", "debug", "info", "warn", "error", "off"]
        .iter()
        .any(|l| s.eq_ignore_ascii_case(l))
        || matches!(s, "0" | "1" | "2" | "3" | "4" | "5")
}

#[cfg(test)]
mod tests;
