//! `image-janitor publish`: send one page.created message, as the Notion Writer would.

use std::time::SystemTime;

use crate::aws_error::AwsError;
use crate::message::build_body;
use crate::queue::{Attributes, Outgoing, Queue};
use crate::timestamp::rfc3339;

/// Build and send the message; returns the SQS message id.
pub async fn publish(
    queue: &dyn Queue,
    page_id: Option<&str>,
    note_id: Option<&str>,
    urls: &[String],
) -> Result<String, AwsError> {
    let body = build_body(page_id, note_id, urls, &rfc3339(SystemTime::now()));
    queue
        .send(&Outgoing {
            body,
            attributes: Attributes::new(),
        })
        .await
}
