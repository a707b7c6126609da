//! Replay progress for humans: a progress bar on stderr when it is a terminal, plain lines
//! otherwise. Per-message lines (`replayed ...`, `would replay ...`) go to stdout either way;
//! failures go to stderr.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressStyle};

use super::render;
use super::replay::{ReplayFailure, ReplayObserver, Stage};
use super::DlqMessage;

/// Prints as the replay goes.
pub struct Progress {
    bar: Option<ProgressBar>,
    moved: AtomicU64,
    skipped: AtomicU64,
    failed: AtomicU64,
}

impl Progress {
    /// `expected`: the approximate number of messages in the DLQ (the bar's length).
    pub fn new(expected: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(expected);
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/~{len} {msg}",
            ) {
                bar.set_style(style);
            }
            bar
        });
        Progress {
            bar,
            moved: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        }
    }

    fn stdout(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| println!("{line}")),
            None => println!("{line}"),
        }
    }

    fn stderr(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    fn tick(&self) {
        let (m, s, f) = (
            self.moved.load(Ordering::Relaxed),
            self.skipped.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        );
        let msg = format!("moved {m}, skipped {s}, failed {f}");
        match &self.bar {
            Some(bar) => {
                if bar.position() + 1 > bar.length().unwrap_or(0) {
                    bar.set_length(bar.position() + 1);
                }
                bar.inc(1);
                bar.set_message(msg);
            }
            None => {
                // Plain progress every 100 messages seen (per-message lines are on stdout).
                if (m + s + f) % 100 == 0 {
                    eprintln!("dlq replay: {msg}");
                }
            }
        }
    }

    /// Remove the bar before the summary is printed.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl ReplayObserver for Progress {
    fn replayed(&self, m: &DlqMessage, new_id: &str) {
        self.moved.fetch_add(1, Ordering::Relaxed);
        self.stdout(&render::replayed_line(m, new_id));
        self.tick();
    }

    fn would_replay(&self, m: &DlqMessage) {
        self.moved.fetch_add(1, Ordering::Relaxed);
        self.stdout(&render::would_replay_line(m));
        self.tick();
    }

    fn skipped(&self, _m: &DlqMessage) {
        self.skipped.fetch_add(1, Ordering::Relaxed);
        self.tick();
    }

    fn failed(&self, m: &DlqMessage, f: &ReplayFailure) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let what = match f.stage {
            Stage::Send => "not sent; it stays in the dead-letter queue",
            Stage::Delete => "sent, but not deleted from the dead-letter queue (it is now in both queues; a later replay sends it again)",
        };
        self.stderr(&format!(
            "image-janitor: dlq replay: message {}: {what}: {}",
            render::clean(&m.message_id),
            f.error
        ));
        self.tick();
    }
}
