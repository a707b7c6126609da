//! The AWS-strict proxy bites: out-of-policy requests are refused the way AWS refuses them, and
//! the limits moto lacks are enforced. Requests go through `Env`'s strict proxy with the SDK
//! (retries off, signing as a shipped role), or through the real binary.

mod common;

use std::time::Duration;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName, SendMessageBatchRequestEntry};
use common::faultproxy::{
    FaultProxy, Role, StrictPolicy, NOTION_WRITER_KEY, OPERATOR_KEY, WORKER_KEY,
};
use common::{clients_as, eventually, page_created, Daemon, Env};

fn delete_of(keys: &[String]) -> Delete {
    Delete::builder()
        .set_objects(Some(
            keys.iter()
                .map(|k| ObjectIdentifier::builder().key(k).build().expect("id"))
                .collect(),
        ))
        .build()
        .expect("delete")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_policy_keys_are_denied_per_key_inside_a_200() {
    let env = Env::fresh("strict-perkey").await;
    let inside = format!("{}ok/a.jpg", env.prefix);
    let outside = "elsewhere/b.jpg".to_owned();
    let lease = common::faultproxy::strict::policy::LEASE_KEY.to_owned();
    for k in [&inside, &outside, &lease] {
        env.put(&env.bucket, k).await;
    }
    let (_, s3) = clients_as(env.endpoint(), WORKER_KEY).await;
    let out = s3
        .delete_objects()
        .bucket(&env.bucket)
        .delete(delete_of(&[inside.clone(), outside.clone()]))
        .send()
        .await
        .expect("DeleteObjects answers 200 with per-key results");
    let deleted: Vec<&str> = out.deleted().iter().filter_map(|d| d.key()).collect();
    let errors: Vec<(&str, &str)> = out
        .errors()
        .iter()
        .map(|e| (e.key().unwrap_or_default(), e.code().unwrap_or_default()))
        .collect();
    assert_eq!(deleted, [inside.as_str()]);
    assert_eq!(errors, [(outside.as_str(), "AccessDenied")]);
    assert!(!env.exists(&env.bucket, &inside).await);
    assert!(env.exists(&env.bucket, &outside).await, "denied key kept");
    let denials = env.strict.strict_denials();
    assert!(
        denials.iter().any(|d| d.action == "s3:DeleteObject"
            && d.resource == format!("arn:aws:s3:::{}/{outside}", env.bucket)),
        "{denials:?}"
    );
    // The lease object is the worker's to delete (release), a bucket it does not know is not.
    let other = env.new_bucket("strict-perkey-other").await;
    env.put(&other, &inside).await;
    let out = s3
        .delete_objects()
        .bucket(&other)
        .delete(delete_of(std::slice::from_ref(&inside)))
        .send()
        .await
        .expect("200");
    assert_eq!(out.errors()[0].code(), Some("AccessDenied"));
    assert!(env.exists(&other, &inside).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_is_denied_outside_the_deployed_prefix() {
    // The daemon is configured wider (JANITOR_PREFIX="") than the module was deployed
    // (keep-images/): IAM, not the binary, refuses the key outside, per key.
    let env = Env::fresh("strict-binary").await;
    let inside = format!("{}in/a.jpg", env.prefix);
    let outside = "elsewhere/x.jpg".to_owned();
    env.put(&env.bucket, &inside).await;
    env.put(&env.bucket, &outside).await;
    let urls = [
        format!("s3://{}/{inside}", env.bucket),
        format!("s3://{}/{outside}", env.bucket),
    ];
    env.send_raw(&page_created("wide", &urls)).await;
    let mut cmd = env.janitor();
    cmd.env("JANITOR_PREFIX", "");
    let daemon = Daemon::start(cmd);
    eventually(Duration::from_secs(30), "delete_rejected", || async {
        daemon.metric("janitor_messages_dead_lettered_total{reason=\"delete_rejected\"}") >= 1.0
    })
    .await;
    assert!(env.exists(&env.bucket, &outside).await);
    let dlq = env.take_all(&env.dlq_url).await;
    assert_eq!(dlq.len(), 1);
    assert!(
        dlq[0].attributes["janitor.detail"].contains("AccessDenied"),
        "{:?}",
        dlq[0].attributes
    );
    assert!(env
        .strict
        .strict_denials()
        .iter()
        .any(|d| d.identity == "worker"
            && d.action == "s3:DeleteObject"
            && d.resource.ends_with(&outside)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_objects_limits_are_malformed_xml() {
    let env = Env::fresh("strict-xml").await;
    let (_, s3) = clients_as(env.endpoint(), WORKER_KEY).await;
    let keys: Vec<String> = (0..1001)
        .map(|i| format!("{}k/{i}.jpg", env.prefix))
        .collect();
    env.put(&env.bucket, &keys[0]).await;
    let err = s3
        .delete_objects()
        .bucket(&env.bucket)
        .delete(delete_of(&keys))
        .send()
        .await
        .expect_err("1,001 keys are refused");
    assert_eq!(err.code(), Some("MalformedXML"), "{err:?}");
    assert!(env.exists(&env.bucket, &keys[0]).await, "nothing deleted");
    // 1,000 is fine.
    let out = s3
        .delete_objects()
        .bucket(&env.bucket)
        .delete(delete_of(&keys[..1000]))
        .send()
        .await
        .expect("1,000 keys");
    assert_eq!(out.deleted().len(), 1000);
    // A character XML 1.0 cannot carry.
    let bad = format!("{}bad\u{FFFF}.jpg", env.prefix);
    let err = s3
        .delete_objects()
        .bucket(&env.bucket)
        .delete(delete_of(&[bad]))
        .send()
        .await
        .expect_err("U+FFFF is refused");
    assert_eq!(err.code(), Some("MalformedXML"), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqs_batch_and_message_limits_are_enforced() {
    let env = Env::fresh("strict-sqs").await;
    let (sqs, _) = clients_as(env.endpoint(), NOTION_WRITER_KEY).await;
    let entries = |n: usize, size: usize| {
        (0..n)
            .map(|i| {
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body("x".repeat(size))
                    .build()
                    .expect("entry")
            })
            .collect::<Vec<_>>()
    };
    let send = |e: Vec<SendMessageBatchRequestEntry>| {
        sqs.send_message_batch()
            .queue_url(&env.queue_url)
            .set_entries(Some(e))
            .send()
    };
    let err = send(entries(11, 10)).await.expect_err("11 entries");
    assert!(
        err.code()
            .unwrap_or_default()
            .ends_with("TooManyEntriesInBatchRequest"),
        "{err:?}"
    );
    let err = send(entries(10, 110 * 1024)).await.expect_err("1.07 MiB");
    assert!(
        err.code()
            .unwrap_or_default()
            .ends_with("BatchRequestTooLong"),
        "{err:?}"
    );
    let ok = send(entries(10, 100 * 1024))
        .await
        .expect("1,000 KiB is fine");
    assert_eq!(ok.successful().len(), 10);

    let attr = MessageAttributeValue::builder()
        .data_type("String")
        .string_value("v")
        .build()
        .expect("attr");
    let mut eleven = sqs
        .send_message()
        .queue_url(&env.queue_url)
        .message_body("b");
    for i in 0..11 {
        eleven = eleven.message_attributes(format!("a{i}"), attr.clone());
    }
    let err = eleven.send().await.expect_err("11 attributes");
    assert_eq!(err.code(), Some("InvalidParameterValue"), "{err:?}");

    // The queue's own MaximumMessageSize (read from moto through the proxy, cached per queue).
    env.sqs
        .set_queue_attributes()
        .queue_url(&env.queue_url)
        .attributes(QueueAttributeName::MaximumMessageSize, "1024")
        .send()
        .await
        .expect("set MaximumMessageSize");
    let err = sqs
        .send_message()
        .queue_url(&env.queue_url)
        .message_body("y".repeat(1025))
        .send()
        .await
        .expect_err("over MaximumMessageSize");
    assert_eq!(err.code(), Some("InvalidParameterValue"), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iam_on_sqs_actions_and_unknown_keys() {
    let env = Env::fresh("strict-iam").await;
    let (worker, _) = clients_as(env.endpoint(), WORKER_KEY).await;
    let err = worker
        .send_message()
        .queue_url(&env.queue_url)
        .message_body("{}")
        .send()
        .await
        .expect_err("the worker may not publish");
    assert_eq!(err.code(), Some("AccessDenied"), "{err:?}");
    worker
        .send_message()
        .queue_url(&env.dlq_url)
        .message_body("{}")
        .send()
        .await
        .expect("the worker may dead-letter");
    let (operator, _) = clients_as(env.endpoint(), OPERATOR_KEY).await;
    let err = operator
        .receive_message()
        .queue_url(&env.queue_url)
        .send()
        .await
        .expect_err("the operator may not consume the main queue");
    assert_eq!(err.code(), Some("AccessDenied"), "{err:?}");
    let (stranger, s3) = clients_as(env.endpoint(), "AKIDNOBODY").await;
    let err = stranger
        .get_queue_attributes()
        .queue_url(&env.queue_url)
        .send()
        .await
        .expect_err("unknown key");
    assert_eq!(err.code(), Some("InvalidClientTokenId"), "{err:?}");
    let err = s3
        .list_objects_v2()
        .bucket(&env.bucket)
        .send()
        .await
        .expect_err("unknown key");
    assert_eq!(err.code(), Some("InvalidAccessKeyId"), "{err:?}");
}

/// The worker policy plus an unconditioned `s3:ListBucket` on the bucket.
fn with_list_bucket(env: &Env) -> serde_json::Value {
    let mut p = common::faultproxy::strict::policy::policy(Role::Worker, &env.policy_vars());
    p["Statement"]
        .as_array_mut()
        .expect("statements")
        .push(serde_json::json!({
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": format!("arn:aws:s3:::{}", env.bucket),
        }));
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_needs_the_prefix_and_a_missing_key_is_403_without_list_bucket() {
    let env = Env::fresh("strict-404").await;
    let lease = common::faultproxy::strict::policy::LEASE_KEY;
    let (_, s3) = clients_as(env.endpoint(), WORKER_KEY).await;
    s3.list_objects_v2()
        .bucket(&env.bucket)
        .prefix(&env.prefix)
        .send()
        .await
        .expect("listing under the prefix");
    for prefix in [None, Some("elsewhere/")] {
        let err = s3
            .list_objects_v2()
            .bucket(&env.bucket)
            .set_prefix(prefix.map(str::to_owned))
            .send()
            .await
            .expect_err("listing outside the prefix");
        assert_eq!(err.code(), Some("AccessDenied"), "{prefix:?}: {err:?}");
    }
    // Shipped policy: GetObject on the lease key is granted, ListBucket only under s3:prefix.
    let err = s3
        .get_object()
        .bucket(&env.bucket)
        .key(lease)
        .send()
        .await
        .expect_err("missing");
    assert_eq!(err.code(), Some("AccessDenied"), "{err:?}");
    let err = s3
        .head_object()
        .bucket(&env.bucket)
        .key(lease)
        .send()
        .await
        .expect_err("missing");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));

    // With an unconditioned ListBucket the same reads are 404.
    let lister = FaultProxy::strict(
        common::moto(),
        StrictPolicy::new().identity("AKIDLISTER", "lister", with_list_bucket(&env)),
    );
    let (_, s3) = clients_as(lister.url(), "AKIDLISTER").await;
    let err = s3
        .get_object()
        .bucket(&env.bucket)
        .key(lease)
        .send()
        .await
        .expect_err("missing");
    assert_eq!(err.code(), Some("NoSuchKey"), "{err:?}");
    let err = s3
        .head_object()
        .bucket(&env.bucket)
        .key(lease)
        .send()
        .await
        .expect_err("missing");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(404));
    // An object that exists is read either way.
    env.put(&env.bucket, lease).await;
    let (_, worker) = clients_as(env.endpoint(), WORKER_KEY).await;
    worker
        .get_object()
        .bucket(&env.bucket)
        .key(lease)
        .send()
        .await
        .expect("present lease is readable");
}
