//! gRPC errors with the details Temporal attaches, so SDKs map them to typed errors.

use prost::Message;
use temporalio_protos::google::rpc::Status as RpcStatus;
use temporalio_protos::temporal::api::errordetails::v1 as details;
use tonic::{Code, Status};

use crate::engine::EngineError;

/// `detail` packed as a protobuf `Any`.
fn any<M: Message + prost::Name>(detail: &M) -> prost_types::Any {
    prost_types::Any {
        type_url: format!("type.googleapis.com/{}", M::full_name()),
        value: detail.encode_to_vec(),
    }
}

/// A status whose details carry `detail` as Temporal's servers encode it.
fn with_detail<M: Message + prost::Name>(code: Code, message: String, detail: M) -> Status {
    let rpc = RpcStatus {
        code: code as i32,
        message: message.clone(),
        details: vec![any(&detail)],
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

/// A multi-operation request (update-with-start) failed at operation `index` with
/// `error`: as Temporal answers it, the failed operation keeps its own status and details,
/// the others are aborted, and the SDK unpacks them.
pub fn multi_operation_failed(index: usize, count: usize, error: Status) -> Status {
    let own = RpcStatus::decode(error.details()).unwrap_or_default();
    let statuses = (0..count)
        .map(|i| {
            if i == index {
                details::multi_operation_execution_failure::OperationStatus {
                    code: error.code() as i32,
                    message: error.message().to_string(),
                    details: own.details.clone(),
                }
            } else {
                details::multi_operation_execution_failure::OperationStatus {
                    code: Code::Aborted as i32,
                    message: "Operation was aborted.".into(),
                    details: vec![any(
                        &temporalio_protos::temporal::api::failure::v1::MultiOperationExecutionAborted {},
                    )],
                }
            }
        })
        .collect();
    // The code is the failed operation's, as Temporal's server answers.
    with_detail(
        error.code(),
        "Update-with-Start could not be executed.".into(),
        details::MultiOperationExecutionFailure { statuses },
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

/// The one place the engine's errors become gRPC statuses: the code, the message word for
/// word, and the details Temporal's servers attach.
impl From<EngineError> for Status {
    fn from(error: EngineError) -> Self {
        match error {
            EngineError::InvalidArgument(_) | EngineError::Token(_) => {
                invalid_argument(error.to_string())
            }
            EngineError::NotFound(message) => not_found(message),
            EngineError::AlreadyStarted {
                workflow_id,
                run_id,
                request_id,
            } => workflow_already_started(&workflow_id, &run_id, &request_id),
            EngineError::Store(_) | EngineError::QueryDropped | EngineError::Unavailable(_) => {
                Status::unavailable(error.to_string())
            }
            EngineError::ResourceExhausted(message) => Status::resource_exhausted(message),
            EngineError::PermissionDenied(message) => Status::permission_denied(message),
            EngineError::QueryTimedOut => Status::deadline_exceeded(error.to_string()),
            // A record that does not decode will not decode on a retry either.
            EngineError::Read(crate::store::StoreError::Corrupt { .. }) => {
                Status::data_loss(error.to_string())
            }
            EngineError::Read(_) => Status::unavailable(error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreFailure;

    fn detail<M: Message + prost::Name + Default>(status: &Status) -> M {
        let rpc = RpcStatus::decode(status.details()).expect("details decode");
        let any = rpc.details.first().expect("one detail");
        assert_eq!(
            any.type_url,
            format!("type.googleapis.com/{}", M::full_name())
        );
        M::decode(any.value.as_slice()).expect("detail decodes")
    }

    #[test]
    fn already_started_keeps_temporals_code_message_and_details() {
        let status = Status::from(EngineError::AlreadyStarted {
            workflow_id: "order-1".into(),
            run_id: "run-1".into(),
            request_id: "request-1".into(),
        });
        assert_eq!(status.code(), Code::AlreadyExists);
        assert_eq!(
            status.message(),
            "Workflow execution is already running. WorkflowId: order-1, RunId: run-1."
        );
        let failure: details::WorkflowExecutionAlreadyStartedFailure = detail(&status);
        assert_eq!(failure.run_id, "run-1");
        assert_eq!(failure.start_request_id, "request-1");
    }

    #[test]
    fn each_kind_keeps_its_code_and_message() {
        let not_found = Status::from(EngineError::not_found("workflow execution not found"));
        assert_eq!(not_found.code(), Code::NotFound);
        assert_eq!(not_found.message(), "workflow execution not found");
        let _: details::NotFoundFailure = detail(&not_found);
        let cases = [
            (
                EngineError::invalid("activity_id is required"),
                Code::InvalidArgument,
                "activity_id is required",
            ),
            (
                EngineError::Store(StoreFailure("disk full".into())),
                Code::Unavailable,
                "the change was not stored: disk full",
            ),
            (
                EngineError::QueryDropped,
                Code::Unavailable,
                "the query was dropped",
            ),
            (
                EngineError::QueryTimedOut,
                Code::DeadlineExceeded,
                "no worker answered the query in time (is a worker polling the workflow's task queue?)",
            ),
        ];
        for (error, code, message) in cases {
            let status = Status::from(error);
            assert_eq!(status.code(), code, "{message}");
            assert_eq!(status.message(), message);
        }
    }

    #[test]
    fn a_failed_update_with_start_keeps_the_failed_operations_status_and_aborts_the_other() {
        let started = workflow_already_started("cart", "run-1", "req-1");
        let status = multi_operation_failed(0, 2, started);
        assert_eq!(status.code(), Code::AlreadyExists);
        let failure: details::MultiOperationExecutionFailure = detail(&status);
        let [start, update] = &failure.statuses[..] else {
            panic!("two statuses: {failure:?}")
        };
        assert_eq!(start.code, Code::AlreadyExists as i32);
        let own = details::WorkflowExecutionAlreadyStartedFailure::decode(
            start.details[0].value.as_slice(),
        )
        .unwrap();
        assert_eq!(own.run_id, "run-1");
        assert_eq!(update.code, Code::Aborted as i32);
        assert!(
            update.details[0]
                .type_url
                .ends_with("MultiOperationExecutionAborted")
        );
    }
}
