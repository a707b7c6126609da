//! Unit tests of the queue checks and the DLQ send probe, on the fakes: for each check, the
//! settings that make it ok, WARN and FAIL, and that exactly that check changes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::{failures, run, Check, Settings, Status, Target};
use crate::config::LeaseLocation;
use crate::fakes::{permanent, FakeQueue, FakeStore, QueueCall};
use crate::queue::{Attribute, Attributes, Queue, QueueSettings};
use crate::s3url::LocationPolicy;
use crate::store::LifecycleRule;

pub(super) const BUCKET: &str = "bucket-a";
pub(super) const PREFIX: &str = "keep-images/";
pub(super) const MAIN: &str = "fake://queue/main";
pub(super) const DLQ: &str = "fake://queue/main-dlq";

/// The shape the Terraform module ships, on fakes: everything passes.
pub(super) struct Fixture {
    pub main: FakeQueue,
    pub dlq: FakeQueue,
    pub store: FakeStore,
    pub settings: Settings,
}

pub(super) fn redrive(n: u32) -> String {
    format!(
        r#"{{"deadLetterTargetArn":"{}","maxReceiveCount":{n}}}"#,
        FakeQueue::arn_of(DLQ)
    )
}

impl Fixture {
    pub fn new() -> Fixture {
        let main = FakeQueue::new(MAIN);
        main.set_settings(QueueSettings {
            redrive_policy: Some(redrive(8)),
            visibility_timeout: Some(Duration::from_secs(60)),
            maximum_message_size: Some(1_048_576),
            ..FakeQueue::default_settings(MAIN)
        });
        let dlq = FakeQueue::new(DLQ);
        dlq.set_settings(QueueSettings {
            maximum_message_size: Some(1_048_576),
            retention: Some(Duration::from_secs(1_209_600)),
            ..FakeQueue::default_settings(DLQ)
        });
        let store = FakeStore::new(&[BUCKET]);
        store.deny_outside(PREFIX);
        store.set_lifecycle(
            BUCKET,
            vec![LifecycleRule {
                id: "expire".into(),
                enabled: true,
                prefix: PREFIX.into(),
                expiration_days: Some(7),
                ..LifecycleRule::default()
            }],
        );
        let settings = Settings {
            configured_dlq: None,
            policy: LocationPolicy::new([BUCKET.to_owned()], PREFIX),
            max_attempts: 5,
            visibility: Duration::from_secs(60),
            sweep_max_age: Duration::from_secs(7 * 86_400),
            lease: Some(LeaseLocation {
                bucket: BUCKET.into(),
                key: "image-janitor/sweeper.lease".into(),
            }),
            send_probe: false,
        };
        Fixture {
            main,
            dlq,
            store,
            settings,
        }
    }

    pub fn target(&self) -> Target {
        let queues: HashMap<String, FakeQueue> = [
            (MAIN.to_owned(), self.main.clone()),
            (DLQ.to_owned(), self.dlq.clone()),
        ]
        .into();
        Target {
            main: Arc::new(self.main.clone()),
            open: Arc::new(move |url: &str| -> Arc<dyn Queue> {
                Arc::new(
                    queues
                        .get(url)
                        .cloned()
                        .unwrap_or_else(|| FakeQueue::new(url)),
                )
            }),
            store: Arc::new(self.store.clone()),
        }
    }

    pub async fn run(&self) -> Vec<Check> {
        run(&self.target(), &self.settings).await
    }
}

pub(super) fn status(checks: &[Check], name: &str) -> Status {
    let found: Vec<_> = checks.iter().filter(|c| c.name == name).collect();
    assert_eq!(found.len(), 1, "one {name} check expected: {checks:#?}");
    found[0].status
}

/// The names of the checks with this status.
pub(super) fn with(checks: &[Check], s: Status) -> Vec<&'static str> {
    checks
        .iter()
        .filter(|c| c.status == s)
        .map(|c| c.name)
        .collect()
}

#[tokio::test]
async fn the_shipped_shape_passes_every_check() {
    let f = Fixture::new();
    let checks = f.run().await;
    assert_eq!(failures(&checks), 0, "{checks:#?}");
    assert_eq!(
        with(&checks, Status::Warn),
        Vec::<&str>::new(),
        "{checks:#?}"
    );
    // SendMessage is only probed with --send-probe.
    assert_eq!(with(&checks, Status::Skip), ["dlq_send"]);
    let names: Vec<_> = checks.iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        [
            "main_queue",
            "redrive_policy",
            "max_receive_count",
            "visibility_timeout",
            "encryption",
            "dlq",
            "message_size",
            "encryption",
            "dlq_retention",
            "dlq_send",
            "delete_under_prefix",
            "delete_outside_prefix",
            "list_under_prefix",
            "lifecycle",
            "lease",
        ]
    );
    // Nothing was sent, received or deleted on either queue.
    for q in [&f.main, &f.dlq] {
        assert!(
            q.calls().iter().all(|c| matches!(c, QueueCall::Settings)),
            "{:?}",
            q.calls()
        );
    }
}

#[tokio::test]
async fn max_receive_count_not_above_max_attempts_fails_that_check_alone() {
    for n in [1, 5] {
        let f = Fixture::new();
        f.main.set_settings(QueueSettings {
            redrive_policy: Some(redrive(n)),
            maximum_message_size: Some(1_048_576),
            ..FakeQueue::default_settings(MAIN)
        });
        let checks = f.run().await;
        assert_eq!(
            with(&checks, Status::Fail),
            ["max_receive_count"],
            "{checks:#?}"
        );
    }
    // maxReceiveCount as a string, as SQS returns it, above the attempts: ok.
    let f = Fixture::new();
    f.main.set_settings(QueueSettings {
        redrive_policy: Some(redrive(6).replace(":6}", ":\"6\"}")),
        maximum_message_size: Some(1_048_576),
        ..FakeQueue::default_settings(MAIN)
    });
    assert_eq!(status(&f.run().await, "max_receive_count"), Status::Ok);
}

#[tokio::test]
async fn without_a_redrive_policy_the_dlq_url_decides_fail_or_warn() {
    let f = Fixture::new();
    f.main.set_settings(QueueSettings {
        redrive_policy: None,
        maximum_message_size: Some(1_048_576),
        ..FakeQueue::default_settings(MAIN)
    });
    let checks = f.run().await;
    assert_eq!(
        with(&checks, Status::Fail),
        ["redrive_policy"],
        "{checks:#?}"
    );
    assert_eq!(status(&checks, "max_receive_count"), Status::Skip);
    assert_eq!(status(&checks, "dlq"), Status::Skip);

    let mut f2 = Fixture::new();
    f2.main.set_settings(QueueSettings {
        redrive_policy: None,
        maximum_message_size: Some(1_048_576),
        ..FakeQueue::default_settings(MAIN)
    });
    f2.settings.configured_dlq = Some(DLQ.into());
    let checks = f2.run().await;
    assert_eq!(failures(&checks), 0, "{checks:#?}");
    assert_eq!(status(&checks, "redrive_policy"), Status::Warn);
    assert_eq!(status(&checks, "dlq"), Status::Ok);
}

#[tokio::test]
async fn an_unreadable_redrive_policy_fails() {
    let f = Fixture::new();
    f.main.set_settings(QueueSettings {
        redrive_policy: Some(r#"{"maxReceiveCount":8}"#.into()),
        maximum_message_size: Some(1_048_576),
        ..FakeQueue::default_settings(MAIN)
    });
    let checks = f.run().await;
    assert_eq!(
        with(&checks, Status::Fail),
        ["redrive_policy"],
        "{checks:#?}"
    );
}

#[tokio::test]
async fn an_unreachable_dlq_fails_the_dlq_check_alone() {
    let f = Fixture::new();
    f.dlq.deny("AccessDenied");
    let checks = f.run().await;
    assert_eq!(with(&checks, Status::Fail), ["dlq"], "{checks:#?}");
    let dlq = checks.iter().find(|c| c.name == "dlq").expect("dlq");
    assert!(dlq.detail.contains("AccessDenied"), "{dlq:?}");
    assert!(dlq
        .fix
        .as_deref()
        .unwrap_or_default()
        .contains("sqs:SendMessage"));
    // What needs the DLQ cannot be judged: skipped, not failed twice.
    assert_eq!(status(&checks, "dlq_retention"), Status::Skip);
    assert_eq!(status(&checks, "dlq_send"), Status::Skip);
}

#[tokio::test]
async fn an_unreachable_main_queue_fails() {
    let f = Fixture::new();
    f.main.deny("AWS.SimpleQueueService.NonExistentQueue");
    let checks = f.run().await;
    assert_eq!(status(&checks, "main_queue"), Status::Fail);
    assert!(failures(&checks) >= 1);
}

#[tokio::test]
async fn a_dlq_that_is_the_main_queue_fails() {
    let mut f = Fixture::new();
    f.settings.configured_dlq = Some(MAIN.into());
    let checks = f.run().await;
    assert_eq!(with(&checks, Status::Fail), ["dlq"], "{checks:#?}");

    // The same queue reached through another URL: caught by its ARN.
    let mut f = Fixture::new();
    f.settings.configured_dlq = Some("fake://queue/other-url".into());
    f.dlq.set_settings(FakeQueue::default_settings(MAIN));
    let open_same_arn = FakeQueue::new("fake://queue/other-url");
    open_same_arn.set_settings(FakeQueue::default_settings(MAIN));
    let mut target = f.target();
    target.open = Arc::new(move |_url: &str| -> Arc<dyn Queue> { Arc::new(open_same_arn.clone()) });
    let checks = run(&target, &f.settings).await;
    assert_eq!(status(&checks, "dlq"), Status::Fail, "{checks:#?}");
}

#[tokio::test]
async fn a_configured_dlq_other_than_the_redrive_target_warns() {
    let mut f = Fixture::new();
    f.settings.configured_dlq = Some("fake://queue/elsewhere".into());
    let checks = f.run().await;
    assert_eq!(
        with(&checks, Status::Warn),
        ["dlq", "message_size", "dlq_retention"],
        "{checks:#?}"
    );
    assert_eq!(failures(&checks), 0);
}

#[tokio::test]
async fn weak_queue_settings_warn_but_do_not_fail() {
    let f = Fixture::new();
    f.main.set_settings(QueueSettings {
        redrive_policy: Some(redrive(8)),
        visibility_timeout: Some(Duration::ZERO),
        maximum_message_size: Some(262_144),
        sqs_managed_sse: Some(false),
        ..FakeQueue::default_settings(MAIN)
    });
    f.dlq.set_settings(QueueSettings {
        retention: Some(Duration::from_secs(345_600)),
        maximum_message_size: Some(262_144),
        ..FakeQueue::default_settings(DLQ)
    });
    let checks = f.run().await;
    assert_eq!(failures(&checks), 0, "{checks:#?}");
    assert_eq!(
        with(&checks, Status::Warn),
        [
            "visibility_timeout",
            "encryption",
            "message_size",
            "dlq_retention"
        ],
        "{checks:#?}"
    );
    let size = checks
        .iter()
        .find(|c| c.name == "message_size")
        .expect("size");
    assert!(size.fix.as_deref().unwrap_or_default().contains("1048576"));
}

#[tokio::test]
async fn a_dlq_smaller_than_the_main_queue_warns() {
    let f = Fixture::new();
    f.dlq.set_settings(QueueSettings {
        maximum_message_size: Some(262_144),
        retention: Some(Duration::from_secs(1_209_600)),
        ..FakeQueue::default_settings(DLQ)
    });
    let checks = f.run().await;
    assert_eq!(with(&checks, Status::Warn), ["message_size"], "{checks:#?}");
}

#[tokio::test]
async fn a_kms_key_is_reported_with_the_permissions_it_needs() {
    let f = Fixture::new();
    f.main.set_settings(QueueSettings {
        redrive_policy: Some(redrive(8)),
        maximum_message_size: Some(1_048_576),
        kms_key_id: Some("alias/janitor".into()),
        sqs_managed_sse: None,
        ..FakeQueue::default_settings(MAIN)
    });
    let checks = f.run().await;
    let enc = checks
        .iter()
        .find(|c| c.name == "encryption")
        .expect("encryption");
    assert_eq!(enc.status, Status::Ok);
    assert!(enc.detail.contains("alias/janitor") && enc.detail.contains("kms:Decrypt"));
}

fn marked(attrs: &Attributes) -> bool {
    attrs.contains_key(super::send_probe::MARKER)
}

#[tokio::test(start_paused = true)]
async fn the_send_probe_sends_and_deletes_its_marker_and_nothing_else() {
    let mut f = Fixture::new();
    f.settings.send_probe = true;
    let mut attrs = Attributes::new();
    attrs.insert("janitor.reason".into(), Attribute::string("invalid_json"));
    for i in 0..15 {
        f.dlq.push(&format!("dead letter {i}"), attrs.clone());
    }
    let before: Vec<_> = f
        .dlq
        .messages()
        .into_iter()
        .map(|m| (m.id, m.body))
        .collect();
    let checks = f.run().await;
    assert_eq!(status(&checks, "dlq_send"), Status::Ok, "{checks:#?}");
    assert!(f.dlq.calls().iter().any(
        |c| matches!(c, QueueCall::SendBatch { bodies } if bodies[0].contains("janitor.preflight"))
    ));
    let after: Vec<_> = f
        .dlq
        .messages()
        .into_iter()
        .map(|m| (m.id, m.body))
        .collect();
    assert_eq!(
        after, before,
        "the marker is gone and every other message is kept"
    );
    // The others were handed back at once, not left hidden.
    let depth = f.dlq.depth().await.expect("depth");
    assert_eq!(depth.visible, 15);
    assert!(f.dlq.messages().iter().all(|m| !marked(&m.attributes)));
}

#[tokio::test(start_paused = true)]
async fn the_send_probe_fails_when_send_is_refused_and_warns_when_it_cannot_clean_up() {
    let mut f = Fixture::new();
    f.settings.send_probe = true;
    f.dlq
        .fail_next_send(permanent("sqs", "SendMessageBatch", "AccessDenied"));
    let checks = f.run().await;
    assert_eq!(with(&checks, Status::Fail), ["dlq_send"], "{checks:#?}");

    let mut f = Fixture::new();
    f.settings.send_probe = true;
    f.dlq
        .fail_next_receive(permanent("sqs", "ReceiveMessage", "AccessDenied"));
    let checks = f.run().await;
    let send = checks
        .iter()
        .find(|c| c.name == "dlq_send")
        .expect("dlq_send");
    assert_eq!(send.status, Status::Warn, "{send:?}");
    assert!(send
        .fix
        .as_deref()
        .unwrap_or_default()
        .contains("janitor.preflight="));
    assert_eq!(f.dlq.len(), 1, "the marker is left, and the report says so");
}
