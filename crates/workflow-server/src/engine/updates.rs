//! Workflow updates. An update is admitted into its run's registry (memory only, as
//! Temporal keeps it: a rejected update leaves no trace), sent to the worker as a protocol
//! message on the next workflow task (a speculative one when the run has none), and then
//! accepted (an event holding the request), rejected (no event) or completed (an event
//! holding the outcome) by the messages the worker answers with. Callers wait on the
//! update's progress; a completed update's outcome is read back from history.

use std::time::Duration;

use prost::Message as _;
use temporalio_protos::temporal::api::common::v1::WorkflowExecution;
use temporalio_protos::temporal::api::enums::v1::UpdateWorkflowExecutionLifecycleStage as Stage;
use temporalio_protos::temporal::api::failure::v1::{self as f, Failure};
use temporalio_protos::temporal::api::history::v1::{self as h, history_event::Attributes};
use temporalio_protos::temporal::api::protocol::v1::{Message, message::SequencingId};
use temporalio_protos::temporal::api::update::v1::{
    self as u, Acceptance, Outcome, Rejection, Request, Response,
};
use temporalio_protos::temporal::api::workflowservice::v1 as ws;
use tokio::sync::watch;

use super::Engine;
use super::context::Context;
use super::error::EngineError;
use super::execution::Execution;
use super::record::UpdateRecord;
use super::update_registry::{InFlight, Progress};

const TYPE_URL_PREFIX: &str = "type.googleapis.com/";
const REQUEST: &str = "temporal.api.update.v1.Request";
const ACCEPTANCE: &str = "temporal.api.update.v1.Acceptance";
const REJECTION: &str = "temporal.api.update.v1.Rejection";
const RESPONSE: &str = "temporal.api.update.v1.Response";

/// Most updates in flight (admitted, not yet completed) on one run, as Temporal's default
/// `history.maxInFlightUpdates`.
pub(crate) const MAX_IN_FLIGHT: usize = 10;

/// Where a caller finds an update: progress to wait on, or the answer already known.
pub(crate) enum Found {
    Waiting(watch::Receiver<Progress>),
    Known(Progress),
}

/// The update `id` on `run`: in flight, or accepted or completed as history records it.
pub(crate) fn find(run: &mut Execution, id: &str) -> Option<Found> {
    if let Some(update) = run.updates.get(id) {
        return Some(Found::Waiting(update.progress.subscribe()));
    }
    let record = run.state.updates.get(id)?.clone();
    if record.completed_event_id != 0 {
        return Some(Found::Known(Progress::Completed(Box::new(outcome_at(
            run,
            record.completed_event_id,
        )))));
    }
    if !run.is_running() {
        return Some(Found::Known(Progress::Completed(Box::new(
            closed_before_completion(),
        ))));
    }
    // Accepted before a restart, which emptied the registry: it waits for its response.
    let request = match history_event(run, record.accepted_event_id) {
        Some(Attributes::WorkflowExecutionUpdateAcceptedEventAttributes(a)) => {
            a.accepted_request.unwrap_or_default()
        }
        _ => return None,
    };
    let (progress, receiver) = watch::channel(Progress::Accepted);
    run.updates.in_flight.push(InFlight {
        request,
        sent: true,
        accepted_event_id: record.accepted_event_id,
        progress,
    });
    Some(Found::Waiting(receiver))
}

fn history_event(run: &Execution, event_id: i64) -> Option<Attributes> {
    let index = usize::try_from(event_id.checked_sub(1)?).ok()?;
    run.history.get(index)?.attributes
}

fn outcome_at(run: &Execution, completed_event_id: i64) -> Outcome {
    match history_event(run, completed_event_id) {
        Some(Attributes::WorkflowExecutionUpdateCompletedEventAttributes(a)) => {
            a.outcome.unwrap_or_default()
        }
        _ => Outcome::default(),
    }
}

/// Admits a new update into a running run's registry and has a workflow task carry it.
pub(crate) fn admit(
    run: &mut Execution,
    context: &mut Context,
    request: Request,
) -> Result<watch::Receiver<Progress>, EngineError> {
    if run.updates.in_flight.len() >= MAX_IN_FLIGHT {
        return Err(EngineError::ResourceExhausted(format!(
            "limit on number of concurrent in-flight updates has been reached ({MAX_IN_FLIGHT})"
        )));
    }
    let (progress, receiver) = watch::channel(Progress::Admitted);
    run.updates.in_flight.push(InFlight {
        request,
        sent: false,
        accepted_event_id: 0,
        progress,
    });
    // A task already scheduled carries it when it starts; a running one, the task after.
    if run.workflow_task.is_none() {
        super::execution::schedule_speculative_task(run, context);
    }
    Ok(receiver)
}

/// The request messages a workflow task starting now carries: every update not yet
/// accepted, sequenced before the task's started event.
pub(crate) fn messages_for_task(run: &mut Execution, started_event_id: i64) -> Vec<Message> {
    run.updates
        .in_flight
        .iter_mut()
        .filter(|u| u.accepted_event_id == 0)
        .map(|update| {
            update.sent = true;
            let id = update.id().to_string();
            Message {
                id: format!("{id}/request"),
                protocol_instance_id: id,
                sequencing_id: Some(SequencingId::EventId(started_event_id - 1)),
                body: Some(prost_types::Any {
                    type_url: format!("{TYPE_URL_PREFIX}{REQUEST}"),
                    value: update.request.encode_to_vec(),
                }),
            }
        })
        .collect()
}

/// A worker's protocol message, decoded.
#[derive(Debug)]
pub(crate) enum Answer {
    Accepted(Acceptance),
    Rejected(Rejection),
    Responded(Response),
}

impl Answer {
    /// The message's body, or what is wrong with it.
    pub(crate) fn decode(message: &Message) -> Result<Self, String> {
        let body = message
            .body
            .as_ref()
            .ok_or_else(|| format!("message {} has no body", message.id))?;
        let kind = body
            .type_url
            .rsplit_once('/')
            .map_or(body.type_url.as_str(), |(_, name)| name);
        let bytes = body.value.as_slice();
        let undecodable = |e: prost::DecodeError| format!("message {}: {e}", message.id);
        match kind {
            ACCEPTANCE => Ok(Self::Accepted(
                Acceptance::decode(bytes).map_err(undecodable)?,
            )),
            REJECTION => Ok(Self::Rejected(
                Rejection::decode(bytes).map_err(undecodable)?,
            )),
            RESPONSE => Ok(Self::Responded(
                Response::decode(bytes).map_err(undecodable)?,
            )),
            other => Err(format!(
                "message {} has a body of unknown type {other:?}",
                message.id
            )),
        }
    }

    pub(crate) fn is_rejection(&self) -> bool {
        matches!(self, Answer::Rejected(_))
    }
}

/// Why a worker's messages cannot be applied to `run`, if they cannot: each must answer
/// an update the run holds, in the state the message needs once the messages before it
/// are applied (one completion may accept an update and complete it).
pub(crate) fn check(run: &Execution, messages: &[Message]) -> Result<(), String> {
    let mut accepted: Vec<&str> = Vec::new();
    let mut closed: Vec<&str> = Vec::new();
    for message in messages {
        let id = message.protocol_instance_id.as_str();
        let unknown = || {
            format!(
                "update {id} wasn't found on the server (message {})",
                message.id
            )
        };
        if closed.contains(&id) {
            return Err(format!("update {id} is already completed"));
        }
        let in_flight = run.updates.get(id).map(|u| u.accepted_event_id != 0);
        let recorded = run.state.updates.get(id);
        let is_accepted = accepted.contains(&id) || in_flight == Some(true);
        match Answer::decode(message)? {
            Answer::Accepted(a) => {
                if is_accepted || recorded.is_some() {
                    return Err(format!("update {id} is already accepted"));
                }
                // An SDK hands the request back, so an update lost by a restart is
                // taken again.
                if in_flight.is_none() && a.accepted_request.is_none() {
                    return Err(unknown());
                }
                accepted.push(id);
            }
            Answer::Rejected(_) => {
                if is_accepted || recorded.is_some() {
                    return Err(format!("update {id} is accepted and cannot be rejected"));
                }
                if in_flight.is_none() {
                    return Err(unknown());
                }
                closed.push(id);
            }
            Answer::Responded(_) => {
                let open_record = recorded.is_some_and(|r| r.completed_event_id == 0);
                if !(is_accepted || open_record) {
                    return Err(match (in_flight, recorded) {
                        (Some(false), _) => format!("update {id} is not accepted yet"),
                        (_, Some(_)) => format!("update {id} is already completed"),
                        _ => unknown(),
                    });
                }
                closed.push(id);
            }
        }
    }
    Ok(())
}

/// Applies a checked message: an acceptance or a response writes its event.
pub(crate) fn apply(run: &mut Execution, context: &mut Context, message: &Message) {
    let Ok(answer) = Answer::decode(message) else {
        return;
    };
    let id = message.protocol_instance_id.clone();
    match answer {
        Answer::Accepted(acceptance) => {
            if run.updates.get(&id).is_none() {
                let (progress, _) = watch::channel(Progress::Admitted);
                run.updates.in_flight.push(InFlight {
                    request: acceptance.accepted_request.clone().unwrap_or_default(),
                    sent: true,
                    accepted_event_id: 0,
                    progress,
                });
            }
            let request = run
                .updates
                .get(&id)
                .map(|u| u.request.clone())
                .unwrap_or_default();
            let event_id = run.append(
                context,
                Attributes::WorkflowExecutionUpdateAcceptedEventAttributes(
                    h::WorkflowExecutionUpdateAcceptedEventAttributes {
                        protocol_instance_id: id.clone(),
                        accepted_request_message_id: acceptance.accepted_request_message_id,
                        accepted_request_sequencing_event_id: acceptance
                            .accepted_request_sequencing_event_id,
                        accepted_request: Some(request),
                    },
                ),
            );
            run.state.updates.insert(
                id.clone(),
                UpdateRecord {
                    accepted_event_id: event_id,
                    completed_event_id: 0,
                },
            );
            if let Some(update) = run.updates.in_flight.iter_mut().find(|u| u.id() == id) {
                update.accepted_event_id = event_id;
                update.progress.send_replace(Progress::Accepted);
            }
        }
        Answer::Rejected(rejection) => {
            if let Some(update) = run.updates.take(&id) {
                let failure = rejection.failure.unwrap_or_default();
                update
                    .progress
                    .send_replace(Progress::Completed(Box::new(Outcome {
                        value: Some(u::outcome::Value::Failure(failure)),
                    })));
            }
        }
        Answer::Responded(response) => {
            let accepted_event_id = run
                .state
                .updates
                .get(&id)
                .map_or(0, |r| r.accepted_event_id);
            let outcome = response.outcome.unwrap_or_default();
            let event_id = run.append(
                context,
                Attributes::WorkflowExecutionUpdateCompletedEventAttributes(
                    h::WorkflowExecutionUpdateCompletedEventAttributes {
                        meta: response.meta,
                        accepted_event_id,
                        outcome: Some(outcome.clone()),
                    },
                ),
            );
            if let Some(record) = run.state.updates.get_mut(&id) {
                record.completed_event_id = event_id;
            }
            if let Some(update) = run.updates.take(&id) {
                update
                    .progress
                    .send_replace(Progress::Completed(Box::new(outcome)));
            }
        }
    }
}

/// After a completed workflow task: updates it carried that the worker neither accepted
/// nor rejected are rejected, as Temporal rejects them (the worker did not know them).
pub(crate) fn reject_unanswered(run: &mut Execution) {
    let (unanswered, kept) = std::mem::take(&mut run.updates.in_flight)
        .into_iter()
        .partition(|u| u.sent && u.accepted_event_id == 0);
    run.updates.in_flight = kept;
    for update in unanswered {
        update
            .progress
            .send_replace(Progress::Completed(Box::new(unprocessed())));
    }
}

/// The run closed: updates not accepted are aborted (a retry after continue-as-new reaches
/// the new run), accepted ones complete with Temporal's failure for that case.
pub(crate) fn abort_all(run: &mut Execution, continuing: bool) {
    for update in std::mem::take(&mut run.updates.in_flight) {
        let progress = if update.accepted_event_id != 0 {
            Progress::Completed(Box::new(closed_before_completion()))
        } else if continuing {
            Progress::Continuing
        } else {
            Progress::Aborted
        };
        update.progress.send_replace(progress);
    }
}

fn server_failure(message: &str, kind: &str) -> Failure {
    Failure {
        message: message.to_string(),
        source: "Server".into(),
        failure_info: Some(f::failure::FailureInfo::ApplicationFailureInfo(
            f::ApplicationFailureInfo {
                r#type: kind.to_string(),
                non_retryable: true,
                ..Default::default()
            },
        )),
        ..Default::default()
    }
}

fn unprocessed() -> Outcome {
    Outcome {
        value: Some(u::outcome::Value::Failure(server_failure(
            "Workflow Update is rejected because it wasn't processed by worker. Probably, Workflow Update is not supported by the worker.",
            "UnprocessedUpdate",
        ))),
    }
}

fn closed_before_completion() -> Outcome {
    Outcome {
        value: Some(u::outcome::Value::Failure(server_failure(
            "Workflow Update failed because the Workflow completed before the Update completed.",
            "AcceptedUpdateCompletedWorkflow",
        ))),
    }
}

/// The reference callers get back for an update.
pub(crate) fn reference(run: &Execution, id: &str) -> u::UpdateRef {
    u::UpdateRef {
        workflow_execution: Some(WorkflowExecution {
            workflow_id: run.workflow_id.clone(),
            run_id: run.run_id.clone(),
        }),
        update_id: id.to_string(),
    }
}

/// Waits until `found` reaches `stage` or `budget` passes; answers the progress then.
async fn wait(found: Found, stage: Stage, budget: Duration) -> Progress {
    let mut receiver = match found {
        Found::Known(progress) => return progress,
        Found::Waiting(receiver) => receiver,
    };
    let deadline = tokio::time::Instant::now() + budget;
    loop {
        let progress = receiver.borrow_and_update().clone();
        if progress.reached(stage) {
            return progress;
        }
        match tokio::time::timeout_at(deadline, receiver.changed()).await {
            Ok(Ok(())) => continue,
            // The registry let go of it (the run left memory) or the budget is spent: the
            // caller gets the stage reached so far and asks again.
            Ok(Err(_)) | Err(_) => return progress,
        }
    }
}

/// The stage a caller waits for: Temporal's default is completion, and it does not wait
/// for admission alone (an admitted update is not durable yet).
fn wait_stage(policy: Option<&u::WaitPolicy>) -> Result<Stage, EngineError> {
    let stage = policy.map_or(Stage::Unspecified, |p| p.lifecycle_stage());
    match stage {
        Stage::Unspecified => Ok(Stage::Completed),
        Stage::Admitted => Err(EngineError::PermissionDenied(
            "UpdateWorkflowExecution issued asynchronously and waiting on update admitted is not supported.".into(),
        )),
        other => Ok(other),
    }
}

/// An update request, checked: the update (with its id) and the stage the caller waits for.
pub(crate) struct Asked {
    pub(crate) id: String,
    pub(crate) update: Request,
    stage: Stage,
}

impl Asked {
    pub(crate) fn from_request(
        request: &ws::UpdateWorkflowExecutionRequest,
    ) -> Result<Self, EngineError> {
        let stage = wait_stage(request.wait_policy.as_ref())?;
        let mut update = request.request.clone().unwrap_or_default();
        let Some(meta) = update.meta.as_mut() else {
            return Err(EngineError::invalid("Update meta is not set on request."));
        };
        if meta.update_id.is_empty() {
            meta.update_id = uuid::Uuid::new_v4().to_string();
        }
        let id = meta.update_id.clone();
        let Some(input) = update.input.as_ref() else {
            return Err(EngineError::invalid("Update input is not set on request."));
        };
        if input.name.is_empty() {
            return Err(EngineError::invalid("Update name is not set on request."));
        }
        Ok(Self { id, update, stage })
    }

    /// Waits up to `budget` for the stage asked for, and answers with what was reached.
    pub(crate) async fn respond(
        self,
        reference: u::UpdateRef,
        found: Found,
        budget: Duration,
    ) -> Result<ws::UpdateWorkflowExecutionResponse, EngineError> {
        let (stage, outcome) = wait(found, self.stage, budget).await.answer()?;
        Ok(ws::UpdateWorkflowExecutionResponse {
            update_ref: Some(reference),
            outcome,
            stage: stage as i32,
            ..Default::default()
        })
    }
}

/// The update `id` on `run` if it has one, or `update` admitted as a new one.
pub(crate) fn find_or_admit(
    run: &mut Execution,
    context: &mut Context,
    update: Request,
    id: &str,
) -> Result<(u::UpdateRef, Found), EngineError> {
    let reference = reference(run, id);
    if let Some(found) = find(run, id) {
        return Ok((reference, found));
    }
    if !run.is_running() {
        return Err(EngineError::already_closed());
    }
    Ok((reference, Found::Waiting(admit(run, context, update)?)))
}

impl Engine {
    /// Sends an update to a running workflow (or finds the one with its update id) and
    /// waits up to `budget` for the stage the request asks for.
    pub async fn update_workflow(
        &self,
        request: ws::UpdateWorkflowExecutionRequest,
        budget: Duration,
    ) -> Result<ws::UpdateWorkflowExecutionResponse, EngineError> {
        let asked = Asked::from_request(&request)?;
        let execution = request.workflow_execution.unwrap_or_default();
        let namespace = request.namespace;
        let first_run = request.first_execution_run_id;
        let (reference, found) = self
            .transact(|state| {
                let key = state.resolve(&namespace, &execution)?;
                let (run, context) = state.run_mut(&key).expect("resolved");
                if !first_run.is_empty() && run.first_execution_run_id != first_run {
                    return Err(EngineError::not_found(format!(
                        "workflow execution not found for workflow id {} and first execution run id {first_run}",
                        execution.workflow_id
                    )));
                }
                find_or_admit(run, context, asked.update.clone(), &asked.id)
            })
            .await?;
        asked.respond(reference, found, budget).await
    }

    /// Waits up to `budget` for an update to reach the stage asked for; without a wait
    /// policy, answers at once.
    pub async fn poll_update(
        &self,
        request: ws::PollWorkflowExecutionUpdateRequest,
        budget: Duration,
    ) -> Result<ws::PollWorkflowExecutionUpdateResponse, EngineError> {
        let Some(asked) = request.update_ref else {
            return Err(EngineError::invalid("UpdateRef is not set on request."));
        };
        let (stage, budget) = match request.wait_policy.as_ref().map(|p| p.lifecycle_stage()) {
            None | Some(Stage::Unspecified) => (Stage::Unspecified, Duration::ZERO),
            Some(stage) => (stage, budget),
        };
        let execution = asked.workflow_execution.clone().unwrap_or_default();
        let id = asked.update_id.clone();
        let (reference, found) = self
            .transact(|state| {
                let key = state.resolve(&request.namespace, &execution)?;
                let run = state.runs.get_mut(&key).expect("resolved");
                let found = find(run, &id)
                    .ok_or_else(|| EngineError::not_found(format!("update {id:?} not found")))?;
                Ok((reference(run, &id), found))
            })
            .await?;
        let (stage, outcome) = wait(found, stage, budget).await.answer()?;
        Ok(ws::PollWorkflowExecutionUpdateResponse {
            outcome,
            stage: stage as i32,
            update_ref: Some(reference),
        })
    }
}
