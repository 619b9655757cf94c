//! The client's one error type.

use prost::Message;
use temporalio_protos::google::rpc::Status as RpcStatus;
use temporalio_protos::temporal::api::errordetails::v1::{
    MultiOperationExecutionFailure, QueryFailedFailure, WorkflowExecutionAlreadyStartedFailure,
};
use workflow_core::failure::{Failure, RetryState};
use workflow_core::payload::{Payload, PayloadError};

use crate::info::WorkflowExecutionStatus;

/// Everything a client call can fail with.
///
/// ```
/// use workflow_client::Error;
/// fn describe_outcome(result: Result<String, Error>) -> String {
///     match result {
///         Ok(value) => value,
///         Err(Error::WorkflowFailed { failure }) => format!("failed: {}", failure.message),
///         Err(Error::NotFound { .. }) => "no such workflow".into(),
///         Err(other) => other.to_string(),
///     }
/// }
/// # assert_eq!(describe_outcome(Ok("done".into())), "done");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A workflow with this id is already running (or the reuse policy forbids a new run).
    #[error("workflow `{workflow_id}` is already started (run `{run_id}`)")]
    AlreadyStarted {
        /// The workflow id.
        workflow_id: String,
        /// The run that holds the id.
        run_id: String,
    },
    /// The workflow, run, activity or namespace does not exist.
    #[error("not found: {message}")]
    NotFound {
        /// What the server said.
        message: String,
    },
    /// The workflow failed; `failure` holds the cause chain.
    #[error("workflow failed: {failure}")]
    WorkflowFailed {
        /// The failure the workflow closed with.
        #[source]
        failure: Box<Failure>,
    },
    /// The workflow was cancelled.
    #[error("workflow was cancelled")]
    Cancelled {
        /// Details the workflow attached to its cancellation.
        details: Vec<Payload>,
    },
    /// The workflow was terminated.
    #[error("workflow was terminated: {reason}")]
    Terminated {
        /// The reason given to terminate.
        reason: String,
        /// The details given to terminate (empty when none were).
        details: Vec<Payload>,
        /// Who terminated it.
        identity: String,
    },
    /// The workflow hit its execution or run timeout.
    #[error("workflow timed out ({retry_state:?})")]
    TimedOut {
        /// Why no retry followed.
        retry_state: RetryState,
    },
    /// The query was rejected because of the workflow's status (see
    /// `QueryRejectCondition`).
    #[error("query rejected: workflow is {status:?}")]
    QueryRejected {
        /// The workflow's status.
        status: WorkflowExecutionStatus,
    },
    /// The workflow's query handler failed or does not exist.
    #[error("query failed: {message}")]
    QueryFailed {
        /// What the worker reported.
        message: String,
        /// The failure, when the worker sent one.
        failure: Option<Box<Failure>>,
    },
    /// The update was rejected (by its validator, or because the workflow has no such
    /// update) or its handler failed; `failure` says why.
    #[error("update failed: {failure}")]
    UpdateFailed {
        /// The rejection or the handler's failure.
        #[source]
        failure: Box<Failure>,
    },
    /// The server refused the request as malformed.
    #[error("invalid argument: {message}")]
    InvalidArgument {
        /// What the server said.
        message: String,
    },
    /// An argument or result could not be converted.
    #[error(transparent)]
    Payload(#[from] PayloadError),
    /// The server cannot be reached (after retries).
    #[error("cannot reach the server at {target}: {message}")]
    Connection {
        /// The address.
        target: String,
        /// What went wrong.
        message: String,
    },
    /// The client options are unusable (bad address, unreadable certificate, …).
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// Any other gRPC error.
    #[error("gRPC error {code:?}: {message}")]
    Rpc {
        /// The gRPC status code.
        code: tonic::Code,
        /// What the server said.
        message: String,
    },
}

impl Error {
    /// Maps a gRPC status to the error it stands for.
    pub(crate) fn from_status(status: tonic::Status, target: &str) -> Self {
        // A multi-operation (update-with-start) failure: the failed operation's own status
        // says what went wrong.
        if let Some(multi) = detail::<MultiOperationExecutionFailure>(&status)
            && let Some(failed) = multi
                .statuses
                .into_iter()
                .find(|s| s.code != tonic::Code::Aborted as i32)
        {
            let code = tonic::Code::from(failed.code);
            let rpc = RpcStatus {
                code: failed.code,
                message: failed.message.clone(),
                details: failed.details,
            };
            let own = tonic::Status::with_details(code, failed.message, rpc.encode_to_vec().into());
            return Self::from_status(own, target);
        }
        let message = status.message().to_owned();
        match status.code() {
            tonic::Code::AlreadyExists => {
                match detail::<WorkflowExecutionAlreadyStartedFailure>(&status) {
                    Some(d) => Self::AlreadyStarted {
                        workflow_id: String::new(),
                        run_id: d.run_id,
                    },
                    // Something else exists already (a namespace, a schedule).
                    None => Self::Rpc {
                        code: tonic::Code::AlreadyExists,
                        message,
                    },
                }
            }
            tonic::Code::NotFound => Self::NotFound { message },
            tonic::Code::InvalidArgument => {
                if let Some(d) = detail::<QueryFailedFailure>(&status) {
                    return Self::QueryFailed {
                        message,
                        failure: d.failure.map(|f| Box::new(Failure::from_proto(f))),
                    };
                }
                Self::InvalidArgument { message }
            }
            tonic::Code::Unavailable => Self::Connection {
                target: target.to_owned(),
                message,
            },
            code => Self::Rpc { code, message },
        }
    }

    /// Fills in the workflow id, which the server's status does not carry.
    pub(crate) fn for_workflow(mut self, id: &str) -> Self {
        if let Self::AlreadyStarted { workflow_id, .. } = &mut self {
            *workflow_id = id.to_owned();
        }
        self
    }
}

/// Decodes a typed detail from a gRPC status's `google.rpc.Status` details.
fn detail<M: Message + prost::Name + Default>(status: &tonic::Status) -> Option<M> {
    let rpc = RpcStatus::decode(status.details()).ok()?;
    let name = M::full_name();
    rpc.details
        .iter()
        .find(|any| any.type_url.rsplit('/').next() == Some(name.as_str()))
        .and_then(|any| M::decode(any.value.as_slice()).ok())
}
