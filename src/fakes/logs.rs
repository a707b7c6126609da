//! Log capture for unit tests: JSON log lines written while the guard lives (on a
//! current-thread runtime that is every task's events), read back as values.

use std::sync::{Arc, Mutex};

/// The captured bytes; clone it into the subscriber's writer.
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    /// Capture INFO and above, as JSON, until the guard drops.
    pub fn start() -> (CapturedLogs, tracing::subscriber::DefaultGuard) {
        let captured = CapturedLogs::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || writer.clone())
            .finish();
        (captured, tracing::subscriber::set_default(subscriber))
    }

    /// Every captured line that parses as JSON.
    pub fn lines(&self) -> Vec<serde_json::Value> {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner()))
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}
