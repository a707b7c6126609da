//! The error every command ends with, importable by any command module: `main` maps
//! [`AppError::Config`] to exit 2 and [`AppError::Runtime`] to exit 1.

use crate::config::ConfigError;
use crate::queue::resolve::{self, ResolveError};

/// Why a command stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Runtime(String),
}

impl From<ResolveError> for AppError {
    /// An unreachable main queue is a runtime failure; no DLQ to be found is a configuration one.
    fn from(e: ResolveError) -> Self {
        match e {
            ResolveError::Unreachable { .. } => AppError::Runtime(e.to_string()),
            _ => AppError::Config(ConfigError {
                setting: resolve::SETTING,
                problem: e.to_string(),
            }),
        }
    }
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
