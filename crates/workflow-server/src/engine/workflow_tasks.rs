//! Workflow tasks: handed out to pollers (normal and sticky queues), and what a completed,
//! failed or timed-out workflow task writes.

use std::time::Duration;

use temporalio_protos::temporal::api::command::v1::command::Attributes as C;
use temporalio_protos::temporal::api::common::v1::{WorkflowExecution, WorkflowType};
use temporalio_protos::temporal::api::enums::v1::{
    SuggestContinueAsNewReason, TimeoutType, WorkflowTaskFailedCause,
};
use temporalio_protos::temporal::api::failure::v1::Failure;
use temporalio_protos::temporal::api::history::v1::history_event::Attributes;
use temporalio_protos::temporal::api::history::v1::{self as h, History};
use temporalio_protos::temporal::api::taskqueue::v1::PollerInfo;
use temporalio_protos::temporal::api::workflowservice::v1 as ws;

use super::Engine;
use super::close::terminate_run;
use super::context::Context;
use super::error::EngineError;
use super::events::normal_queue;
use super::execution::{
    DEFAULT_TASK_TIMEOUT, Execution, offer_workflow_task, schedule_speculative_task,
    schedule_workflow_task, schedule_workflow_task_after,
};
use super::record::{RunKey, StickyState, WorkflowTaskState, duration, stamp};
use super::state::State;
use super::tokens::{TaskKind, TaskToken};
use super::{activities, commands, queries, updates};
use crate::matching::{self, PollKind};

/// Longest wait before a failing workflow task is offered again.
const MAX_TASK_RETRY_BACKOFF: Duration = Duration::from_secs(60);

/// After a restart: what waited on a queue waits again.
pub(crate) fn requeue_after_restart(run: &mut Execution, context: &mut Context) {
    if let Some(task) = &run.workflow_task
        && task.started_event_id == 0
        && task.not_before.is_none()
    {
        offer_workflow_task(run, context);
    }
    activities::requeue_after_restart(run, context);
}

/// Ends the running or scheduled workflow task without completing it and schedules the
/// next attempt: `event` is the failure or timeout to write.
fn retry_workflow_task(run: &mut Execution, context: &mut Context, event: Attributes) {
    let attempt = run.workflow_task.as_ref().map_or(1, |t| t.attempt) + 1;
    run.append(context, event);
    run.workflow_task = None;
    // As Temporal does, a failed task loses its worker's sticky queue.
    run.sticky = None;
    run.flush_buffered(context);
    // Attempts past the second wait, so a task failing for good does not spin.
    let not_before = (attempt > 2).then(|| {
        let backoff =
            Duration::from_secs(1u64 << (attempt - 3).min(6) as u32).min(MAX_TASK_RETRY_BACKOFF);
        context.clock.now() + backoff
    });
    schedule_workflow_task_after(run, context, attempt, not_before);
    queries::redispatch_attached(run, context);
}

/// A workflow task's deadline passed: it timed out (started) or leaves its sticky queue.
pub(crate) fn workflow_task_deadline(run: &mut Execution, context: &mut Context) {
    let Some(task) = run.workflow_task.clone() else {
        return;
    };
    if task.started_event_id != 0 {
        retry_workflow_task(
            run,
            context,
            Attributes::WorkflowTaskTimedOutEventAttributes(
                h::WorkflowTaskTimedOutEventAttributes {
                    scheduled_event_id: task.scheduled_event_id,
                    started_event_id: task.started_event_id,
                    timeout_type: TimeoutType::StartToClose as i32,
                },
            ),
        );
    } else {
        // The sticky worker did not take it in time: the normal queue gets a new task.
        run.append(
            context,
            Attributes::WorkflowTaskTimedOutEventAttributes(
                h::WorkflowTaskTimedOutEventAttributes {
                    scheduled_event_id: task.scheduled_event_id,
                    started_event_id: 0,
                    timeout_type: TimeoutType::ScheduleToStart as i32,
                },
            ),
        );
        run.workflow_task = None;
        run.sticky = None;
        schedule_workflow_task(run, context, task.attempt);
        queries::redispatch_attached(run, context);
    }
}

/// Forgets a run's sticky queue; a task waiting there moves to the normal queue.
pub(crate) fn reset_sticky(run: &mut Execution, context: &mut Context) {
    run.sticky = None;
    let normal = run.state.task_queue.clone();
    if let Some(task) = run.workflow_task.as_mut()
        && task.started_event_id == 0
        && task.queue != normal
    {
        task.queue = normal;
        task.deadline = None;
        offer_workflow_task(run, context);
    }
}

fn current_task(run: &Execution, token: &TaskToken) -> Result<WorkflowTaskState, EngineError> {
    run.workflow_task
        .clone()
        .filter(|t| {
            t.scheduled_event_id == token.scheduled_event_id
                && t.attempt == token.attempt
                && t.started_event_id != 0
        })
        .ok_or_else(|| {
            EngineError::not_found("workflow task not found (it timed out or was already answered)")
        })
}

/// Temporal's defaults for suggesting continue-as-new: at 4,096 events or 4 MiB of history.
pub(crate) const SUGGEST_CONTINUE_AS_NEW_EVENTS: usize = 4 * 1024;
pub(crate) const SUGGEST_CONTINUE_AS_NEW_BYTES: usize = 4 * 1024 * 1024;

/// Why a run with `events` events and `bytes` of history should continue as new, if it should.
pub(crate) fn continue_as_new_reasons(events: usize, bytes: usize) -> Vec<i32> {
    let mut reasons = Vec::new();
    if bytes >= SUGGEST_CONTINUE_AS_NEW_BYTES {
        reasons.push(SuggestContinueAsNewReason::HistorySizeTooLarge as i32);
    }
    if events >= SUGGEST_CONTINUE_AS_NEW_EVENTS {
        reasons.push(SuggestContinueAsNewReason::TooManyHistoryEvents as i32);
    }
    reasons
}

/// Starts the run's workflow task for a poller and builds what the poller gets.
fn start_workflow_task(
    run: &mut Execution,
    context: &mut Context,
    identity: &str,
    polled_queue: &str,
) -> ws::PollWorkflowTaskQueueResponse {
    let task = run.workflow_task.clone().expect("checked by the caller");
    let now = context.clock.now();
    // The size and count of history before this event, which the worker may read to decide
    // when to continue as new, and Temporal's suggestion from them.
    let history_size = run.history.encoded_size();
    let events = run.history.len() + 1 + usize::from(run.speculative.is_some());
    let reasons = continue_as_new_reasons(events, history_size);
    let started_event =
        Attributes::WorkflowTaskStartedEventAttributes(h::WorkflowTaskStartedEventAttributes {
            scheduled_event_id: task.scheduled_event_id,
            identity: identity.to_string(),
            request_id: uuid::Uuid::new_v4().to_string(),
            suggest_continue_as_new: !reasons.is_empty(),
            suggest_continue_as_new_reasons: reasons,
            history_size_bytes: history_size as i64,
            ..Default::default()
        });
    // A speculative task's started event stays beside history, as its scheduled one does.
    let started = if run.speculative.is_some() {
        let id = run.history.len() as i64 + 2;
        let event = context.events.event(id, now, started_event);
        if let Some(speculative) = run.speculative.as_mut() {
            speculative.started = Some(event);
        }
        context.dirty.insert(run.key());
        id
    } else {
        run.append(context, started_event)
    };
    let messages = updates::messages_for_task(run, started);
    let timeout = duration(&run.task_timeout).unwrap_or(DEFAULT_TASK_TIMEOUT);
    run.workflow_task = Some(WorkflowTaskState {
        started_event_id: started,
        started_time: stamp(now),
        deadline: stamp(now + timeout),
        ..task.clone()
    });
    // A sticky worker has the run cached up to its last task: it gets only what is new.
    let sticky = polled_queue != run.state.task_queue;
    let from = if sticky {
        run.previous_started_event_id as usize
    } else {
        0
    };
    let queries = run
        .attached_queries
        .iter()
        .filter_map(|id| {
            context
                .queries
                .get(id)
                .map(|q| (id.clone(), q.query.clone()))
        })
        .collect();
    ws::PollWorkflowTaskQueueResponse {
        task_token: context.tokens.seal_task(
            TaskKind::Workflow,
            &TaskToken {
                namespace: run.namespace.clone(),
                run_id: run.run_id.clone(),
                scheduled_event_id: task.scheduled_event_id,
                attempt: task.attempt,
            },
        ),
        workflow_execution: Some(run.execution()),
        workflow_type: Some(WorkflowType {
            name: run.workflow_type.clone(),
        }),
        previous_started_event_id: run.previous_started_event_id,
        started_event_id: started,
        attempt: task.attempt,
        history: Some(History {
            events: run.task_events(from),
        }),
        messages,
        workflow_execution_task_queue: Some(normal_queue(&run.state.task_queue)),
        scheduled_time: task.scheduled_time,
        started_time: stamp(now),
        queries,
        ..Default::default()
    }
}

impl Engine {
    /// Hands out a workflow task (or a legacy query task) of `queue`, waiting up to
    /// `budget` for one.
    pub async fn poll_workflow_task(
        &self,
        namespace: &str,
        queue: &str,
        identity: &str,
        budget: Duration,
    ) -> Result<ws::PollWorkflowTaskQueueResponse, EngineError> {
        let deadline = tokio::time::Instant::now() + budget;
        loop {
            let polled = self
                .transact(|state| {
                    let now = state.context.clock.now();
                    state.context.matching.record_poller(
                        namespace,
                        queue,
                        PollKind::Workflow,
                        identity,
                        now,
                    );
                    while let Some(id) = state.context.matching.next_query_task(namespace, queue) {
                        if let Some(task) = queries::query_task(state, &id) {
                            return Ok(Ok(task));
                        }
                    }
                    while let Some(run_id) =
                        state.context.matching.next_workflow_task(namespace, queue)
                    {
                        let key = (namespace.to_string(), run_id);
                        let Some(run) = state.runs.get(&key) else {
                            continue;
                        };
                        let ready = run.workflow_task.as_ref().is_some_and(|t| {
                            t.started_event_id == 0 && t.not_before.is_none() && t.queue == queue
                        });
                        if !ready || !run.is_running() {
                            continue;
                        }
                        let (run, context) = state.run_mut(&key).expect("present");
                        return Ok(Ok(start_workflow_task(run, context, identity, queue)));
                    }
                    Ok(Err(state.context.matching.ready(
                        namespace,
                        queue,
                        PollKind::Workflow,
                    )))
                })
                .await?;
            let ready = match polled {
                Ok(task) => return Ok(task),
                Err(ready) => ready,
            };
            if !matching::wait(&ready, deadline).await {
                return Ok(ws::PollWorkflowTaskQueueResponse::default());
            }
        }
    }

    /// Records a completed workflow task and carries out its commands.
    pub async fn complete_workflow_task(
        &self,
        request: ws::RespondWorkflowTaskCompletedRequest,
    ) -> Result<ws::RespondWorkflowTaskCompletedResponse, EngineError> {
        self.transact(|state| {
            let token = state.context.tokens.open_task(
                TaskKind::Workflow,
                &request.task_token,
                &request.namespace,
            )?;
            // Commands refused may still have changed the run (a failed task, a
            // termination): that is committed before the refusal is answered.
            Ok(complete_locked(state, &token, request))
        })
        .await?
    }

    /// Records a failed workflow task and schedules the next attempt.
    pub async fn fail_workflow_task(
        &self,
        request: ws::RespondWorkflowTaskFailedRequest,
    ) -> Result<(), EngineError> {
        self.transact(|state| {
            let token = state.context.tokens.open_task(
                TaskKind::Workflow,
                &request.task_token,
                &request.namespace,
            )?;
            let (run, context) = state
                .run_mut(&token.key())
                .ok_or_else(|| EngineError::not_found("workflow execution not found"))?;
            let task = current_task(run, &token)?;
            retry_workflow_task(
                run,
                context,
                Attributes::WorkflowTaskFailedEventAttributes(
                    h::WorkflowTaskFailedEventAttributes {
                        scheduled_event_id: task.scheduled_event_id,
                        started_event_id: task.started_event_id,
                        cause: request.cause,
                        failure: request.failure,
                        identity: request.identity,
                        ..Default::default()
                    },
                ),
            );
            Ok(())
        })
        .await
    }

    /// Forgets the sticky queue of a workflow's run.
    pub async fn reset_sticky_task_queue(
        &self,
        namespace: &str,
        execution: &WorkflowExecution,
    ) -> Result<(), EngineError> {
        self.transact(|state| {
            let key = state.resolve(namespace, execution)?;
            let (run, context) = state.run_mut(&key).expect("resolved");
            reset_sticky(run, context);
            Ok(())
        })
        .await
    }

    /// A worker with this sticky queue stopped: its runs go back to the normal queue.
    pub async fn shutdown_worker(
        &self,
        namespace: &str,
        sticky_queue: &str,
    ) -> Result<(), EngineError> {
        if sticky_queue.is_empty() {
            return Ok(());
        }
        self.transact(|state| {
            let keys: Vec<RunKey> = state
                .runs
                .iter()
                .filter(|(k, r)| {
                    k.0 == namespace && r.sticky.as_ref().is_some_and(|s| s.queue == sticky_queue)
                })
                .map(|(k, _)| k.clone())
                .collect();
            for key in keys {
                let (run, context) = state.run_mut(&key).expect("listed");
                reset_sticky(run, context);
            }
            Ok(())
        })
        .await
    }

    /// The pollers seen on a task queue in the last few minutes.
    pub fn pollers(&self, namespace: &str, queue: &str, activity: bool) -> Vec<PollerInfo> {
        let state = self.lock();
        let kind = if activity {
            PollKind::Activity
        } else {
            PollKind::Workflow
        };
        let now = state.context.clock.now();
        state.context.matching.pollers(namespace, queue, kind, now)
    }
}

/// Refused commands, as Temporal treats them: the task stays as it is, fails, or fails and
/// the run is terminated.
fn refuse_commands(
    run: &mut Execution,
    context: &mut Context,
    task: &WorkflowTaskState,
    identity: &str,
    bad: &commands::BadCommand,
) {
    let cause = match bad.refusal {
        commands::Refusal::Request => return,
        commands::Refusal::FailTask(cause) | commands::Refusal::Terminate(cause) => cause,
    };
    let failed =
        Attributes::WorkflowTaskFailedEventAttributes(h::WorkflowTaskFailedEventAttributes {
            scheduled_event_id: task.scheduled_event_id,
            started_event_id: task.started_event_id,
            cause: cause as i32,
            failure: Some(Failure {
                message: bad.full_message(),
                source: "Server".into(),
                ..Default::default()
            }),
            identity: identity.to_string(),
            ..Default::default()
        });
    if matches!(bad.refusal, commands::Refusal::FailTask(_)) {
        retry_workflow_task(run, context, failed);
        return;
    }
    run.append(context, failed);
    run.workflow_task = None;
    run.flush_buffered(context);
    terminate_run(run, context, &bad.message, None, "history-service");
}

fn complete_locked(
    state: &mut State,
    token: &TaskToken,
    mut request: ws::RespondWorkflowTaskCompletedRequest,
) -> Result<ws::RespondWorkflowTaskCompletedResponse, EngineError> {
    let key = token.key();
    let (run, context) = state
        .run_mut(&key)
        .ok_or_else(|| EngineError::not_found("workflow execution not found"))?;
    let task = current_task(run, token)?;
    queries::answer(run, context, &request.query_results);
    if let Err(bad) = commands::validate(run, &mut request.commands, &request.messages) {
        refuse_commands(run, context, &task, &request.identity, &bad);
        return Err(bad.error());
    }
    let closes = request.commands.iter().any(commands::closes_run);
    if closes && !run.buffered.is_empty() {
        // The run cannot close over events its code has not seen: the task fails as
        // UNHANDLED_COMMAND and a new one carries the events.
        retry_workflow_task(
            run,
            context,
            Attributes::WorkflowTaskFailedEventAttributes(h::WorkflowTaskFailedEventAttributes {
                scheduled_event_id: task.scheduled_event_id,
                started_event_id: task.started_event_id,
                cause: WorkflowTaskFailedCause::UnhandledCommand as i32,
                identity: request.identity.clone(),
                ..Default::default()
            }),
        );
        // Not a failed attempt of the workflow's code: the next one counts from 1.
        if let Some(next) = run.workflow_task.as_mut() {
            next.attempt = 1;
            next.not_before = None;
        }
        return Ok(ws::RespondWorkflowTaskCompletedResponse::default());
    }
    if discardable(run, &request) {
        return Ok(discard_speculative(run, context, &request));
    }
    let completed = run.append(
        context,
        Attributes::WorkflowTaskCompletedEventAttributes(h::WorkflowTaskCompletedEventAttributes {
            scheduled_event_id: task.scheduled_event_id,
            started_event_id: task.started_event_id,
            identity: request.identity.clone(),
            sdk_metadata: request.sdk_metadata.clone(),
            metering_metadata: request.metering_metadata,
            ..Default::default()
        }),
    );
    run.workflow_task = None;
    run.previous_started_event_id = task.started_event_id;
    run.sticky = sticky_of(&request);
    let mut eager = Vec::new();
    let mut answered = Vec::new();
    for command in request.commands {
        // A protocol message command places the message's events among the commands'.
        if let Some(C::ProtocolMessageCommandAttributes(a)) = &command.attributes {
            let (run, context) = state.run_mut(&key).expect("present");
            if let Some(message) = request.messages.iter().find(|m| m.id == a.message_id)
                && run.is_running()
            {
                updates::apply(run, context, message);
                answered.push(message.id.clone());
            }
            continue;
        }
        commands::apply(
            state,
            &key,
            completed,
            command,
            &request.identity,
            &mut eager,
        );
    }
    let (run, context) = state.run_mut(&key).expect("present");
    if run.is_running() {
        // Messages no command placed come after the commands, in the order sent.
        for message in &request.messages {
            if !answered.contains(&message.id) {
                updates::apply(run, context, message);
            }
        }
        updates::reject_unanswered(run);
        let new_events = !run.buffered.is_empty();
        run.flush_buffered(context);
        if new_events || request.force_create_new_workflow_task {
            schedule_workflow_task(run, context, 1);
        } else if run.updates.has_unsent() {
            schedule_speculative_task(run, context);
        }
    }
    queries::after_task(run, context);
    Ok(ws::RespondWorkflowTaskCompletedResponse {
        activity_tasks: eager,
        ..Default::default()
    })
}

/// The sticky queue a completed task's worker asks for, if any.
fn sticky_of(request: &ws::RespondWorkflowTaskCompletedRequest) -> Option<StickyState> {
    request
        .sticky_attributes
        .as_ref()
        .and_then(|s| s.worker_task_queue.as_ref().map(|q| (q, s)))
        .filter(|(q, _)| !q.name.is_empty())
        .map(|(q, s)| StickyState {
            queue: q.name.clone(),
            schedule_to_start: s.schedule_to_start_timeout,
        })
}

/// Whether a completion leaves no trace: a speculative task answered with nothing but
/// update rejections, while nothing else happened to the run. As Temporal does, a task
/// that carried events newer than the last completed task is kept, unless the worker says
/// it can take those events again.
fn discardable(run: &Execution, request: &ws::RespondWorkflowTaskCompletedRequest) -> bool {
    let takes_events_again = request
        .capabilities
        .as_ref()
        .is_some_and(|c| c.discard_speculative_workflow_task_with_events);
    // The history ends with the last completed task's completion event.
    let no_new_events = run.history.len() as i64 <= run.previous_started_event_id + 1;
    run.speculative.is_some()
        && (no_new_events || takes_events_again)
        && request.commands.is_empty()
        && !request.force_create_new_workflow_task
        && run.buffered.is_empty()
        && request
            .messages
            .iter()
            .all(|m| updates::Answer::decode(m).is_ok_and(|a| a.is_rejection()))
}

/// Drops a speculative task and its events; the worker resets its history to the last
/// task it completed.
fn discard_speculative(
    run: &mut Execution,
    context: &mut Context,
    request: &ws::RespondWorkflowTaskCompletedRequest,
) -> ws::RespondWorkflowTaskCompletedResponse {
    run.speculative = None;
    run.workflow_task = None;
    run.sticky = sticky_of(request);
    for message in &request.messages {
        updates::apply(run, context, message);
    }
    updates::reject_unanswered(run);
    if run.updates.has_unsent() {
        schedule_speculative_task(run, context);
    }
    queries::after_task(run, context);
    ws::RespondWorkflowTaskCompletedResponse {
        reset_history_event_id: run.previous_started_event_id,
        ..Default::default()
    }
}
