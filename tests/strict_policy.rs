//! The shipped IAM templates as the strict proxy renders them, and what the evaluator decides
//! on them: the renderer handles exactly the subset the templates use, and the policies grant
//! what the module documents (no moto needed; the node evaluator is).

mod common;

use common::faultproxy::strict::evaluator::{self, Check, Decision};
use common::faultproxy::strict::policy::{self, render, PolicyVars, Role};
use serde_json::Value;

const Q: &str = "http://127.0.0.1:5000/123456789012/jobs";
const DLQ: &str = "http://127.0.0.1:5000/123456789012/jobs-dlq";

fn vars(prefix: &str) -> PolicyVars {
    PolicyVars::deployment(Q, DLQ, &["imgs".to_owned(), "more".to_owned()], prefix)
}

fn sids(policy: &Value) -> Vec<&str> {
    policy["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .map(|s| s["Sid"].as_str().unwrap_or_default())
        .collect()
}

fn statement<'a>(policy: &'a Value, sid: &str) -> &'a Value {
    policy["Statement"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["Sid"] == sid))
        .unwrap_or_else(|| panic!("no statement {sid} in {policy}"))
}

#[test]
fn worker_template_renders_the_module_statements_for_a_deployment() {
    let p = policy::policy(Role::Worker, &vars("keep-images/"));
    assert_eq!(
        sids(&p),
        [
            "ConsumeMainQueue",
            "DeadLetter",
            "DeleteTemporaryImages",
            "ListUnderPrefix",
            "SweeperLease"
        ]
    );
    assert_eq!(
        statement(&p, "ConsumeMainQueue")["Resource"],
        "arn:aws:sqs:us-east-1:123456789012:jobs"
    );
    assert_eq!(
        statement(&p, "DeadLetter")["Resource"],
        "arn:aws:sqs:us-east-1:123456789012:jobs-dlq"
    );
    assert_eq!(
        statement(&p, "DeleteTemporaryImages")["Resource"],
        serde_json::json!([
            "arn:aws:s3:::imgs/keep-images/*",
            "arn:aws:s3:::more/keep-images/*"
        ])
    );
    assert_eq!(
        statement(&p, "ListUnderPrefix")["Condition"]["StringLike"]["s3:prefix"],
        "keep-images/*"
    );
    assert_eq!(
        statement(&p, "SweeperLease")["Resource"],
        "arn:aws:s3:::imgs/image-janitor/sweeper.lease"
    );
}

#[test]
fn empty_prefix_drops_the_list_condition_and_kms_adds_a_statement() {
    let p = policy::policy(Role::Worker, &vars(""));
    assert!(statement(&p, "ListUnderPrefix").get("Condition").is_none());
    assert_eq!(
        statement(&p, "DeleteTemporaryImages")["Resource"][0],
        "arn:aws:s3:::imgs/*"
    );
    let kms = "arn:aws:kms:us-east-1:123456789012:key/k";
    for (role, sid) in [
        (Role::Worker, "UseQueueAndBucketKey"),
        (Role::Operator, "UseQueueKey"),
        (Role::NotionWriter, "EncryptForQueue"),
    ] {
        let without = policy::policy(role, &vars("p/"));
        assert!(!sids(&without).contains(&sid), "{role:?}");
        let with = policy::policy(role, &vars("p/").with_kms(kms));
        assert_eq!(statement(&with, sid)["Resource"], kms, "{role:?}");
    }
}

#[test]
fn renderer_refuses_what_it_does_not_understand() {
    let v = vars("p/");
    assert_eq!(
        render(r#"{"a": ${jsonencode(prefix)}}"#, &v).as_deref(),
        Ok(r#"{"a": "p/"}"#)
    );
    for bad in [
        "${prefix}",
        "${jsonencode(nope)}",
        "%{ for b in bucket_arns }x%{ endfor }",
        "%{ if prefix == \"\" }x%{ endif }",
        "%{ if prefix != \"\" }x",
        "%{ endif }",
        "%{ if prefix != \"\" }%{ if prefix != \"\" }%{ endif }%{ endif }",
    ] {
        assert!(render(bad, &v).is_err(), "{bad} should be refused");
    }
}

fn decide(policy: &Value, checks: &[Check]) -> Vec<Decision> {
    evaluator::shared().evaluate("arn:aws:iam::123456789012:role/worker", policy, checks)
}

#[test]
fn evaluator_applies_the_prefix_condition_and_resource_arns() {
    let p = policy::policy(Role::Worker, &vars("keep-images/"));
    let list = |prefix: Option<&str>| {
        let c = Check::new("s3:ListBucket", "arn:aws:s3:::imgs");
        match prefix {
            Some(v) => c.with("s3:prefix", v),
            None => c,
        }
    };
    let got = decide(
        &p,
        &[
            list(Some("keep-images/")),
            list(Some("other/")),
            list(None),
            Check::new("s3:DeleteObject", "arn:aws:s3:::imgs/keep-images/a b.jpg"),
            Check::new("s3:DeleteObject", "arn:aws:s3:::imgs/other/a.jpg"),
            Check::new(
                "s3:DeleteObject",
                "arn:aws:s3:::imgs/image-janitor/sweeper.lease",
            ),
            Check::new("s3:GetObject", "arn:aws:s3:::imgs/keep-images/a.jpg"),
            Check::new(
                "s3:PutObject",
                "arn:aws:s3:::more/image-janitor/sweeper.lease",
            ),
            Check::new(
                "sqs:ReceiveMessage",
                "arn:aws:sqs:us-east-1:123456789012:jobs",
            ),
            Check::new("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:jobs"),
            Check::new(
                "sqs:SendMessage",
                "arn:aws:sqs:us-east-1:123456789012:jobs-dlq",
            ),
        ],
    );
    use Decision::{Allowed as A, Denied as D};
    assert_eq!(got, [A, D, D, A, D, A, D, D, A, D, A]);

    let whole = policy::policy(Role::Worker, &vars(""));
    assert_eq!(
        decide(&whole, &[list(None)]),
        [A],
        "prefix \"\": whole bucket"
    );
    let op = policy::policy(Role::Operator, &vars("keep-images/"));
    assert_eq!(
        decide(
            &op,
            &[
                Check::new(
                    "sqs:ReceiveMessage",
                    "arn:aws:sqs:us-east-1:123456789012:jobs-dlq"
                ),
                Check::new("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:jobs"),
                Check::new(
                    "sqs:ReceiveMessage",
                    "arn:aws:sqs:us-east-1:123456789012:jobs"
                ),
            ]
        ),
        [A, A, D]
    );
    assert!(matches!(
        decide(&p, &[Check::new("s3:NoSuchAction", "arn:aws:s3:::imgs")])[0],
        Decision::Error(_)
    ));
}
