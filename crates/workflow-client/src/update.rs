//! Workflow updates from the client: send one and wait for the stage asked for, and
//! handles that wait for an update's outcome.

use std::marker::PhantomData;

use temporalio_protos::temporal::api::common::v1::{Header, WorkflowExecution};
use temporalio_protos::temporal::api::enums::v1::UpdateWorkflowExecutionLifecycleStage as Stage;
use temporalio_protos::temporal::api::update::v1 as u;
use temporalio_protos::temporal::api::workflowservice::v1 as ws;
use workflow_core::failure::Failure;
use workflow_core::payload::{PayloadValue, null_payload};

use crate::client::{LONG_POLL_TIMEOUT, long_poll_expired};
use crate::{Client, Error};

/// How long a call that sends an update waits before it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WaitStage {
    /// Until the workflow accepted the update (its validator passed); the result comes
    /// later from the update handle.
    Accepted,
    /// Until the update's handler returned.
    #[default]
    Completed,
}

impl WaitStage {
    fn proto(self) -> Stage {
        match self {
            WaitStage::Accepted => Stage::Accepted,
            WaitStage::Completed => Stage::Completed,
        }
    }
}

/// How to send an update.
///
/// ```
/// use workflow_client::{UpdateOptions, WaitStage};
///
/// let options = UpdateOptions::new().id("order-17-add-tea").wait_for(WaitStage::Accepted);
/// ```
#[derive(Debug, Clone, Default)]
pub struct UpdateOptions {
    /// The update id: a second update with the same id on the same run gets the first
    /// one's outcome instead of running again. A random one when unset.
    pub id: Option<String>,
    /// What the call waits for.
    pub wait_for: WaitStage,
}

impl UpdateOptions {
    /// A random id, waiting for completion.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the update id (for deduplication).
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Sets the stage the call waits for.
    pub fn wait_for(mut self, stage: WaitStage) -> Self {
        self.wait_for = stage;
        self
    }
}

/// An update sent to a workflow: its id, and its outcome once the handler returns.
///
/// `T` is the update's output type; `result()` decodes the outcome as it.
pub struct UpdateHandle<T> {
    client: Client,
    execution: WorkflowExecution,
    id: String,
    /// The outcome, when the call that sent the update already waited for it.
    known: Option<u::Outcome>,
    _output: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for UpdateHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpdateHandle")
            .field("workflow_id", &self.execution.workflow_id)
            .field("id", &self.id)
            .finish()
    }
}

impl<T: PayloadValue> UpdateHandle<T> {
    pub(crate) fn new(client: Client, execution: WorkflowExecution, id: String) -> Self {
        Self {
            client,
            execution,
            id,
            known: None,
            _output: PhantomData,
        }
    }

    /// The update id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The id of the workflow the update went to.
    pub fn workflow_id(&self) -> &str {
        &self.execution.workflow_id
    }

    /// Waits for the update's handler to return; [`Error::UpdateFailed`] when the update
    /// was rejected or its handler failed.
    pub async fn result(&self) -> Result<T, Error> {
        let outcome = match &self.known {
            Some(outcome) => outcome.clone(),
            None => self.poll_outcome().await?,
        };
        match outcome.value {
            Some(u::outcome::Value::Success(payloads)) => {
                let first = payloads
                    .payloads
                    .into_iter()
                    .next()
                    .unwrap_or_else(null_payload);
                Ok(self.client.converter().from_payload(&first)?)
            }
            Some(u::outcome::Value::Failure(failure)) => Err(Error::UpdateFailed {
                failure: Box::new(Failure::from_proto(failure)),
            }),
            None => Err(Error::UpdateFailed {
                failure: Box::new(Failure::application(
                    "MissingOutcome",
                    "the server answered the update without an outcome",
                )),
            }),
        }
    }

    async fn poll_outcome(&self) -> Result<u::Outcome, Error> {
        let request = ws::PollWorkflowExecutionUpdateRequest {
            namespace: self.client.namespace().to_owned(),
            update_ref: Some(u::UpdateRef {
                workflow_execution: Some(self.execution.clone()),
                update_id: self.id.clone(),
            }),
            identity: self.client.identity().to_owned(),
            wait_policy: Some(u::WaitPolicy {
                lifecycle_stage: Stage::Completed as i32,
            }),
        };
        loop {
            let response = self
                .client
                .call(|mut s| {
                    let mut request = tonic::Request::new(request.clone());
                    request.set_timeout(LONG_POLL_TIMEOUT);
                    async move { s.poll_workflow_execution_update(request).await }
                })
                .await;
            match response {
                Ok(response) => {
                    if let Some(outcome) = response.outcome {
                        return Ok(outcome);
                    }
                }
                Err(error) if long_poll_expired(&error) => {}
                Err(error) => return Err(error),
            }
        }
    }
}

/// An update request for `execution`, with its id.
fn update_request(
    client: &Client,
    execution: WorkflowExecution,
    first_execution_run_id: String,
    name: &str,
    input: Vec<workflow_core::payload::Payload>,
    options: UpdateOptions,
) -> (String, ws::UpdateWorkflowExecutionRequest) {
    let id = options
        .id
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let wanted = options.wait_for.proto();
    let request = ws::UpdateWorkflowExecutionRequest {
        namespace: client.namespace().to_owned(),
        workflow_execution: Some(execution.clone()),
        first_execution_run_id,
        wait_policy: Some(u::WaitPolicy {
            lifecycle_stage: wanted as i32,
        }),
        request: Some(u::Request {
            meta: Some(u::Meta {
                update_id: id.clone(),
                identity: client.identity().to_owned(),
            }),
            input: Some(u::Input {
                header: Some(Header::default()),
                name: name.to_owned(),
                args: crate::client::payloads(input),
            }),
            ..Default::default()
        }),
    };
    (id, request)
}

/// Whether an update response answers a caller waiting for `wanted`.
fn reached(response: &ws::UpdateWorkflowExecutionResponse, wanted: i32) -> bool {
    response.outcome.is_some() || response.stage >= wanted
}

fn handle_of<T: PayloadValue>(
    client: &Client,
    execution: WorkflowExecution,
    id: String,
    response: ws::UpdateWorkflowExecutionResponse,
) -> UpdateHandle<T> {
    let execution = response
        .update_ref
        .and_then(|r| r.workflow_execution)
        .unwrap_or(execution);
    let mut handle = UpdateHandle::new(client.clone(), execution, id);
    handle.known = response.outcome;
    handle
}

/// Sends an update and waits until it reaches `options.wait_for`, asking again (with the
/// same id) when the server's wait runs out first.
pub(crate) async fn send<T: PayloadValue>(
    client: &Client,
    execution: WorkflowExecution,
    first_execution_run_id: String,
    name: &str,
    input: Vec<workflow_core::payload::Payload>,
    options: UpdateOptions,
) -> Result<UpdateHandle<T>, Error> {
    let (id, request) = update_request(
        client,
        execution.clone(),
        first_execution_run_id,
        name,
        input,
        options,
    );
    let response = update_until_reached(client, &request).await?;
    Ok(handle_of(client, execution, id, response))
}

/// Sends `request` until the update reaches the stage it asks for (the server answers
/// earlier when its long-poll wait runs out; the same update id makes each call the same
/// update).
async fn update_until_reached(
    client: &Client,
    request: &ws::UpdateWorkflowExecutionRequest,
) -> Result<ws::UpdateWorkflowExecutionResponse, Error> {
    loop {
        let response = client
            .call(|mut s| {
                let mut request = tonic::Request::new(request.clone());
                request.set_timeout(LONG_POLL_TIMEOUT);
                async move { s.update_workflow_execution(request).await }
            })
            .await;
        match response {
            Ok(response) if reached(&response, wanted_stage(request)) => return Ok(response),
            Ok(_) => {}
            Err(error) if long_poll_expired(&error) => {}
            Err(error) => return Err(error),
        }
    }
}

fn wanted_stage(request: &ws::UpdateWorkflowExecutionRequest) -> i32 {
    request
        .wait_policy
        .as_ref()
        .map_or(0, |p| p.lifecycle_stage)
}

/// Update-with-start: the start and the update in one request; answers the run started
/// (or taken) and the update's handle once the update reaches `options.wait_for`.
pub(crate) async fn send_with_start<T: PayloadValue>(
    client: &Client,
    start: ws::StartWorkflowExecutionRequest,
    name: &str,
    input: Vec<workflow_core::payload::Payload>,
    options: UpdateOptions,
) -> Result<(String, UpdateHandle<T>), Error> {
    use ws::execute_multi_operation_request::{Operation, operation};
    use ws::execute_multi_operation_response::response::Response;
    let execution = WorkflowExecution {
        workflow_id: start.workflow_id.clone(),
        run_id: String::new(),
    };
    let (id, update) = update_request(
        client,
        execution.clone(),
        String::new(),
        name,
        input,
        options,
    );
    let request = ws::ExecuteMultiOperationRequest {
        namespace: client.namespace().to_owned(),
        operations: vec![
            Operation {
                operation: Some(operation::Operation::StartWorkflow(start)),
            },
            Operation {
                operation: Some(operation::Operation::UpdateWorkflow(update.clone())),
            },
        ],
        ..Default::default()
    };
    let response = client
        .call(|mut s| {
            let mut request = tonic::Request::new(request.clone());
            request.set_timeout(LONG_POLL_TIMEOUT);
            async move { s.execute_multi_operation(request).await }
        })
        .await?;
    let mut run_id = String::new();
    let mut updated = None;
    for answer in response.responses {
        match answer.response {
            Some(Response::StartWorkflow(started)) => run_id = started.run_id,
            Some(Response::UpdateWorkflow(response)) => updated = Some(response),
            None => {}
        }
    }
    let Some(mut updated) = updated else {
        return Err(Error::Rpc {
            code: tonic::Code::Internal,
            message: "the server answered update-with-start without the update".into(),
        });
    };
    // The workflow exists now: what is left of the wait is a plain update call.
    if !reached(&updated, wanted_stage(&update)) {
        updated = update_until_reached(client, &update).await?;
    }
    Ok((run_id, handle_of(client, execution, id, updated)))
}
