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
mod tests {
    use super::*;

    #[test]
    fn no_dlq_is_a_configuration_error_naming_the_setting() {
        match AppError::from(ResolveError::NoneFound) {
            AppError::Config(e) => assert_eq!(e.setting, "JANITOR_DLQ_URL"),
            other => panic!("expected a configuration error, got {other:?}"),
        }
        match AppError::from(ResolveError::IsMain("q".into())) {
            AppError::Config(e) => assert!(e.problem.contains("is the main queue itself")),
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }
}
