//! The `image-janitor publish` entry point: the SQS client, one page.created message sent, its
//! SQS message id printed.

use std::time::Duration;

use crate::error::AppError;
use crate::queue::sqs::SqsQueue;

/// `image-janitor publish`: prints the message id.
pub async fn publish(
    queue_url: String,
    page_id: Option<&str>,
    note_id: Option<&str>,
    urls: &[String],
) -> Result<(), AppError> {
    let conf = crate::aws::load_config(Duration::from_secs(20)).await;
    let queue = SqsQueue::from_conf(&conf, queue_url);
    let id = super::publish(&queue, page_id, note_id, urls)
        .await
        .map_err(|e| AppError::Runtime(format!("publish failed: {e}")))?;
    println!("{id}");
    Ok(())
}
