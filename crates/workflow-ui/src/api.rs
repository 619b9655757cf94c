//! The JSON API under `/api/v1`: the routes, names and shapes of Temporal's HTTP API
//! (`google.api.http` bindings of the workflow service) for the calls the pages use. Each
//! route reads its request from the path, the query string and the JSON body, makes the
//! gRPC call and answers its response as proto3 JSON.

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value};
use temporalio_protos::temporal::api::workflowservice::v1::{
    CountWorkflowExecutionsRequest, DescribeNamespaceRequest, DescribeWorkflowExecutionRequest,
    GetSystemInfoRequest, GetWorkflowExecutionHistoryRequest, ListNamespacesRequest,
    ListWorkflowExecutionsRequest, QueryWorkflowRequest, RequestCancelWorkflowExecutionRequest,
    SignalWorkflowExecutionRequest, TerminateWorkflowExecutionRequest,
    UpdateWorkflowExecutionRequest,
};

use crate::Ui;
use crate::error::ApiError;
use crate::json::{from_json, set_path, to_json};

/// How long one API call may take. A query waits for a worker to answer; without a worker
/// it would otherwise hang the page.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Who made a signal, update, cancel or terminate request, as the history records it.
const IDENTITY: &str = "web-ui";

type Reply = Result<Json<Value>, ApiError>;
type Params = Query<Vec<(String, String)>>;

pub(crate) fn routes() -> Router<Ui> {
    let workflow = "/api/v1/namespaces/{namespace}/workflows/{workflow_id}";
    Router::new()
        .route("/api/v1/system-info", get(system_info))
        .route("/api/v1/namespaces", get(list_namespaces))
        .route("/api/v1/namespaces/{namespace}", get(describe_namespace))
        .route(
            "/api/v1/namespaces/{namespace}/workflows",
            get(list_workflows),
        )
        .route(
            "/api/v1/namespaces/{namespace}/workflow-count",
            get(count_workflows),
        )
        .route(workflow, get(describe_workflow))
        .route(&format!("{workflow}/history"), get(history))
        .route(&format!("{workflow}/signal/{{name}}"), post(signal))
        .route(&format!("{workflow}/update/{{name}}"), post(update))
        .route(&format!("{workflow}/cancel"), post(cancel))
        .route(&format!("{workflow}/terminate"), post(terminate))
        .route(&format!("{workflow}/query/{{name}}"), post(query))
}

/// Builds a request from the JSON body, then the query parameters, then the path
/// parameters (dotted names reach into nested messages, as in the HTTP API).
fn request<M: prost::Message + prost::Name + Default>(
    body: Option<Value>,
    Query(params): Params,
    path: &[(&str, &str)],
) -> Result<tonic::Request<M>, ApiError> {
    let mut object = match body {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(object)) => object,
        Some(_) => return Err(ApiError::invalid_argument("the body must be a JSON object")),
    };
    for (name, value) in params {
        set_path(&mut object, &name, Value::String(value));
    }
    for (name, value) in path {
        set_path(&mut object, name, Value::String((*value).to_owned()));
    }
    let mut request = tonic::Request::new(from_json::<M>(Value::Object(object))?);
    request.set_timeout(CALL_TIMEOUT);
    Ok(request)
}

/// Answers a gRPC response as JSON; a server that ignores the deadline still gets cut off.
async fn reply<M: prost::Message + prost::Name>(
    call: impl Future<Output = Result<tonic::Response<M>, tonic::Status>>,
) -> Reply {
    let response = tokio::time::timeout(CALL_TIMEOUT, call)
        .await
        .map_err(|_| {
            ApiError::new(
                tonic::Code::DeadlineExceeded,
                format!("no answer within {} s", CALL_TIMEOUT.as_secs()),
            )
        })??;
    Ok(Json(to_json(response.get_ref())?))
}

async fn system_info(State(ui): State<Ui>, params: Params) -> Reply {
    let request = request::<GetSystemInfoRequest>(None, params, &[])?;
    reply(ui.client().get_system_info(request)).await
}

async fn list_namespaces(State(ui): State<Ui>, params: Params) -> Reply {
    let request = request::<ListNamespacesRequest>(None, params, &[])?;
    reply(ui.client().list_namespaces(request)).await
}

async fn describe_namespace(
    State(ui): State<Ui>,
    Path(namespace): Path<String>,
    params: Params,
) -> Reply {
    let request = request::<DescribeNamespaceRequest>(None, params, &[("namespace", &namespace)])?;
    reply(ui.client().describe_namespace(request)).await
}

async fn list_workflows(
    State(ui): State<Ui>,
    Path(namespace): Path<String>,
    params: Params,
) -> Reply {
    let request =
        request::<ListWorkflowExecutionsRequest>(None, params, &[("namespace", &namespace)])?;
    reply(ui.client().list_workflow_executions(request)).await
}

async fn count_workflows(
    State(ui): State<Ui>,
    Path(namespace): Path<String>,
    params: Params,
) -> Reply {
    let request =
        request::<CountWorkflowExecutionsRequest>(None, params, &[("namespace", &namespace)])?;
    reply(ui.client().count_workflow_executions(request)).await
}

async fn describe_workflow(
    State(ui): State<Ui>,
    Path((namespace, workflow_id)): Path<(String, String)>,
    params: Params,
) -> Reply {
    let request = request::<DescribeWorkflowExecutionRequest>(
        None,
        params,
        &[
            ("namespace", &namespace),
            ("execution.workflowId", &workflow_id),
        ],
    )?;
    reply(ui.client().describe_workflow_execution(request)).await
}

async fn history(
    State(ui): State<Ui>,
    Path((namespace, workflow_id)): Path<(String, String)>,
    params: Params,
) -> Reply {
    let request = request::<GetWorkflowExecutionHistoryRequest>(
        None,
        params,
        &[
            ("namespace", &namespace),
            ("execution.workflowId", &workflow_id),
        ],
    )?;
    reply(ui.client().get_workflow_execution_history(request)).await
}

async fn signal(
    State(ui): State<Ui>,
    Path((namespace, workflow_id, name)): Path<(String, String, String)>,
    params: Params,
    Json(body): Json<Value>,
) -> Reply {
    let mut request = request::<SignalWorkflowExecutionRequest>(
        Some(body),
        params,
        &[
            ("namespace", &namespace),
            ("workflowExecution.workflowId", &workflow_id),
            ("signalName", &name),
        ],
    )?;
    default_identity(&mut request.get_mut().identity);
    reply(ui.client().signal_workflow_execution(request)).await
}

async fn update(
    State(ui): State<Ui>,
    Path((namespace, workflow_id, name)): Path<(String, String, String)>,
    params: Params,
    Json(body): Json<Value>,
) -> Reply {
    let mut request = request::<UpdateWorkflowExecutionRequest>(
        Some(body),
        params,
        &[
            ("namespace", &namespace),
            ("workflowExecution.workflowId", &workflow_id),
            ("request.input.name", &name),
        ],
    )?;
    let meta = request
        .get_mut()
        .request
        .get_or_insert_default()
        .meta
        .get_or_insert_default();
    default_identity(&mut meta.identity);
    reply(ui.client().update_workflow_execution(request)).await
}

async fn cancel(
    State(ui): State<Ui>,
    Path((namespace, workflow_id)): Path<(String, String)>,
    params: Params,
    Json(body): Json<Value>,
) -> Reply {
    let mut request = request::<RequestCancelWorkflowExecutionRequest>(
        Some(body),
        params,
        &[
            ("namespace", &namespace),
            ("workflowExecution.workflowId", &workflow_id),
        ],
    )?;
    default_identity(&mut request.get_mut().identity);
    reply(ui.client().request_cancel_workflow_execution(request)).await
}

async fn terminate(
    State(ui): State<Ui>,
    Path((namespace, workflow_id)): Path<(String, String)>,
    params: Params,
    Json(body): Json<Value>,
) -> Reply {
    let mut request = request::<TerminateWorkflowExecutionRequest>(
        Some(body),
        params,
        &[
            ("namespace", &namespace),
            ("workflowExecution.workflowId", &workflow_id),
        ],
    )?;
    default_identity(&mut request.get_mut().identity);
    reply(ui.client().terminate_workflow_execution(request)).await
}

async fn query(
    State(ui): State<Ui>,
    Path((namespace, workflow_id, name)): Path<(String, String, String)>,
    params: Params,
    Json(body): Json<Value>,
) -> Reply {
    let request = request::<QueryWorkflowRequest>(
        Some(body),
        params,
        &[
            ("namespace", &namespace),
            ("execution.workflowId", &workflow_id),
            ("query.queryType", &name),
        ],
    )?;
    reply(ui.client().query_workflow(request)).await
}

fn default_identity(identity: &mut String) {
    if identity.is_empty() {
        IDENTITY.clone_into(identity);
    }
}
