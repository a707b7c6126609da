//! A simple per-receive batcher, kept as a benchmark reference (scripts/bench.sh): N receive
//! loops, each doing ReceiveMessage(10) → one DeleteObjects for all the keys of those messages →
//! one DeleteMessageBatch for them. Batches within one receive only, never across receives, and
//! never waits. Same SDK, runtime and concurrency as image-janitor; it understands only
//! `s3://BUCKET/KEY` URLs in one bucket, which is all the benchmark sends.
//!
//! ```text
//! REF_QUEUE_URL=... [REF_CONCURRENCY=4] [REF_WAIT_SECONDS=20] \
//!   AWS_ENDPOINT_URL=... AWS_REGION=us-east-1 cargo run --release --example per_receive_worker
//! ```
//! Runs until SIGTERM or SIGINT, then finishes the receive in hand and exits 0.

use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message};
use tokio_util::sync::CancellationToken;

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let queue_url =
        std::env::var("REF_QUEUE_URL").map_err(|_| anyhow::anyhow!("REF_QUEUE_URL is required"))?;
    let concurrency: usize = env_or("REF_CONCURRENCY", "4").parse()?;
    let wait: i32 = env_or("REF_WAIT_SECONDS", "20").parse()?;
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let sqs = aws_sdk_sqs::Client::new(&conf);
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(true)
            .build(),
    );
    let stop = CancellationToken::new();
    let mut loops = Vec::new();
    for _ in 0..concurrency {
        let (sqs, s3, url, stop) = (sqs.clone(), s3.clone(), queue_url.clone(), stop.clone());
        loops.push(tokio::spawn(async move {
            while !stop.is_cancelled() {
                let got = sqs
                    .receive_message()
                    .queue_url(&url)
                    .max_number_of_messages(10)
                    .wait_time_seconds(wait)
                    .visibility_timeout(60)
                    .send()
                    .await;
                match got {
                    Ok(out) => process(&sqs, &s3, &url, &out.messages.unwrap_or_default()).await,
                    Err(e) => {
                        eprintln!("per_receive_worker: receive failed: {e:?}");
                        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    }
                }
            }
        }));
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    stop.cancel();
    for l in loops {
        let _ = l.await;
    }
    Ok(())
}

/// One receive: one DeleteObjects for every key, then one DeleteMessageBatch for every message
/// (all or nothing: any failure leaves the whole receive for redelivery).
async fn process(sqs: &aws_sdk_sqs::Client, s3: &aws_sdk_s3::Client, url: &str, msgs: &[Message]) {
    if msgs.is_empty() {
        return;
    }
    let mut bucket = String::new();
    let mut keys = Vec::new();
    for m in msgs {
        let body: serde_json::Value =
            serde_json::from_str(m.body().unwrap_or_default()).unwrap_or(serde_json::Value::Null);
        for image in body["images"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let Some((b, k)) = image["s3_url"]
                .as_str()
                .and_then(|u| u.strip_prefix("s3://"))
                .and_then(|rest| rest.split_once('/'))
            else {
                continue;
            };
            bucket = b.to_owned();
            if let Ok(id) = ObjectIdentifier::builder().key(k).build() {
                keys.push(id);
            }
        }
    }
    if !keys.is_empty() {
        let Ok(delete) = Delete::builder()
            .set_objects(Some(keys))
            .quiet(true)
            .build()
        else {
            return;
        };
        match s3
            .delete_objects()
            .bucket(&bucket)
            .delete(delete)
            .send()
            .await
        {
            Ok(out) if out.errors().is_empty() => {}
            Ok(out) => {
                eprintln!("per_receive_worker: {} keys failed", out.errors().len());
                return;
            }
            Err(e) => {
                eprintln!("per_receive_worker: DeleteObjects failed: {e:?}");
                return;
            }
        }
    }
    let entries = msgs
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(m.receipt_handle()?)
                .build()
                .ok()
        })
        .collect();
    if let Err(e) = sqs
        .delete_message_batch()
        .queue_url(url)
        .set_entries(Some(entries))
        .send()
        .await
    {
        eprintln!("per_receive_worker: DeleteMessageBatch failed: {e:?}");
    }
}
