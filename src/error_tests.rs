//! Unit tests of `error`.

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
