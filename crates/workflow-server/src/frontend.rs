//! The gRPC front door: validates requests and answers them.

use std::sync::Arc;
use std::time::Duration;

use temporalio_protos::temporal::api::common::v1::Payload;
use temporalio_protos::temporal::api::enums::v1::{
    HistoryEventFilterType, TaskQueueType, UpdateWorkflowExecutionLifecycleStage as Stage,
};
use temporalio_protos::temporal::api::history::v1::History;
use temporalio_protos::temporal::api::query::v1::QueryRejected;
use temporalio_protos::temporal::api::taskqueue::v1::TaskQueue;
use temporalio_protos::temporal::api::workflowservice::v1::count_workflow_executions_response::AggregationGroup;
use temporalio_protos::temporal::api::workflowservice::v1::{self as ws, get_system_info_response};
use tokio::sync::Semaphore;
use tonic::{Request, Response, Status};

use crate::describe;
use crate::engine::{ActivityAnswer, Engine, HistoryRequest, QueryReply};
use crate::generated::workflow_service_server::WorkflowService;
use crate::limits::{check_payloads, check_request_lengths, check_user_metadata};
use crate::namespaces::{Namespaces, RegisterError};
use crate::status;
use crate::visibility;

/// The version this server reports: the Temporal server release whose API it speaks.
pub const SERVER_VERSION: &str = "1.32.0";
const MAX_NAMESPACE_PAGE: usize = 1000;

/// The state every request handler shares.
#[derive(Debug)]
pub struct Frontend {
    pub(crate) namespaces: Arc<Namespaces>,
    pub(crate) engine: Arc<Engine>,
    /// Bounds the long polls open at once.
    pub(crate) polls: Arc<Semaphore>,
}

/// Longest a history long poll is held, so it answers before clients give up.
const MAX_HISTORY_POLL: Duration = Duration::from_secs(20);
/// Events per history page when the request sets no size.
const DEFAULT_HISTORY_PAGE: usize = 256;
/// Executions per list page when the request sets no size, and at most.
const DEFAULT_LIST_PAGE: usize = 100;
const MAX_LIST_PAGE: usize = 1000;

impl Frontend {
    /// A slot for one long poll, or RESOURCE_EXHAUSTED when all are taken.
    fn poll_slot(&self) -> Result<tokio::sync::OwnedSemaphorePermit, Status> {
        Arc::clone(&self.polls).try_acquire_owned().map_err(|_| {
            Status::resource_exhausted(
                "the server holds as many long polls as it allows; retry later",
            )
        })
    }

    /// Parses a list filter; search attributes the namespace's workflows set count as fields.
    fn parse_query(&self, namespace: &str, query: &str) -> Result<visibility::Query, Status> {
        let names = self.engine.search_attribute_names(namespace);
        visibility::parse_with(query, &|name| names.contains(name))
            .map_err(|e| status::invalid_argument(e.to_string()))
    }

    fn check_namespace(&self, namespace: &str) -> Result<(), Status> {
        if namespace.is_empty() {
            return Err(status::invalid_argument("namespace is required"));
        }
        check_request_lengths(&[(namespace, "namespace")])?;
        match self.namespaces.get(namespace) {
            Some(_) => Ok(()),
            None => Err(status::namespace_not_found(namespace)),
        }
    }
}

/// A group's value as Temporal's visibility writes it: a JSON string typed `Keyword`.
fn keyword_payload(value: &str) -> Payload {
    Payload {
        metadata: [
            ("encoding".to_owned(), b"json/plain".to_vec()),
            ("type".to_owned(), b"Keyword".to_vec()),
        ]
        .into(),
        data: serde_json::to_vec(value).expect("a string encodes"),
        ..Default::default()
    }
}

/// Longest a task poll is held (Temporal holds them about a minute).
const MAX_TASK_POLL: Duration = Duration::from_secs(60);

fn task_queue_name(queue: &Option<TaskQueue>, what: &str) -> Result<String, Status> {
    let name = queue
        .as_ref()
        .map(|q| q.name.clone())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| status::invalid_argument(format!("{what}.task_queue is required")))?;
    check_request_lengths(&[(&name, &format!("{what}.task_queue"))])?;
    Ok(name)
}

/// How long to hold a task poll: just under the client's deadline, at most a minute.
fn task_poll_budget<T>(request: &Request<T>) -> Duration {
    request
        .metadata()
        .get("grpc-timeout")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_grpc_timeout)
        .map(|d| d.saturating_sub(Duration::from_millis(500)))
        .unwrap_or(MAX_TASK_POLL)
        .min(MAX_TASK_POLL)
}

/// How long to hold a long poll: just under the client's deadline, at most the maximum.
fn poll_budget<T>(request: &Request<T>) -> Duration {
    client_deadline(request)
        .map(|d| d.saturating_sub(Duration::from_millis(500)))
        .unwrap_or(MAX_HISTORY_POLL)
        .min(MAX_HISTORY_POLL)
}

/// How long an update call waits, as Temporal's server decides: a caller's deadline
/// shorter than the long-poll cap is waited out and answered as exceeded; otherwise the
/// call answers at the cap with the stage reached, and the caller asks again.
struct UpdateWait {
    budget: Duration,
    callers_deadline: bool,
}

impl UpdateWait {
    fn of<T>(request: &Request<T>) -> Self {
        match client_deadline(request) {
            Some(deadline) if deadline < MAX_HISTORY_POLL => Self {
                budget: deadline,
                callers_deadline: true,
            },
            _ => Self {
                budget: MAX_HISTORY_POLL,
                callers_deadline: false,
            },
        }
    }

    /// The caller's deadline passed before the stage it waits for.
    fn check(&self, reached: i32, wanted: Stage) -> Result<(), Status> {
        if self.callers_deadline && reached < wanted as i32 {
            return Err(Status::deadline_exceeded("context deadline exceeded"));
        }
        Ok(())
    }
}

/// The stage a wait policy asks for, `default` without one.
fn wanted_stage(
    policy: Option<&temporalio_protos::temporal::api::update::v1::WaitPolicy>,
    default: Stage,
) -> Stage {
    match policy.map(|p| p.lifecycle_stage()) {
        None | Some(Stage::Unspecified) => default,
        Some(stage) => stage,
    }
}

/// The caller's deadline, from its `grpc-timeout` header.
fn client_deadline<T>(request: &Request<T>) -> Option<Duration> {
    request
        .metadata()
        .get("grpc-timeout")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_grpc_timeout)
}

/// Parses the `grpc-timeout` header (`<digits><unit>`).
fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    let n: u64 = digits.parse().ok()?;
    // Saturating: the header is the client's, and any number must not overflow.
    Some(match unit {
        "H" => Duration::from_secs(n.saturating_mul(3600)),
        "M" => Duration::from_secs(n.saturating_mul(60)),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

#[tonic::async_trait]
impl WorkflowService for Frontend {
    async fn get_system_info(
        &self,
        _request: Request<ws::GetSystemInfoRequest>,
    ) -> Result<Response<ws::GetSystemInfoResponse>, Status> {
        Ok(Response::new(ws::GetSystemInfoResponse {
            server_version: SERVER_VERSION.to_string(),
            capabilities: Some(get_system_info_response::Capabilities {
                signal_and_query_header: true,
                internal_error_differentiation: true,
                activity_failure_include_heartbeat: true,
                encoded_failure_attributes: true,
                upsert_memo: true,
                sdk_metadata: true,
                ..Default::default()
            }),
        }))
    }

    async fn describe_namespace(
        &self,
        request: Request<ws::DescribeNamespaceRequest>,
    ) -> Result<Response<ws::DescribeNamespaceResponse>, Status> {
        let request = request.into_inner();
        let found = if !request.namespace.is_empty() {
            self.namespaces.get(&request.namespace)
        } else if !request.id.is_empty() {
            self.namespaces.get_by_id(&request.id)
        } else {
            return Err(status::invalid_argument(
                "DescribeNamespaceRequest needs `namespace` or `id`",
            ));
        };
        let wanted = if request.namespace.is_empty() {
            &request.id
        } else {
            &request.namespace
        };
        found
            .map(|n| Response::new(n.describe()))
            .ok_or_else(|| status::namespace_not_found(wanted))
    }

    async fn list_namespaces(
        &self,
        request: Request<ws::ListNamespacesRequest>,
    ) -> Result<Response<ws::ListNamespacesResponse>, Status> {
        let request = request.into_inner();
        let limit = match usize::try_from(request.page_size) {
            Ok(0) | Err(_) => MAX_NAMESPACE_PAGE,
            Ok(n) => n.min(MAX_NAMESPACE_PAGE),
        };
        let after = if request.next_page_token.is_empty() {
            None
        } else {
            Some(String::from_utf8(request.next_page_token).map_err(|_| {
                status::invalid_argument("ListNamespacesRequest.next_page_token is malformed")
            })?)
        };
        let page = self.namespaces.page(after.as_deref(), limit + 1);
        let more = page.len() > limit;
        let page: Vec<_> = page.into_iter().take(limit).collect();
        let next_page_token = if more {
            page.last()
                .map(|n| n.name.clone().into_bytes())
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        Ok(Response::new(ws::ListNamespacesResponse {
            namespaces: page.iter().map(|n| n.describe()).collect(),
            next_page_token,
        }))
    }

    async fn register_namespace(
        &self,
        request: Request<ws::RegisterNamespaceRequest>,
    ) -> Result<Response<ws::RegisterNamespaceResponse>, Status> {
        let request = request.into_inner();
        if request.namespace.is_empty() {
            return Err(status::invalid_argument(
                "RegisterNamespaceRequest.namespace is required",
            ));
        }
        check_request_lengths(&[(&request.namespace, "RegisterNamespaceRequest.namespace")])?;
        let mut namespace = Namespaces::template(&request.namespace);
        namespace.description = request.description;
        namespace.owner_email = request.owner_email;
        if let Some(ttl) = request.workflow_execution_retention_period {
            namespace.retention = Duration::try_from(ttl).map_err(|_| {
                status::invalid_argument(
                    "RegisterNamespaceRequest.workflow_execution_retention_period is negative",
                )
            })?;
        }
        let record = namespace.record();
        match self.namespaces.register(namespace) {
            Ok(()) => {
                self.engine.store_namespace(record).await?;
                Ok(Response::new(ws::RegisterNamespaceResponse {}))
            }
            Err(RegisterError::AlreadyExists) => {
                Err(status::namespace_already_exists(&request.namespace))
            }
        }
    }

    async fn start_workflow_execution(
        &self,
        request: Request<ws::StartWorkflowExecutionRequest>,
    ) -> Result<Response<ws::StartWorkflowExecutionResponse>, Status> {
        let request = request.into_inner();
        self.check_namespace(&request.namespace)?;
        check_start(&request)?;
        let started = self.engine.start(request).await?;
        Ok(Response::new(ws::StartWorkflowExecutionResponse {
            run_id: started.run_id,
            started: started.started,
            ..Default::default()
        }))
    }

    async fn signal_with_start_workflow_execution(
        &self,
        request: Request<ws::SignalWithStartWorkflowExecutionRequest>,
    ) -> Result<Response<ws::SignalWithStartWorkflowExecutionResponse>, Status> {
        let request = request.into_inner();
        self.check_namespace(&request.namespace)?;
        check_payloads(
            &request.input,
            "SignalWithStartWorkflowExecutionRequest.input",
        )?;
        check_payloads(
            &request.signal_input,
            "SignalWithStartWorkflowExecutionRequest.signal_input",
        )?;
        check_user_metadata(
            &request.user_metadata,
            "SignalWithStartWorkflowExecutionRequest.user_metadata",
        )?;
        check_request_lengths(&[
            (
                &request.signal_name,
                "SignalWithStartWorkflowExecutionRequest.signal_name",
            ),
            (
                &request.request_id,
                "SignalWithStartWorkflowExecutionRequest.request_id",
            ),
            (
                &request.identity,
                "SignalWithStartWorkflowExecutionRequest.identity",
            ),
        ])?;
        let started = self.engine.signal_with_start(request).await?;
        Ok(Response::new(
            ws::SignalWithStartWorkflowExecutionResponse {
                run_id: started.run_id,
                started: started.started,
                ..Default::default()
            },
        ))
    }

    async fn describe_workflow_execution(
        &self,
        request: Request<ws::DescribeWorkflowExecutionRequest>,
    ) -> Result<Response<ws::DescribeWorkflowExecutionResponse>, Status> {
        let request = request.into_inner();
        self.check_namespace(&request.namespace)?;
        let execution = request.execution.unwrap_or_default();
        let described = self
            .engine
            .with_run(&request.namespace, &execution, describe::describe)?;
        Ok(Response::new(described))
    }

    async fn list_workflow_executions(
        &self,
        request: Request<ws::ListWorkflowExecutionsRequest>,
    ) -> Result<Response<ws::ListWorkflowExecutionsResponse>, Status> {
        let request = request.into_inner();
        self.check_namespace(&request.namespace)?;
        let query = self.parse_query(&request.namespace, &request.query)?;
        let offset: usize = if request.next_page_token.is_empty() {
            0
        } else {
            std::str::from_utf8(&request.next_page_token)
                .ok()
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| {
                    status::invalid_argument(
                        "ListWorkflowExecutionsRequest.next_page_token is malformed",
                    )
                })?
        };
        let page_size = match usize::try_from(request.page_size) {
            Ok(0) | Err(_) => DEFAULT_LIST_PAGE,
            Ok(n) => n.min(MAX_LIST_PAGE),
        };
        let (executions, more) = self
            .engine
            .list(&request.namespace, &query, offset, page_size)?;
        let next = offset + executions.len();
        Ok(Response::new(ws::ListWorkflowExecutionsResponse {
            executions,
            next_page_token: if more {
                next.to_string().into_bytes()
            } else {
                Vec::new()
            },
        }))
    }

    async fn count_workflow_executions(
        &self,
        request: Request<ws::CountWorkflowExecutionsRequest>,
    ) -> Result<Response<ws::CountWorkflowExecutionsResponse>, Status> {
        let request = request.into_inner();
        self.check_namespace(&request.namespace)?;
        let query = self.parse_query(&request.namespace, &request.query)?;
        if !query.order.is_empty() {
            // As Temporal's visibility: a count has no order.
            return Err(status::invalid_argument(
                "invalid query: ORDER BY is not supported in a count",
            ));
        }
        if query.group_by.is_none() {
            let count = self.engine.count(&request.namespace, &query.filter)?;
            return Ok(Response::new(ws::CountWorkflowExecutionsResponse {
                count: count as i64,
                groups: Vec::new(),
            }));
        }
        let groups = self
            .engine
            .count_by_status(&request.namespace, &query.filter)?;
        Ok(Response::new(ws::CountWorkflowExecutionsResponse {
            count: groups.iter().map(|(_, count)| *count as i64).sum(),
            groups: groups
                .into_iter()
                .map(|(status, count)| AggregationGroup {
                    group_values: vec![keyword_payload(status)],
                    count: count as i64,
                })
                .collect(),
        }))
    }

    async fn get_workflow_execution_history(
        &self,
        request: Request<ws::GetWorkflowExecutionHistoryRequest>,
    ) -> Result<Response<ws::GetWorkflowExecutionHistoryResponse>, Status> {
        let budget = poll_budget(&request);
        let request = request.into_inner();
        self.check_namespace(&request.namespace)?;
        let _slot = if request.wait_new_event {
            Some(self.poll_slot()?)
        } else {
            None
        };
        let execution = request.execution.clone().unwrap_or_default();
        let close_only = request.history_event_filter_type() == HistoryEventFilterType::CloseEvent;
        // The token is the id of the first event still to send.
        let from: i64 = if request.next_page_token.is_empty() {
            1
        } else {
            std::str::from_utf8(&request.next_page_token)
                .ok()
                .and_then(|t| t.parse().ok())
                .filter(|id| *id >= 1)
                .ok_or_else(|| {
                    status::invalid_argument(
                        "GetWorkflowExecutionHistoryRequest.next_page_token is malformed",
                    )
                })?
        };
        let page_size = match usize::try_from(request.maximum_page_size) {
            Ok(0) | Err(_) => DEFAULT_HISTORY_PAGE,
            Ok(n) => n,
        };
        let page = self
            .engine
            .history(
                &request.namespace,
                &execution,
                HistoryRequest {
                    from,
                    page_size,
                    close_only,
                    wait_new_event: request.wait_new_event,
                },
                budget,
            )
            .await?;
        Ok(Response::new(ws::GetWorkflowExecutionHistoryResponse {
            history: Some(History {
                events: page.events,
            }),
            // The token is the id of the next page's first event.
            next_page_token: page
                .next
                .map(|next| next.to_string().into_bytes())
                .unwrap_or_default(),
            ..Default::default()
        }))
    }

    async fn terminate_workflow_execution(
        &self,
        request: Request<ws::TerminateWorkflowExecutionRequest>,
    ) -> Result<Response<ws::TerminateWorkflowExecutionResponse>, Status> {
        let request = request.into_inner();
        self.check_namespace(&request.namespace)?;
        check_payloads(
            &request.details,
            "TerminateWorkflowExecutionRequest.details",
        )?;
        let execution = request.workflow_execution.unwrap_or_default();
        self.engine
            .terminate(
                &request.namespace,
                &execution,
                &request.reason,
                request.details,
                &request.identity,
            )
            .await?;
        Ok(Response::new(ws::TerminateWorkflowExecutionResponse {}))
    }

    async fn request_cancel_workflow_execution(
        &self,
        request: Request<ws::RequestCancelWorkflowExecutionRequest>,
    ) -> Result<Response<ws::RequestCancelWorkflowExecutionResponse>, Status> {
        let request = request.into_inner();
        self.check_namespace(&request.namespace)?;
        let execution = request.workflow_execution.unwrap_or_default();
        self.engine
            .request_cancel(
                &request.namespace,
                &execution,
                &request.reason,
                &request.identity,
            )
            .await?;
        Ok(Response::new(ws::RequestCancelWorkflowExecutionResponse {}))
    }

    async fn signal_workflow_execution(
        &self,
        request: Request<ws::SignalWorkflowExecutionRequest>,
    ) -> Result<Response<ws::SignalWorkflowExecutionResponse>, Status> {
        let request = request.into_inner();
        self.check_namespace(&request.namespace)?;
        check_payloads(&request.input, "SignalWorkflowExecutionRequest.input")?;
        check_request_lengths(&[
            (
                &request.signal_name,
                "SignalWorkflowExecutionRequest.signal_name",
            ),
            (
                &request.request_id,
                "SignalWorkflowExecutionRequest.request_id",
            ),
            (&request.identity, "SignalWorkflowExecutionRequest.identity"),
        ])?;
        self.engine.signal(&request).await?;
        Ok(Response::new(ws::SignalWorkflowExecutionResponse::default()))
    }

    async fn update_workflow_execution(
        &self,
        request: Request<ws::UpdateWorkflowExecutionRequest>,
    ) -> Result<Response<ws::UpdateWorkflowExecutionResponse>, Status> {
        let wait = UpdateWait::of(&request);
        let request = request.into_inner();
        self.check_namespace(&request.namespace)?;
        check_update(&request)?;
        let wanted = wanted_stage(request.wait_policy.as_ref(), Stage::Completed);
        let response = self.engine.update_workflow(request, wait.budget).await?;
        wait.check(response.stage, wanted)?;
        Ok(Response::new(response))
    }

    async fn execute_multi_operation(
        &self,
        request: Request<ws::ExecuteMultiOperationRequest>,
    ) -> Result<Response<ws::ExecuteMultiOperationResponse>, Status> {
        use ws::execute_multi_operation_request::operation::Operation;
        use ws::execute_multi_operation_response::{Response as OperationResponse, response};
        let budget = poll_budget(&request);
        let request = request.into_inner();
        self.check_namespace(&request.namespace)?;
        let shape = || status::invalid_argument("Operations have to be exactly [Start, Update].");
        let [first, second] = <[_; 2]>::try_from(request.operations).map_err(|_| shape())?;
        let (
            Some(Operation::StartWorkflow(mut start)),
            Some(Operation::UpdateWorkflow(mut update)),
        ) = (first.operation, second.operation)
        else {
            return Err(shape());
        };
        let failed = |index: usize, error: Status| status::multi_operation_failed(index, 2, error);
        check_start_of_update(&request.namespace, &mut start).map_err(|e| failed(0, e))?;
        check_update_of_start(&request.namespace, &start, &mut update).map_err(|e| failed(1, e))?;
        let (started, updated) = self
            .engine
            .update_with_start(start, update, budget)
            .await
            .map_err(|e| failed(e.index, e.error.into()))?;
        Ok(Response::new(ws::ExecuteMultiOperationResponse {
            responses: vec![
                OperationResponse {
                    response: Some(response::Response::StartWorkflow(
                        ws::StartWorkflowExecutionResponse {
                            run_id: started.run_id,
                            started: started.started,
                            ..Default::default()
                        },
                    )),
                },
                OperationResponse {
                    response: Some(response::Response::UpdateWorkflow(updated)),
                },
            ],
        }))
    }

    async fn poll_workflow_execution_update(
        &self,
        request: Request<ws::PollWorkflowExecutionUpdateRequest>,
    ) -> Result<Response<ws::PollWorkflowExecutionUpdateResponse>, Status> {
        let wait = UpdateWait::of(&request);
        let request = request.into_inner();
        self.check_namespace(&request.namespace)?;
        // Without a wait policy the poll does not wait.
        let wanted = wanted_stage(request.wait_policy.as_ref(), Stage::Unspecified);
        let response = self.engine.poll_update(request, wait.budget).await?;
        wait.check(response.stage, wanted)?;
        Ok(Response::new(response))
    }

    async fn query_workflow(
        &self,
        request: Request<ws::QueryWorkflowRequest>,
    ) -> Result<Response<ws::QueryWorkflowResponse>, Status> {
        let budget = poll_budget(&request);
        let request = request.into_inner();
        self.check_namespace(&request.namespace)?;
        let query = request
            .query
            .clone()
            .ok_or_else(|| status::invalid_argument("QueryWorkflowRequest.query is required"))?;
        check_payloads(&query.query_args, "QueryWorkflowRequest.query.query_args")?;
        let execution = request.execution.clone().unwrap_or_default();
        let reply = self
            .engine
            .query(
                &request.namespace,
                &execution,
                query,
                request.query_reject_condition(),
                budget,
            )
            .await?;
        match reply {
            QueryReply::Answered(result) => Ok(Response::new(ws::QueryWorkflowResponse {
                query_result: result,
                ..Default::default()
            })),
            QueryReply::Rejected(status) => Ok(Response::new(ws::QueryWorkflowResponse {
                query_result: None,
                query_rejected: Some(QueryRejected {
                    status: status as i32,
                }),
                ..Default::default()
            })),
            QueryReply::Failed { message, failure } => {
                Err(status::query_failed(message, failure.map(|f| *f)))
            }
        }
    }

    async fn respond_query_task_completed(
        &self,
        request: Request<ws::RespondQueryTaskCompletedRequest>,
    ) -> Result<Response<ws::RespondQueryTaskCompletedResponse>, Status> {
        self.engine.respond_query(request.into_inner())?;
        Ok(Response::new(ws::RespondQueryTaskCompletedResponse {}))
    }

    async fn poll_workflow_task_queue(
        &self,
        request: Request<ws::PollWorkflowTaskQueueRequest>,
    ) -> Result<Response<ws::PollWorkflowTaskQueueResponse>, Status> {
        let budget = task_poll_budget(&request);
        let request = request.into_inner();
        self.check_namespace(&request.namespace)?;
        let _slot = self.poll_slot()?;
        let queue = task_queue_name(&request.task_queue, "PollWorkflowTaskQueueRequest")?;
        check_request_lengths(&[(&request.identity, "PollWorkflowTaskQueueRequest.identity")])?;
        Ok(Response::new(
            self.engine
                .poll_workflow_task(&request.namespace, &queue, &request.identity, budget)
                .await?,
        ))
    }

    async fn respond_workflow_task_completed(
        &self,
        request: Request<ws::RespondWorkflowTaskCompletedRequest>,
    ) -> Result<Response<ws::RespondWorkflowTaskCompletedResponse>, Status> {
        let request = request.into_inner();
        check_request_lengths(&[(
            &request.identity,
            "RespondWorkflowTaskCompletedRequest.identity",
        )])?;
        Ok(Response::new(
            self.engine.complete_workflow_task(request).await?,
        ))
    }

    async fn respond_workflow_task_failed(
        &self,
        request: Request<ws::RespondWorkflowTaskFailedRequest>,
    ) -> Result<Response<ws::RespondWorkflowTaskFailedResponse>, Status> {
        let request = request.into_inner();
        check_request_lengths(&[(
            &request.identity,
            "RespondWorkflowTaskFailedRequest.identity",
        )])?;
        self.engine.fail_workflow_task(request).await?;
        Ok(Response::new(
            ws::RespondWorkflowTaskFailedResponse::default(),
        ))
    }

    async fn poll_activity_task_queue(
        &self,
        request: Request<ws::PollActivityTaskQueueRequest>,
    ) -> Result<Response<ws::PollActivityTaskQueueResponse>, Status> {
        let budget = task_poll_budget(&request);
        let request = request.into_inner();
        self.check_namespace(&request.namespace)?;
        let _slot = self.poll_slot()?;
        let queue = task_queue_name(&request.task_queue, "PollActivityTaskQueueRequest")?;
        check_request_lengths(&[(&request.identity, "PollActivityTaskQueueRequest.identity")])?;
        Ok(Response::new(
            self.engine
                .poll_activity_task(&request.namespace, &queue, &request.identity, budget)
                .await,
        ))
    }

    async fn respond_activity_task_completed(
        &self,
        request: Request<ws::RespondActivityTaskCompletedRequest>,
    ) -> Result<Response<ws::RespondActivityTaskCompletedResponse>, Status> {
        let request = request.into_inner();
        check_request_lengths(&[(
            &request.identity,
            "RespondActivityTaskCompletedRequest.identity",
        )])?;
        check_payloads(
            &request.result,
            "RespondActivityTaskCompletedRequest.result",
        )?;
        self.engine
            .respond_activity(
                &request.namespace,
                &request.task_token,
                ActivityAnswer::Completed(request.result),
                &request.identity,
            )
            .await?;
        Ok(Response::new(
            ws::RespondActivityTaskCompletedResponse::default(),
        ))
    }

    async fn respond_activity_task_completed_by_id(
        &self,
        request: Request<ws::RespondActivityTaskCompletedByIdRequest>,
    ) -> Result<Response<ws::RespondActivityTaskCompletedByIdResponse>, Status> {
        let r = request.into_inner();
        check_request_lengths(&[
            (
                &r.workflow_id,
                "RespondActivityTaskCompletedByIdRequest.workflow_id",
            ),
            (
                &r.activity_id,
                "RespondActivityTaskCompletedByIdRequest.activity_id",
            ),
            (
                &r.identity,
                "RespondActivityTaskCompletedByIdRequest.identity",
            ),
        ])?;
        self.check_namespace(&r.namespace)?;
        check_payloads(&r.result, "RespondActivityTaskCompletedByIdRequest.result")?;
        self.engine
            .respond_activity_by_id(
                &r.namespace,
                &r.workflow_id,
                &r.run_id,
                &r.activity_id,
                ActivityAnswer::Completed(r.result),
                &r.identity,
            )
            .await?;
        Ok(Response::new(
            ws::RespondActivityTaskCompletedByIdResponse::default(),
        ))
    }

    async fn respond_activity_task_failed(
        &self,
        request: Request<ws::RespondActivityTaskFailedRequest>,
    ) -> Result<Response<ws::RespondActivityTaskFailedResponse>, Status> {
        let request = request.into_inner();
        check_request_lengths(&[(
            &request.identity,
            "RespondActivityTaskFailedRequest.identity",
        )])?;
        self.engine
            .respond_activity(
                &request.namespace,
                &request.task_token,
                ActivityAnswer::Failed(
                    request.failure.map(Box::new),
                    request.last_heartbeat_details,
                ),
                &request.identity,
            )
            .await?;
        Ok(Response::new(
            ws::RespondActivityTaskFailedResponse::default(),
        ))
    }

    async fn respond_activity_task_failed_by_id(
        &self,
        request: Request<ws::RespondActivityTaskFailedByIdRequest>,
    ) -> Result<Response<ws::RespondActivityTaskFailedByIdResponse>, Status> {
        let r = request.into_inner();
        check_request_lengths(&[
            (
                &r.workflow_id,
                "RespondActivityTaskFailedByIdRequest.workflow_id",
            ),
            (
                &r.activity_id,
                "RespondActivityTaskFailedByIdRequest.activity_id",
            ),
            (&r.identity, "RespondActivityTaskFailedByIdRequest.identity"),
        ])?;
        self.check_namespace(&r.namespace)?;
        self.engine
            .respond_activity_by_id(
                &r.namespace,
                &r.workflow_id,
                &r.run_id,
                &r.activity_id,
                ActivityAnswer::Failed(r.failure.map(Box::new), r.last_heartbeat_details),
                &r.identity,
            )
            .await?;
        Ok(Response::new(
            ws::RespondActivityTaskFailedByIdResponse::default(),
        ))
    }

    async fn respond_activity_task_canceled(
        &self,
        request: Request<ws::RespondActivityTaskCanceledRequest>,
    ) -> Result<Response<ws::RespondActivityTaskCanceledResponse>, Status> {
        let request = request.into_inner();
        check_request_lengths(&[(
            &request.identity,
            "RespondActivityTaskCanceledRequest.identity",
        )])?;
        self.engine
            .respond_activity(
                &request.namespace,
                &request.task_token,
                ActivityAnswer::Canceled(request.details),
                &request.identity,
            )
            .await?;
        Ok(Response::new(
            ws::RespondActivityTaskCanceledResponse::default(),
        ))
    }

    async fn respond_activity_task_canceled_by_id(
        &self,
        request: Request<ws::RespondActivityTaskCanceledByIdRequest>,
    ) -> Result<Response<ws::RespondActivityTaskCanceledByIdResponse>, Status> {
        let r = request.into_inner();
        check_request_lengths(&[
            (
                &r.workflow_id,
                "RespondActivityTaskCanceledByIdRequest.workflow_id",
            ),
            (
                &r.activity_id,
                "RespondActivityTaskCanceledByIdRequest.activity_id",
            ),
            (
                &r.identity,
                "RespondActivityTaskCanceledByIdRequest.identity",
            ),
        ])?;
        self.check_namespace(&r.namespace)?;
        self.engine
            .respond_activity_by_id(
                &r.namespace,
                &r.workflow_id,
                &r.run_id,
                &r.activity_id,
                ActivityAnswer::Canceled(r.details),
                &r.identity,
            )
            .await?;
        Ok(Response::new(
            ws::RespondActivityTaskCanceledByIdResponse::default(),
        ))
    }

    async fn record_activity_task_heartbeat(
        &self,
        request: Request<ws::RecordActivityTaskHeartbeatRequest>,
    ) -> Result<Response<ws::RecordActivityTaskHeartbeatResponse>, Status> {
        let request = request.into_inner();
        check_request_lengths(&[(
            &request.identity,
            "RecordActivityTaskHeartbeatRequest.identity",
        )])?;
        check_payloads(
            &request.details,
            "RecordActivityTaskHeartbeatRequest.details",
        )?;
        let cancel_requested = self
            .engine
            .heartbeat(&request.namespace, &request.task_token, request.details)
            .await?;
        Ok(Response::new(ws::RecordActivityTaskHeartbeatResponse {
            cancel_requested,
            ..Default::default()
        }))
    }

    async fn record_activity_task_heartbeat_by_id(
        &self,
        request: Request<ws::RecordActivityTaskHeartbeatByIdRequest>,
    ) -> Result<Response<ws::RecordActivityTaskHeartbeatByIdResponse>, Status> {
        let r = request.into_inner();
        check_request_lengths(&[
            (
                &r.workflow_id,
                "RecordActivityTaskHeartbeatByIdRequest.workflow_id",
            ),
            (
                &r.activity_id,
                "RecordActivityTaskHeartbeatByIdRequest.activity_id",
            ),
            (
                &r.identity,
                "RecordActivityTaskHeartbeatByIdRequest.identity",
            ),
        ])?;
        self.check_namespace(&r.namespace)?;
        check_payloads(&r.details, "RecordActivityTaskHeartbeatByIdRequest.details")?;
        let cancel_requested = self
            .engine
            .heartbeat_by_id(
                &r.namespace,
                &r.workflow_id,
                &r.run_id,
                &r.activity_id,
                r.details,
            )
            .await?;
        Ok(Response::new(ws::RecordActivityTaskHeartbeatByIdResponse {
            cancel_requested,
            ..Default::default()
        }))
    }

    async fn reset_sticky_task_queue(
        &self,
        request: Request<ws::ResetStickyTaskQueueRequest>,
    ) -> Result<Response<ws::ResetStickyTaskQueueResponse>, Status> {
        let request = request.into_inner();
        self.check_namespace(&request.namespace)?;
        let execution = request.execution.unwrap_or_default();
        self.engine
            .reset_sticky_task_queue(&request.namespace, &execution)
            .await?;
        Ok(Response::new(ws::ResetStickyTaskQueueResponse {}))
    }

    async fn shutdown_worker(
        &self,
        request: Request<ws::ShutdownWorkerRequest>,
    ) -> Result<Response<ws::ShutdownWorkerResponse>, Status> {
        let request = request.into_inner();
        self.check_namespace(&request.namespace)?;
        self.engine
            .shutdown_worker(&request.namespace, &request.sticky_task_queue)
            .await?;
        Ok(Response::new(ws::ShutdownWorkerResponse {}))
    }

    async fn describe_task_queue(
        &self,
        request: Request<ws::DescribeTaskQueueRequest>,
    ) -> Result<Response<ws::DescribeTaskQueueResponse>, Status> {
        let request = request.into_inner();
        self.check_namespace(&request.namespace)?;
        let queue = task_queue_name(&request.task_queue, "DescribeTaskQueueRequest")?;
        let activity = request.task_queue_type() == TaskQueueType::Activity;
        Ok(Response::new(ws::DescribeTaskQueueResponse {
            pollers: self.engine.pollers(&request.namespace, &queue, activity),
            ..Default::default()
        }))
    }
}

/// The sizes and lengths of a start request.
fn check_start(request: &ws::StartWorkflowExecutionRequest) -> Result<(), Status> {
    check_payloads(&request.input, "StartWorkflowExecutionRequest.input")?;
    check_user_metadata(
        &request.user_metadata,
        "StartWorkflowExecutionRequest.user_metadata",
    )?;
    check_request_lengths(&[
        (
            &request.request_id,
            "StartWorkflowExecutionRequest.request_id",
        ),
        (&request.identity, "StartWorkflowExecutionRequest.identity"),
    ])
}

/// The sizes and lengths of an update request.
fn check_update(request: &ws::UpdateWorkflowExecutionRequest) -> Result<(), Status> {
    let update = request.request.as_ref();
    let meta = update.and_then(|r| r.meta.as_ref());
    let input = update.and_then(|r| r.input.as_ref());
    check_payloads(
        &input.and_then(|i| i.args.clone()),
        "UpdateWorkflowExecutionRequest.request.input.args",
    )?;
    check_request_lengths(&[
        (
            meta.map_or("", |m| m.update_id.as_str()),
            "UpdateWorkflowExecutionRequest.request.meta.update_id",
        ),
        (
            meta.map_or("", |m| m.identity.as_str()),
            "UpdateWorkflowExecutionRequest.request.meta.identity",
        ),
        (
            input.map_or("", |i| i.name.as_str()),
            "UpdateWorkflowExecutionRequest.request.input.name",
        ),
    ])
}

/// The start of an update-with-start: what Temporal does not allow there.
fn check_start_of_update(
    namespace: &str,
    start: &mut ws::StartWorkflowExecutionRequest,
) -> Result<(), Status> {
    if start.namespace.is_empty() {
        start.namespace = namespace.to_string();
    } else if start.namespace != namespace {
        return Err(status::invalid_argument(
            "Operation namespace did not match request's namespace.",
        ));
    }
    check_start(start)?;
    if !start.cron_schedule.is_empty() {
        return Err(status::invalid_argument("CronSchedule is not allowed."));
    }
    if start.request_eager_execution {
        return Err(status::invalid_argument(
            "RequestEagerExecution is not supported.",
        ));
    }
    if start
        .workflow_start_delay
        .as_ref()
        .is_some_and(|d| d.seconds > 0 || d.nanos > 0)
    {
        return Err(status::invalid_argument(
            "WorkflowStartDelay is not supported.",
        ));
    }
    Ok(())
}

/// The update of an update-with-start: the started workflow's, on its latest run.
fn check_update_of_start(
    namespace: &str,
    start: &ws::StartWorkflowExecutionRequest,
    update: &mut ws::UpdateWorkflowExecutionRequest,
) -> Result<(), Status> {
    if update.namespace.is_empty() {
        update.namespace = namespace.to_string();
    } else if update.namespace != namespace {
        return Err(status::invalid_argument(
            "Operation namespace did not match request's namespace.",
        ));
    }
    let execution = update.workflow_execution.get_or_insert_default();
    if execution.workflow_id.is_empty() {
        execution.workflow_id = start.workflow_id.clone();
    } else if execution.workflow_id != start.workflow_id {
        return Err(status::invalid_argument(
            "WorkflowId is not consistent with previous operation(s).",
        ));
    }
    if !execution.run_id.is_empty() {
        return Err(status::invalid_argument("RunId is not allowed."));
    }
    if !update.first_execution_run_id.is_empty() {
        return Err(status::invalid_argument(
            "FirstExecutionRunId is not allowed.",
        ));
    }
    check_update(update)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_deadline(timeout: &str) -> Request<()> {
        let mut request = Request::new(());
        request
            .metadata_mut()
            .insert("grpc-timeout", timeout.parse().unwrap());
        request
    }

    #[test]
    fn an_update_call_with_a_short_deadline_waits_it_out_and_is_answered_as_exceeded() {
        let wait = UpdateWait::of(&with_deadline("1S"));
        assert_eq!(wait.budget, Duration::from_secs(1));
        let exceeded = wait
            .check(Stage::Accepted as i32, Stage::Completed)
            .unwrap_err();
        assert_eq!(exceeded.code(), tonic::Code::DeadlineExceeded);
        assert!(
            wait.check(Stage::Completed as i32, Stage::Completed)
                .is_ok()
        );
    }

    #[test]
    fn an_update_call_without_a_short_deadline_answers_at_the_cap_with_the_stage_reached() {
        for request in [Request::new(()), with_deadline("70S")] {
            let wait = UpdateWait::of(&request);
            assert_eq!(wait.budget, MAX_HISTORY_POLL);
            assert!(wait.check(Stage::Admitted as i32, Stage::Completed).is_ok());
        }
    }
}
