//! Why the engine refused or failed a request.
//!
//! The engine speaks no transport: these kinds are what it decides, and the frontend turns
//! each into the gRPC status (code, message and Temporal's error details) SDKs expect, in
//! one place (`crate::status`). A kind's text is the status message, word for word.

use super::tokens::TokenError;
use crate::store::{StoreError, StoreFailure};

/// What went wrong with a request to the engine.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EngineError {
    /// A request field is missing or malformed, or a worker's commands are refused.
    #[error("{0}")]
    InvalidArgument(String),
    /// A task token that does not open: forged, altered, or of another namespace or kind.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The execution, task, activity or query does not exist (any more).
    #[error("{0}")]
    NotFound(String),
    /// The workflow id is taken by a run the id policies do not let a new start replace.
    #[error("Workflow execution is already running. WorkflowId: {workflow_id}, RunId: {run_id}.")]
    AlreadyStarted {
        /// The workflow id asked for.
        workflow_id: String,
        /// The run that holds it.
        run_id: String,
        /// The request id that run was started with.
        request_id: String,
    },
    /// The change was not made durable: the store failed or is closed.
    #[error(transparent)]
    Store(#[from] StoreFailure),
    /// A run out of memory could not be read back from the store.
    #[error("a run could not be read from the store: {0}")]
    Read(#[from] StoreError),
    /// A limit on what may be in flight at once is reached; retry later.
    #[error("{0}")]
    ResourceExhausted(String),
    /// The request asks for something this server does not allow.
    #[error("{0}")]
    PermissionDenied(String),
    /// The request cannot be answered now and should be retried.
    #[error("{0}")]
    Unavailable(String),
    /// A query was dropped before any worker answered it.
    #[error("the query was dropped")]
    QueryDropped,
    /// No worker answered a query within the caller's budget.
    #[error(
        "no worker answered the query in time (is a worker polling the workflow's task queue?)"
    )]
    QueryTimedOut,
}

impl EngineError {
    /// A missing or malformed field, described by `message`.
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidArgument(message.into())
    }

    /// A request that may change only a running run named a closed one.
    pub(crate) fn already_closed() -> Self {
        Self::not_found("workflow execution already completed")
    }

    /// Something the request names does not exist, described by `message`.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(message.into())
    }
}
