//! Telemetry: tracing initialisation, operational events (log line + metric), and the HTTP endpoints.

pub mod events;
pub mod http;
pub mod metrics;

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
        LogFormat::Text => builder.with_target(true).try_init(),
    };
}
