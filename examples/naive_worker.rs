//! The seed's way of draining the queue, kept as the benchmark's comparator (scripts/bench.sh):
//! N receive loops of 10 messages; per message one DeleteObject per image, then one DeleteMessage.
//! No batching across messages or images. It understands only `s3://BUCKET/KEY` URLs, which is all
//! the benchmark sends. Same SDK, runtime and concurrency as the real worker, so the comparison is
//! about the request pattern only.
//!
//! ```text
//! NAIVE_QUEUE_URL=... [NAIVE_CONCURRENCY=4] [NAIVE_WAIT_SECONDS=1] \
//!   AWS_ENDPOINT_URL=... AWS_REGION=us-east-1 cargo run --release --example naive_worker
//! ```
//! Runs until SIGTERM or SIGINT, then finishes the messages in hand and exits 0.

use std::time::Duration;

use aws_sdk_sqs::types::Message;
use futures::future::join_all;
use tokio_util::sync::CancellationToken;

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let queue_url = std::env::var("NAIVE_QUEUE_URL")
        .map_err(|_| anyhow::anyhow!("NAIVE_QUEUE_URL is required"))?;
    let concurrency: usize = env_or("NAIVE_CONCURRENCY", "4").parse()?;
    let wait: i32 = env_or("NAIVE_WAIT_SECONDS", "1").parse()?;

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
                    Ok(out) => {
                        let msgs = out.messages.unwrap_or_default();
                        join_all(msgs.iter().map(|m| handle(&sqs, &s3, &url, m))).await;
                    }
                    Err(e) => {
                        eprintln!("naive_worker: receive failed: {e:?}");
                        tokio::time::sleep(Duration::from_millis(500)).await;
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

/// One message: delete every image (one request each, concurrently), then the message itself.
/// Any failure leaves the message for redelivery.
async fn handle(sqs: &aws_sdk_sqs::Client, s3: &aws_sdk_s3::Client, url: &str, m: &Message) {
    let body: serde_json::Value = match serde_json::from_str(m.body().unwrap_or_default()) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("naive_worker: bad body: {e}");
            return;
        }
    };
    let objects: Vec<(String, String)> = body["images"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|i| i["s3_url"].as_str()?.strip_prefix("s3://"))
        .filter_map(|rest| rest.split_once('/'))
        .map(|(b, k)| (b.to_owned(), k.to_owned()))
        .collect();
    let results = join_all(
        objects
            .iter()
            .map(|(bucket, key)| s3.delete_object().bucket(bucket).key(key).send()),
    )
    .await;
    if let Some(Err(e)) = results.into_iter().find(Result::is_err) {
        eprintln!("naive_worker: delete failed: {e:?}");
        return;
    }
    if let Some(receipt) = m.receipt_handle() {
        if let Err(e) = sqs
            .delete_message()
            .queue_url(url)
            .receipt_handle(receipt)
            .send()
            .await
        {
            eprintln!("naive_worker: delete message failed: {e:?}");
        }
    }
}
