//! A running `image-janitor run` process: readiness, /metrics scraping, signals.

use std::collections::HashMap;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::free_port;

pub struct Daemon {
    pub child: Child,
    pub http: String,
    pub log: std::path::PathBuf,
}

impl Daemon {
    /// Spawn `run` with a free HTTP port; logs go to a temp file. Waits for /readyz.
    pub fn start(cmd: Command) -> Daemon {
        let d = Daemon::spawn(cmd);
        d.wait_ready(Duration::from_secs(30));
        d
    }

    /// [`Daemon::start`] without waiting for /readyz (to observe the process before it is ready).
    pub fn spawn(mut cmd: Command) -> Daemon {
        let port = free_port();
        let log = std::env::temp_dir().join(format!("janitor-{}-{port}.log", std::process::id()));
        let file = std::fs::File::create(&log).expect("log file");
        cmd.arg("run")
            .env("JANITOR_HTTP_ADDR", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(file);
        let child = cmd.spawn().expect("spawn image-janitor run");
        Daemon {
            child,
            http: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    pub fn wait_ready(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.status("/readyz") == Some(200) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("daemon not ready within {timeout:?}; log:\n{}", self.logs());
    }

    /// HTTP status of a GET, or None when nothing answers.
    pub fn status(&self, path: &str) -> Option<u16> {
        match ureq::get(&format!("{}{path}", self.http)).call() {
            Ok(r) => Some(r.status()),
            Err(ureq::Error::Status(code, _)) => Some(code),
            Err(_) => None,
        }
    }

    pub fn metrics_text(&self) -> String {
        ureq::get(&format!("{}/metrics", self.http))
            .call()
            .ok()
            .and_then(|r| r.into_string().ok())
            .unwrap_or_default()
    }

    /// All samples of the current /metrics: `name{labels}` → value.
    pub fn metrics(&self) -> HashMap<String, f64> {
        parse_metrics(&self.metrics_text())
    }

    /// One sample, e.g. `metric("janitor_objects_deleted_total{source=\"worker\"}")`; 0 if absent.
    pub fn metric(&self, sample: &str) -> f64 {
        self.metrics().get(sample).copied().unwrap_or(0.0)
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success(), "kill -{sig} failed");
    }

    /// Wait for exit up to `timeout`; None if still running.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Prometheus text → `name{labels}` → value (labels as rendered).
pub fn parse_metrics(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            Some((name.to_owned(), value.parse().ok()?))
        })
        .collect()
}
