//! The daemon on fakes with paused time: each long-lived task, made to panic or return early while
//! a message is in hand, stops the run the supervisor's way: readiness off, the message handed
//! back (visibility 0), an exit-1 error naming the task, and one log line naming it.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;

use super::*;
use crate::cli::{CommonArgs, RunArgs};
use crate::fakes::{CapturedLogs, FakeQueue, FakeStore, QueueCall};
use crate::queue::Attributes;
use crate::supervisor::{Hook, TaskFuture};

const BUCKET: &str = "images-bucket";
const KEY: &str = "keep-images/note-1/a.jpg";
const OTHER_KEY: &str = "keep-images/note-2/b.jpg";

fn settings() -> RunSettings {
    let args = RunArgs {
        common: CommonArgs {
            queue_url: Some("http://127.0.0.1:5000/123456789012/jobs".into()),
            dlq_url: Some("http://127.0.0.1:5000/123456789012/jobs-dlq".into()),
            buckets: Some(BUCKET.into()),
            prefix: Some("keep-images/".into()),
            log_format: "json".into(),
            s3_force_path_style: None,
            audit: "on".into(),
        },
        concurrency: "2".into(),
        wait_time: "1s".into(),
        visibility_timeout: "60s".into(),
        max_attempts: "5".into(),
        sweep_interval: "1h".into(),
        sweep_max_age: "7d".into(),
        http_addr: "127.0.0.1:0".into(),
        shutdown_timeout: "20s".into(),
        dry_run: None,
        queue_poll_interval: "30s".into(),
    };
    crate::config::run_in(&args, &|_| None).unwrap()
}

/// How the chosen task misbehaves once the test fires the trigger.
#[derive(Clone, Copy)]
enum Fault {
    Panic,
    Return,
    /// Not the task itself: one of the requests it spawned panics (the batcher's next
    /// DeleteObjects, the acker's next DeleteMessageBatch).
    PanicInRequest,
}

/// Wrap the task `victim` (as displayed: `acker`, `receive_loop 0`) so that it misbehaves when
/// `trigger` fires; until then it runs as it would.
fn inject(victim: &'static str, fault: Fault, trigger: CancellationToken) -> Hook {
    Box::new(move |task: Task, real: TaskFuture| -> TaskFuture {
        if task.to_string() != victim {
            return real;
        }
        let trigger = trigger.clone();
        Box::pin(async move {
            tokio::select! {
                result = real => return result,
                _ = trigger.cancelled() => {}
            }
            match fault {
                Fault::Panic => panic!("injected fault"),
                Fault::Return | Fault::PanicInRequest => Ok(()),
            }
        })
    })
}

/// The error lines naming `task` in their `task` field.
fn naming(captured: &CapturedLogs, task: &str) -> usize {
    captured
        .lines()
        .iter()
        .filter(|l| l["level"] == "ERROR" && l["fields"]["task"] == task)
        .count()
}

/// Start the daemon on fakes with one message whose deletes keep failing transiently (so it
/// stays in hand, in backoff); once its first DeleteObjects went out, make `victim` misbehave.
async fn stops_the_daemon(victim: &'static str, fault: Fault) {
    let (captured, _guard) = CapturedLogs::start();
    let queue = FakeQueue::new("main");
    let store = FakeStore::new(&[BUCKET]);
    store.put(BUCKET, KEY, SystemTime::now());
    store.flaky_key(KEY, 1_000);
    let body = format!(
        r#"{{"type":"page.created","version":1,"images":[{{"s3_url":"s3://{BUCKET}/{KEY}"}}]}}"#
    );
    queue.push(&body, Attributes::new());

    let trigger = CancellationToken::new();
    let mut tasks = Supervisor::with_hook(inject(victim, fault, trigger.clone()));
    let settings = settings();
    let ready = Readiness::default();
    let http_stop = start_http(&settings, ready.clone(), None, &mut tasks)
        .await
        .unwrap();
    let services = Services {
        main: Arc::new(queue.clone()),
        dlq: Arc::new(FakeQueue::new("dlq")),
        store: Arc::new(store.clone()),
    };
    let never = std::future::pending::<()>();
    let lifecycle = (ready.clone(), http_stop);
    let daemon =
        tokio::spawn(async move { serve(services, &settings, tasks, lifecycle, never).await });

    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while store.delete_requests().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no delete was tried"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(ready.get(), "ready while every task runs");
    assert_eq!(queue.len(), 1);
    assert!(
        queue.messages()[0].visible_at > tokio::time::Instant::now(),
        "the message is in hand"
    );
    match (fault, victim) {
        (Fault::PanicInRequest, "delete_batcher") => store.panic_next_delete(),
        (Fault::PanicInRequest, _) => {
            // A second message whose delete succeeds: its acknowledgement is the request that
            // panics, while the first message stays in hand.
            queue.panic_next_delete();
            store.put(BUCKET, OTHER_KEY, SystemTime::now());
            let other = format!(
                r#"{{"type":"page.created","version":1,"images":[{{"s3_url":"s3://{BUCKET}/{OTHER_KEY}"}}]}}"#
            );
            queue.push(&other, Attributes::new());
        }
        _ => trigger.cancel(),
    }

    // The shutdown signal never comes: only the supervisor can end the run.
    let result = tokio::time::timeout(Duration::from_secs(600), daemon)
        .await
        .expect("the daemon kept running after its task stopped")
        .unwrap();
    match result {
        Err(AppError::Runtime(e)) => assert!(e.contains(victim), "{e}"),
        other => panic!("expected a runtime error (exit 1), got {other:?}"),
    }
    assert!(!ready.get(), "readiness dropped");
    assert!(
        queue.calls().iter().any(|c| matches!(c,
            QueueCall::ChangeVisibility { receipts, timeout } if timeout.is_zero() && !receipts.is_empty())),
        "the message in hand was handed back: {:?}",
        queue.calls()
    );
    assert!(
        queue.messages()[0].visible_at <= tokio::time::Instant::now(),
        "visible again"
    );
    let name = victim.split(' ').next().unwrap_or(victim);
    assert_eq!(naming(&captured, name), 1, "one log line names the task");
}

#[tokio::test(start_paused = true)]
async fn a_panicking_batcher_stops_the_daemon() {
    stops_the_daemon("delete_batcher", Fault::Panic).await;
}

#[tokio::test(start_paused = true)]
async fn a_panicking_delete_request_stops_the_daemon() {
    stops_the_daemon("delete_batcher", Fault::PanicInRequest).await;
}

#[tokio::test(start_paused = true)]
async fn a_panicking_ack_request_stops_the_daemon() {
    stops_the_daemon("acker", Fault::PanicInRequest).await;
}

#[tokio::test(start_paused = true)]
async fn a_panicking_acker_stops_the_daemon() {
    stops_the_daemon("acker", Fault::Panic).await;
}

#[tokio::test(start_paused = true)]
async fn a_panicking_receive_loop_stops_the_daemon() {
    stops_the_daemon("receive_loop 1", Fault::Panic).await;
}

#[tokio::test(start_paused = true)]
async fn a_panicking_sweeper_timer_stops_the_daemon() {
    stops_the_daemon("sweeper_timer", Fault::Panic).await;
}

#[tokio::test(start_paused = true)]
async fn a_depth_poller_that_returns_stops_the_daemon() {
    stops_the_daemon("queue_depth_poller", Fault::Return).await;
}

#[tokio::test(start_paused = true)]
async fn an_http_server_that_returns_stops_the_daemon() {
    stops_the_daemon("http_server", Fault::Return).await;
}

#[tokio::test(start_paused = true)]
async fn the_shutdown_signal_drains_and_ends_cleanly() {
    let queue = FakeQueue::new("main");
    let store = FakeStore::new(&[BUCKET]);
    let mut tasks = Supervisor::new();
    let settings = settings();
    let ready = Readiness::default();
    let http_stop = start_http(&settings, ready.clone(), None, &mut tasks)
        .await
        .unwrap();
    let services = Services {
        main: Arc::new(queue.clone()),
        dlq: Arc::new(FakeQueue::new("dlq")),
        store: Arc::new(store.clone()),
    };
    let signal = tokio::time::sleep(Duration::from_secs(5));
    let result = serve(
        services,
        &settings,
        tasks,
        (ready.clone(), http_stop),
        signal,
    )
    .await;
    assert!(result.is_ok(), "{result:?}");
    assert!(!ready.get());
    assert!(queue.calls().contains(&QueueCall::Depth), "the poller ran");
}

#[test]
fn dry_run_refuses_a_queue_with_a_redrive_policy() {
    let dlq = "http://127.0.0.1:4566/123456789012/jobs-dlq";
    match check_dry_run(true, Some(dlq)) {
        Err(AppError::Config(e)) => assert_eq!(e.setting, "JANITOR_DRY_RUN"),
        other => panic!("expected a configuration error, got {other:?}"),
    }
    assert!(check_dry_run(true, None).is_ok());
    assert!(check_dry_run(false, Some(dlq)).is_ok());
}
