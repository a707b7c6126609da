//! The emulator's ceiling, kept as a benchmark reference (scripts/bench.sh): N receive loops of
//! ReceiveMessage(10) + one DeleteMessageBatch of what came back, and nothing else: no parsing,
//! no S3. The least any consumer can do per message, with the same SDK, runtime and concurrency
//! as image-janitor, so a worker's drain time can be read against it.
//!
//! ```text
//! REF_QUEUE_URL=... [REF_CONCURRENCY=4] [REF_WAIT_SECONDS=20] \
//!   AWS_ENDPOINT_URL=... AWS_REGION=us-east-1 cargo run --release --example sqs_only_worker
//! ```
//! Runs until SIGTERM or SIGINT, then finishes the receive in hand and exits 0.

use aws_sdk_sqs::types::DeleteMessageBatchRequestEntry;
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
    let stop = CancellationToken::new();
    let mut loops = Vec::new();
    for _ in 0..concurrency {
        let (sqs, url, stop) = (sqs.clone(), queue_url.clone(), stop.clone());
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
                let msgs = match got {
                    Ok(out) => out.messages.unwrap_or_default(),
                    Err(e) => {
                        eprintln!("sqs_only_worker: receive failed: {e:?}");
                        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                        continue;
                    }
                };
                if msgs.is_empty() {
                    continue;
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
                let out = sqs
                    .delete_message_batch()
                    .queue_url(&url)
                    .set_entries(Some(entries))
                    .send()
                    .await;
                if let Err(e) = out {
                    eprintln!("sqs_only_worker: delete failed: {e:?}");
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
