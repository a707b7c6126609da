//! Which queue is the dead-letter queue: `JANITOR_DLQ_URL`, else the one the main queue's
//! RedrivePolicy names (CONTRACT §4). Shared by `run` and the `dlq` tools.

use super::sqs::SqsQueue;
use super::{Queue, QueueId};
use crate::aws_error::AwsError;

/// The setting every [`ResolveError`] but `Unreachable` is about.
pub const SETTING: &str = "JANITOR_DLQ_URL";

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The main queue could not be read (a runtime failure, not a configuration one).
    #[error("cannot reach the main queue {url}: {source}")]
    Unreachable { url: String, source: Box<AwsError> },
    #[error("not set, and the main queue has no RedrivePolicy naming a dead-letter queue")]
    NoneFound,
    #[error("the dead-letter queue {0} is the main queue itself")]
    IsMain(String),
}

/// Resolve the DLQ. Either way the main queue is reached once (the readiness check).
pub async fn resolve_dlq(
    main: &SqsQueue,
    configured: Option<&str>,
) -> Result<String, ResolveError> {
    let discovered = redrive_target(main).await?;
    pick_dlq(main.url(), configured, discovered)
}

/// The DLQ named by the main queue's RedrivePolicy, if any (one GetQueueAttributes).
pub async fn redrive_target(main: &SqsQueue) -> Result<Option<String>, ResolveError> {
    main.dead_letter_target()
        .await
        .map_err(|source| ResolveError::Unreachable {
            url: main.url().to_owned(),
            source: Box::new(source),
        })
}

/// The setting wins over the RedrivePolicy; neither, or the main queue itself, is refused.
pub fn pick_dlq(
    main: &str,
    configured: Option<&str>,
    discovered: Option<String>,
) -> Result<String, ResolveError> {
    let url = match (configured, discovered) {
        (Some(url), _) => url.to_owned(),
        (None, Some(url)) => url,
        (None, None) => return Err(ResolveError::NoneFound),
    };
    if QueueId::same_url(&url, main) {
        return Err(ResolveError::IsMain(url));
    }
    Ok(url)
}

#[cfg(test)]
#[path = "resolve_tests.rs"]
mod tests;
