//! What workflow and activity pollers share: the long-poll deadline and what a failed poll
//! means.

use std::time::Duration;

use workflow_client::Error;

use crate::WorkerError;

/// The server holds a poll for about a minute; this leaves it room.
pub(crate) const POLL_TIMEOUT: Duration = Duration::from_secs(70);
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Decides, after each poll, whether to poll again now, after a pause, or stop.
pub(crate) struct PollErrors {
    backoff: Duration,
    what: &'static str,
}

impl PollErrors {
    pub(crate) fn new(what: &'static str) -> Self {
        Self {
            backoff: FIRST_BACKOFF,
            what,
        }
    }

    /// A poll returned a task.
    pub(crate) fn succeeded(&mut self) {
        self.backoff = FIRST_BACKOFF;
    }

    /// A poll failed: an expired long poll is normal, errors retrying cannot fix stop the
    /// poller, anything else waits a growing pause.
    pub(crate) async fn failed(
        &mut self,
        error: Error,
        task_queue: &str,
    ) -> Result<(), WorkerError> {
        match error {
            Error::Rpc {
                code: tonic::Code::DeadlineExceeded,
                ..
            } => Ok(()),
            error if is_fatal(&error) => Err(WorkerError::Poll {
                task_queue: task_queue.to_owned(),
                source: error,
            }),
            error => {
                tracing::warn!(%error, backoff = ?self.backoff, "{} poll failed; polling again", self.what);
                tokio::time::sleep(self.backoff).await;
                self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                Ok(())
            }
        }
    }
}

fn is_fatal(error: &Error) -> bool {
    match error {
        Error::NotFound { .. } | Error::InvalidArgument { .. } | Error::Config(_) => true,
        Error::Rpc { code, .. } => matches!(
            code,
            tonic::Code::PermissionDenied
                | tonic::Code::Unauthenticated
                | tonic::Code::Unimplemented
        ),
        _ => false,
    }
}
