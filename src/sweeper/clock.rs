//! The wall clock the sweeper reads (age cutoff, lease expiry), replaceable in tests by one that
//! follows tokio's paused time.

use std::time::SystemTime;

/// Wall-clock time for the sweeper.
///
/// Leases are compared across hosts, so production uses the system clock. Unit tests use
/// [`Clock::following_tokio`], which advances with `tokio::time::advance` under a paused runtime.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    System,
    /// `base` wall time at tokio instant `at`, advancing with tokio time.
    Tokio {
        base: SystemTime,
        at: tokio::time::Instant,
    },
    /// Always this instant (integration tests against a real S3, whose timestamps the test
    /// reads back: ages and cutoffs then follow from known values, not from racing wall time).
    Fixed(SystemTime),
}

impl Clock {
    /// A clock that reads `base` now and moves with tokio time from here on.
    pub fn following_tokio(base: SystemTime) -> Clock {
        Clock::Tokio {
            base,
            at: tokio::time::Instant::now(),
        }
    }

    pub fn now(&self) -> SystemTime {
        match self {
            Clock::System => SystemTime::now(),
            Clock::Tokio { base, at } => *base + at.elapsed(),
            Clock::Fixed(t) => *t,
        }
    }
}
