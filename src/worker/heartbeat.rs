//! The visibility heartbeat: keeps a message hidden while it is being worked on.
//! `stop()` waits for any extension in flight, so nothing extends a message after it was
//! deleted or released.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::queue::{Queue, Receipt};
use crate::telemetry::events::VisibilityExtensionFailed;

pub struct Heartbeat {
    cancel: CancellationToken,
    handle: JoinHandle<()>,
}

impl Heartbeat {
    /// Every `visibility / 2`, reset the message's visibility to `visibility`.
    pub fn start(queue: Arc<dyn Queue>, receipt: Receipt, visibility: Duration) -> Heartbeat {
        let cancel = CancellationToken::new();
        let token = cancel.clone();
        let period = (visibility / 2).max(Duration::from_millis(500));
        let handle = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = token.cancelled() => return,
                    _ = tokio::time::sleep(period) => {}
                }
                // Not cancellable once started: stop() waits for it to finish.
                match queue.change_visibility(&receipt, visibility).await {
                    Ok(()) => tracing::debug!("visibility extended"),
                    Err(e) => {
                        VisibilityExtensionFailed { error: &e }.emit();
                        if !e.is_transient() {
                            return;
                        }
                    }
                }
            }
        });
        Heartbeat { cancel, handle }
    }

    /// Stop extending and wait until no extension is in flight.
    pub async fn stop(self) {
        self.cancel.cancel();
        let _ = self.handle.await;
    }
}
