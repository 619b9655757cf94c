//! gRPC errors with the details Temporal attaches, so SDKs map them to typed errors.

use prost::Message;
use temporalio_protos::google::rpc::Status as RpcStatus;
use temporalio_protos::temporal::api::errordetails::v1 as details;
use tonic::{Code, Status};

/// A status whose details carry `detail` as Temporal's servers encode it.
fn with_detail<M: Message + prost::Name>(code: Code, message: String, detail: M) -> Status {
    let rpc = RpcStatus {
        code: code as i32,
        message: message.clone(),
        details: vec![prost_types::Any {
            type_url: format!("type.googleapis.com/{}", M::full_name()),
            value: detail.encode_to_vec(),
        }],
    };
    Status::with_details(code, message, rpc.encode_to_vec().into())
}

/// The namespace does not exist.
pub fn namespace_not_found(namespace: &str) -> Status {
    with_detail(
        Code::NotFound,
        format!("Namespace {namespace} is not found."),
        details::NamespaceNotFoundFailure {
            namespace: namespace.to_string(),
        },
    )
}

/// The namespace exists already.
pub fn namespace_already_exists(namespace: &str) -> Status {
    with_detail(
        Code::AlreadyExists,
        format!("Namespace {namespace} already exists."),
        details::NamespaceAlreadyExistsFailure {},
    )
}

/// A request field is missing or malformed.
pub fn invalid_argument(message: impl Into<String>) -> Status {
    Status::invalid_argument(message)
}

/// The workflow id is taken by a run the policies do not let a new start replace.
pub fn workflow_already_started(workflow_id: &str, run_id: &str, request_id: &str) -> Status {
    with_detail(
        Code::AlreadyExists,
        format!(
            "Workflow execution is already running. WorkflowId: {workflow_id}, RunId: {run_id}."
        ),
        details::WorkflowExecutionAlreadyStartedFailure {
            start_request_id: request_id.to_string(),
            run_id: run_id.to_string(),
            ..Default::default()
        },
    )
}

/// The execution (or task) does not exist.
pub fn not_found(message: impl Into<String>) -> Status {
    with_detail(
        Code::NotFound,
        message.into(),
        details::NotFoundFailure {
            current_cluster: "active".into(),
            active_cluster: "active".into(),
        },
    )
}

/// The worker's query handler failed.
pub fn query_failed(
    message: String,
    failure: Option<temporalio_protos::temporal::api::failure::v1::Failure>,
) -> Status {
    with_detail(
        Code::InvalidArgument,
        message,
        details::QueryFailedFailure { failure },
    )
}
