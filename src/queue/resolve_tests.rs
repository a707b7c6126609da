//! Unit tests of `queue::resolve`.

use super::*;

const MAIN: &str = "http://127.0.0.1:4566/123456789012/jobs";
const DLQ: &str = "http://127.0.0.1:4566/123456789012/jobs-dlq";

#[test]
fn the_dlq_comes_from_the_setting_else_the_redrive_policy() {
    assert_eq!(pick_dlq(MAIN, Some(DLQ), None).unwrap(), DLQ);
    assert_eq!(pick_dlq(MAIN, None, Some(DLQ.into())).unwrap(), DLQ);
    assert!(matches!(
        pick_dlq(MAIN, None, None),
        Err(ResolveError::NoneFound)
    ));
}

#[test]
fn a_dlq_that_is_the_main_queue_is_refused_however_spelled() {
    let spelled = "http://localhost:4566/123456789012/jobs/";
    assert!(matches!(
        pick_dlq(MAIN, Some(spelled), None),
        Err(ResolveError::IsMain(_))
    ));
    assert!(matches!(
        pick_dlq(MAIN, None, Some(MAIN.into())),
        Err(ResolveError::IsMain(_))
    ));
}
