//! Why a worker stopped.

/// Why [`Worker::run`](crate::Worker::run) could not run or stopped early.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkerError {
    /// Two registered activities share a type name.
    #[error("activity type `{name}` is registered twice")]
    DuplicateActivity {
        /// The shared name.
        name: String,
    },
    /// Two registered workflows share a type name.
    #[error("workflow type `{name}` is registered twice")]
    DuplicateWorkflow {
        /// The shared name.
        name: String,
    },
    /// Two listed items (`#[workflow]` or `#[activity]`) share a type name.
    #[error("{kind} type `{name}` is defined twice: at {first} and at {second}")]
    DuplicateDefinition {
        /// `workflow` or `activity`.
        kind: &'static str,
        /// The shared name.
        name: String,
        /// Where the first is defined (`file:line`).
        first: String,
        /// Where the second is defined.
        second: String,
    },
    /// Nothing was registered, so the worker would poll for nothing.
    #[error("no workflow or activity is registered on task queue `{task_queue}`")]
    NothingRegistered {
        /// The worker's task queue.
        task_queue: String,
    },
    /// Polling failed with an error retrying cannot fix (unknown namespace, permission).
    #[error("polling task queue `{task_queue}` failed: {source}")]
    Poll {
        /// The worker's task queue.
        task_queue: String,
        /// The client error.
        #[source]
        source: workflow_client::Error,
    },
}
