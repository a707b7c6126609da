//! Unit tests of `queue::sqs`.

use super::*;

#[test]
fn parses_redrive_policy_and_arn() {
    let p = r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:jan-dlq","maxReceiveCount":"8"}"#;
    let arn = redrive_target_arn(p).expect("arn");
    assert_eq!(split_queue_arn(&arn), Some(("123456789012", "jan-dlq")));
    assert_eq!(split_queue_arn("arn:aws:sns:us-east-1:1:x"), None);
    assert_eq!(redrive_target_arn("{}"), None);
}
