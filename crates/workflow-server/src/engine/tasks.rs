//! Workflow and activity tasks: queues with long polls, task tokens, and what a completed or
//! failed task writes to history.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use temporalio_protos::temporal::api::command::v1::{Command, command::Attributes as C};
use temporalio_protos::temporal::api::common::v1::{ActivityType, Payloads, WorkflowType};
use temporalio_protos::temporal::api::enums::v1::{
    RetryState, WorkflowExecutionStatus, WorkflowTaskFailedCause,
};
use temporalio_protos::temporal::api::failure::v1::Failure;
use temporalio_protos::temporal::api::history::v1::history_event::Attributes;
use temporalio_protos::temporal::api::history::v1::{self as h, History};
use temporalio_protos::temporal::api::workflowservice::v1 as ws;
use tokio::sync::Notify;
use tonic::Status;

use super::events::{EventBuilder, normal_queue, task_scheduled};
use super::{Engine, Execution, State};
use crate::status;

/// A workflow task scheduled, and started once a poller took it.
#[derive(Debug, Clone)]
pub(crate) struct WorkflowTask {
    scheduled_event_id: i64,
    started_event_id: Option<i64>,
    attempt: i32,
}

/// An activity scheduled and not closed.
#[derive(Debug, Clone)]
pub(crate) struct PendingActivity {
    activity_id: String,
    activity_type: String,
    input: Option<Payloads>,
    scheduled_time: SystemTime,
    schedule_to_close: Option<prost_types::Duration>,
    start_to_close: Option<prost_types::Duration>,
    heartbeat: Option<prost_types::Duration>,
    attempt: i32,
    started_identity: Option<String>,
}

/// What a workflow task's commands start outside history: eager activity tasks to hand
/// back, timers to arm.
struct Effects<'a> {
    eager: &'a mut Vec<ws::PollActivityTaskQueueResponse>,
    timers: &'a mut Vec<ArmTimer>,
}

/// A timer to arm once the engine's lock is released.
pub(crate) struct ArmTimer {
    run_id: String,
    timer_id: String,
    started_event_id: i64,
    after: Duration,
}

/// Identifies a task to the worker that answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskToken {
    namespace: String,
    run_id: String,
    scheduled_event_id: i64,
    attempt: i32,
}

impl TaskToken {
    fn encode(&self) -> Vec<u8> {
        format!(
            "{}\n{}\n{}\n{}",
            self.namespace, self.run_id, self.scheduled_event_id, self.attempt
        )
        .into_bytes()
    }

    fn decode(bytes: &[u8]) -> Result<Self, Status> {
        let malformed = || status::invalid_argument("task_token is malformed");
        let text = std::str::from_utf8(bytes).map_err(|_| malformed())?;
        let mut parts = text.split('\n');
        let (Some(namespace), Some(run_id), Some(scheduled), Some(attempt), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(malformed());
        };
        Ok(Self {
            namespace: namespace.to_string(),
            run_id: run_id.to_string(),
            scheduled_event_id: scheduled.parse().map_err(|_| malformed())?,
            attempt: attempt.parse().map_err(|_| malformed())?,
        })
    }
}

/// One task queue: runs with a workflow task to hand out, activities to hand out.
#[derive(Debug, Default)]
struct Queue {
    workflow: VecDeque<String>,
    activity: VecDeque<(String, i64)>,
    workflow_ready: Arc<Notify>,
    activity_ready: Arc<Notify>,
}

/// The task queues, by (namespace, name).
#[derive(Debug, Default)]
pub(crate) struct Queues(HashMap<(String, String), Queue>);

impl Queues {
    fn queue(&mut self, namespace: &str, name: &str) -> &mut Queue {
        self.0
            .entry((namespace.to_string(), name.to_string()))
            .or_default()
    }
}

pub(crate) fn schedule_workflow_task(
    namespace: &str,
    run: &mut Execution,
    events: &mut EventBuilder,
    queues: &mut Queues,
    attempt: i32,
) {
    if run.workflow_task.is_some() || !run.is_running() {
        return;
    }
    let scheduled_event_id = run.append(events, task_scheduled(run, attempt));
    run.workflow_task = Some(WorkflowTask {
        scheduled_event_id,
        started_event_id: None,
        attempt,
    });
    let queue = queues.queue(namespace, &run.task_queue);
    queue.workflow.push_back(run.run_id.clone());
    queue.workflow_ready.notify_one();
}

fn enqueue_activity(
    namespace: &str,
    run_id: &str,
    scheduled: i64,
    task_queue: &str,
    queues: &mut Queues,
) {
    let queue = queues.queue(namespace, task_queue);
    queue.activity.push_back((run_id.to_string(), scheduled));
    queue.activity_ready.notify_one();
}

fn run_mut<'a>(state: &'a mut State, token: &TaskToken) -> Result<&'a mut Execution, Status> {
    state
        .runs
        .get_mut(&(token.namespace.clone(), token.run_id.clone()))
        .ok_or_else(|| Status::not_found("workflow execution not found"))
}

fn activity_task(
    namespace: &str,
    run: &Execution,
    scheduled: i64,
    activity: &PendingActivity,
) -> ws::PollActivityTaskQueueResponse {
    ws::PollActivityTaskQueueResponse {
        task_token: TaskToken {
            namespace: namespace.to_string(),
            run_id: run.run_id.clone(),
            scheduled_event_id: scheduled,
            attempt: activity.attempt,
        }
        .encode(),
        workflow_namespace: namespace.to_string(),
        workflow_type: Some(WorkflowType {
            name: run.workflow_type.clone(),
        }),
        workflow_execution: Some(run.execution()),
        activity_type: Some(ActivityType {
            name: activity.activity_type.clone(),
        }),
        activity_id: activity.activity_id.clone(),
        input: activity.input.clone(),
        scheduled_time: Some(activity.scheduled_time.into()),
        current_attempt_scheduled_time: Some(activity.scheduled_time.into()),
        started_time: Some(SystemTime::now().into()),
        attempt: activity.attempt,
        schedule_to_close_timeout: activity.schedule_to_close,
        start_to_close_timeout: activity.start_to_close,
        heartbeat_timeout: activity.heartbeat,
        ..Default::default()
    }
}

impl Engine {
    /// Hands out a workflow task of `queue`, waiting up to `budget` for one.
    pub async fn poll_workflow_task(
        &self,
        namespace: &str,
        queue: &str,
        identity: &str,
        budget: Duration,
    ) -> ws::PollWorkflowTaskQueueResponse {
        let deadline = tokio::time::Instant::now() + budget;
        loop {
            let ready = {
                let mut state = self.lock();
                let State {
                    runs,
                    events,
                    queues,
                    ..
                } = &mut *state;
                let q = queues.queue(namespace, queue);
                while let Some(run_id) = q.workflow.pop_front() {
                    let Some(run) = runs.get_mut(&(namespace.to_string(), run_id)) else {
                        continue;
                    };
                    let Some(task) = run
                        .workflow_task
                        .clone()
                        .filter(|t| t.started_event_id.is_none())
                    else {
                        continue;
                    };
                    let started = run.append(
                        events,
                        Attributes::WorkflowTaskStartedEventAttributes(
                            h::WorkflowTaskStartedEventAttributes {
                                scheduled_event_id: task.scheduled_event_id,
                                identity: identity.to_string(),
                                request_id: uuid::Uuid::new_v4().to_string(),
                                ..Default::default()
                            },
                        ),
                    );
                    run.workflow_task = Some(WorkflowTask {
                        started_event_id: Some(started),
                        ..task.clone()
                    });
                    return ws::PollWorkflowTaskQueueResponse {
                        task_token: TaskToken {
                            namespace: namespace.to_string(),
                            run_id: run.run_id.clone(),
                            scheduled_event_id: task.scheduled_event_id,
                            attempt: task.attempt,
                        }
                        .encode(),
                        workflow_execution: Some(run.execution()),
                        workflow_type: Some(WorkflowType {
                            name: run.workflow_type.clone(),
                        }),
                        previous_started_event_id: run.previous_started_event_id,
                        started_event_id: started,
                        attempt: task.attempt,
                        history: Some(History {
                            events: run.history.clone(),
                        }),
                        workflow_execution_task_queue: Some(normal_queue(&run.task_queue)),
                        scheduled_time: run.history[task.scheduled_event_id as usize - 1]
                            .event_time,
                        started_time: run.history[started as usize - 1].event_time,
                        ..Default::default()
                    };
                }
                q.workflow_ready.clone()
            };
            if tokio::time::timeout_at(deadline, ready.notified())
                .await
                .is_err()
            {
                return ws::PollWorkflowTaskQueueResponse::default();
            }
        }
    }

    /// Hands out an activity task of `queue`, waiting up to `budget` for one.
    pub async fn poll_activity_task(
        &self,
        namespace: &str,
        queue: &str,
        identity: &str,
        budget: Duration,
    ) -> ws::PollActivityTaskQueueResponse {
        let deadline = tokio::time::Instant::now() + budget;
        loop {
            let ready = {
                let mut state = self.lock();
                let State { runs, queues, .. } = &mut *state;
                let q = queues.queue(namespace, queue);
                while let Some((run_id, scheduled)) = q.activity.pop_front() {
                    let Some(run) = runs.get_mut(&(namespace.to_string(), run_id)) else {
                        continue;
                    };
                    let Some(activity) = run.activities.get_mut(&scheduled) else {
                        continue;
                    };
                    activity.started_identity = Some(identity.to_string());
                    let activity = activity.clone();
                    return activity_task(namespace, run, scheduled, &activity);
                }
                q.activity_ready.clone()
            };
            if tokio::time::timeout_at(deadline, ready.notified())
                .await
                .is_err()
            {
                return ws::PollActivityTaskQueueResponse::default();
            }
        }
    }

    /// Records a completed workflow task and carries out its commands.
    pub fn complete_workflow_task(
        self: &Arc<Self>,
        request: ws::RespondWorkflowTaskCompletedRequest,
    ) -> Result<ws::RespondWorkflowTaskCompletedResponse, Status> {
        let namespace = TaskToken::decode(&request.task_token)?.namespace;
        let mut timers = Vec::new();
        let response = self.complete_workflow_task_locked(request, &mut timers)?;
        for timer in timers {
            let engine = Arc::clone(self);
            let namespace = namespace.clone();
            tokio::spawn(async move {
                tokio::time::sleep(timer.after).await;
                engine.fire_timer(
                    &namespace,
                    &timer.run_id,
                    &timer.timer_id,
                    timer.started_event_id,
                );
            });
        }
        Ok(response)
    }

    /// Writes a timer's firing, unless it was cancelled or its run closed meanwhile.
    fn fire_timer(&self, namespace: &str, run_id: &str, timer_id: &str, started_event_id: i64) {
        let mut state = self.lock();
        let State {
            runs,
            events,
            queues,
            ..
        } = &mut *state;
        let Some(run) = runs.get_mut(&(namespace.to_string(), run_id.to_string())) else {
            return;
        };
        if !run.is_running() || run.timers.get(timer_id) != Some(&started_event_id) {
            return;
        }
        run.timers.remove(timer_id);
        let fired = Attributes::TimerFiredEventAttributes(h::TimerFiredEventAttributes {
            timer_id: timer_id.to_string(),
            started_event_id,
        });
        let task_running = run
            .workflow_task
            .as_ref()
            .is_some_and(|t| t.started_event_id.is_some());
        if task_running {
            run.buffered.push(fired);
        } else {
            run.append(events, fired);
            schedule_workflow_task(namespace, run, events, queues, 1);
        }
    }

    fn complete_workflow_task_locked(
        &self,
        request: ws::RespondWorkflowTaskCompletedRequest,
        timers: &mut Vec<ArmTimer>,
    ) -> Result<ws::RespondWorkflowTaskCompletedResponse, Status> {
        let token = TaskToken::decode(&request.task_token)?;
        let mut state = self.lock();
        let State {
            runs,
            events,
            queues,
            ..
        } = &mut *state;
        let run = runs
            .get_mut(&(token.namespace.clone(), token.run_id.clone()))
            .ok_or_else(|| Status::not_found("workflow execution not found"))?;
        let task = current_task(run, &token)?;
        let started = task.started_event_id.expect("checked");
        let closes = request.commands.iter().any(|c| {
            matches!(
                c.attributes,
                Some(C::CompleteWorkflowExecutionCommandAttributes(_))
                    | Some(C::FailWorkflowExecutionCommandAttributes(_))
                    | Some(C::CancelWorkflowExecutionCommandAttributes(_))
                    | Some(C::ContinueAsNewWorkflowExecutionCommandAttributes(_))
            )
        });
        if closes && !run.buffered.is_empty() {
            // The run cannot close over events its code has not seen: as Temporal does, the
            // task fails as UNHANDLED_COMMAND and a new one carries the events.
            run.append(
                events,
                Attributes::WorkflowTaskFailedEventAttributes(
                    h::WorkflowTaskFailedEventAttributes {
                        scheduled_event_id: task.scheduled_event_id,
                        started_event_id: started,
                        cause: WorkflowTaskFailedCause::UnhandledCommand as i32,
                        identity: request.identity.clone(),
                        ..Default::default()
                    },
                ),
            );
            run.workflow_task = None;
            flush_buffered(run, events);
            schedule_workflow_task(&token.namespace, run, events, queues, 1);
            return Ok(ws::RespondWorkflowTaskCompletedResponse::default());
        }
        let completed = run.append(
            events,
            Attributes::WorkflowTaskCompletedEventAttributes(
                h::WorkflowTaskCompletedEventAttributes {
                    scheduled_event_id: task.scheduled_event_id,
                    started_event_id: started,
                    identity: request.identity.clone(),
                    ..Default::default()
                },
            ),
        );
        run.workflow_task = None;
        run.previous_started_event_id = started;
        let mut eager = Vec::new();
        for command in request.commands {
            apply_command(
                &token.namespace,
                run,
                events,
                queues,
                completed,
                command,
                &mut Effects {
                    eager: &mut eager,
                    timers: &mut *timers,
                },
            )?;
        }
        if run.is_running() && !run.buffered.is_empty() {
            flush_buffered(run, events);
            schedule_workflow_task(&token.namespace, run, events, queues, 1);
        }
        Ok(ws::RespondWorkflowTaskCompletedResponse {
            activity_tasks: eager,
            ..Default::default()
        })
    }

    /// Records a failed workflow task and schedules the next attempt.
    pub fn fail_workflow_task(
        &self,
        request: ws::RespondWorkflowTaskFailedRequest,
    ) -> Result<(), Status> {
        let token = TaskToken::decode(&request.task_token)?;
        let mut state = self.lock();
        let State {
            runs,
            events,
            queues,
            ..
        } = &mut *state;
        let run = runs
            .get_mut(&(token.namespace.clone(), token.run_id.clone()))
            .ok_or_else(|| Status::not_found("workflow execution not found"))?;
        let task = current_task(run, &token)?;
        run.append(
            events,
            Attributes::WorkflowTaskFailedEventAttributes(h::WorkflowTaskFailedEventAttributes {
                scheduled_event_id: task.scheduled_event_id,
                started_event_id: task.started_event_id.unwrap_or_default(),
                cause: request.cause,
                failure: request.failure,
                identity: request.identity,
                ..Default::default()
            }),
        );
        run.workflow_task = None;
        flush_buffered(run, events);
        schedule_workflow_task(&token.namespace, run, events, queues, task.attempt + 1);
        Ok(())
    }

    /// Records an activity's result and schedules a workflow task to see it.
    pub fn complete_activity(
        &self,
        task_token: &[u8],
        result: Option<Payloads>,
        identity: &str,
    ) -> Result<(), Status> {
        self.close_activity(task_token, identity, |scheduled, started| {
            Attributes::ActivityTaskCompletedEventAttributes(
                h::ActivityTaskCompletedEventAttributes {
                    result,
                    scheduled_event_id: scheduled,
                    started_event_id: started,
                    identity: identity.to_string(),
                    ..Default::default()
                },
            )
        })
    }

    /// Records an activity's failure (retries come with the timer engine).
    pub fn fail_activity(
        &self,
        task_token: &[u8],
        failure: Option<Failure>,
        identity: &str,
    ) -> Result<(), Status> {
        self.close_activity(task_token, identity, |scheduled, started| {
            Attributes::ActivityTaskFailedEventAttributes(h::ActivityTaskFailedEventAttributes {
                failure,
                scheduled_event_id: scheduled,
                started_event_id: started,
                identity: identity.to_string(),
                retry_state: RetryState::NonRetryableFailure as i32,
                ..Default::default()
            })
        })
    }

    fn close_activity(
        &self,
        task_token: &[u8],
        identity: &str,
        closed: impl FnOnce(i64, i64) -> Attributes,
    ) -> Result<(), Status> {
        let token = TaskToken::decode(task_token)?;
        let mut state = self.lock();
        run_mut(&mut state, &token)?;
        let State {
            runs,
            events,
            queues,
            ..
        } = &mut *state;
        let run = runs
            .get_mut(&(token.namespace.clone(), token.run_id.clone()))
            .expect("checked above");
        let activity = run
            .activities
            .get(&token.scheduled_event_id)
            .filter(|a| a.attempt == token.attempt)
            .cloned()
            .ok_or_else(|| {
                Status::not_found(
                    "activity task not found (it completed, timed out or was retried)",
                )
            })?;
        let started = run.append(
            events,
            Attributes::ActivityTaskStartedEventAttributes(h::ActivityTaskStartedEventAttributes {
                scheduled_event_id: token.scheduled_event_id,
                identity: activity
                    .started_identity
                    .clone()
                    .unwrap_or_else(|| identity.to_string()),
                request_id: uuid::Uuid::new_v4().to_string(),
                attempt: activity.attempt,
                ..Default::default()
            }),
        );
        run.append(events, closed(token.scheduled_event_id, started));
        run.activities.remove(&token.scheduled_event_id);
        schedule_workflow_task(&token.namespace, run, events, queues, 1);
        Ok(())
    }
}

/// Writes the events that arrived while a workflow task ran.
fn flush_buffered(run: &mut Execution, events: &mut EventBuilder) {
    for attributes in std::mem::take(&mut run.buffered) {
        run.append(events, attributes);
    }
}

impl Engine {
    /// Delivers a signal: written at once, or after the running workflow task.
    pub fn signal(
        &self,
        namespace: &str,
        execution: &temporalio_protos::temporal::api::common::v1::WorkflowExecution,
        request: &ws::SignalWorkflowExecutionRequest,
    ) -> Result<(), Status> {
        if request.signal_name.is_empty() {
            return Err(status::invalid_argument(
                "SignalWorkflowExecutionRequest.signal_name is required",
            ));
        }
        let mut state = self.lock();
        let run_id = super::resolve(&state, namespace, execution)?;
        let State {
            runs,
            events,
            queues,
            ..
        } = &mut *state;
        let run = runs
            .get_mut(&(namespace.to_string(), run_id))
            .expect("resolved");
        if !run.is_running() {
            return Err(Status::not_found("workflow execution already completed"));
        }
        let signaled = Attributes::WorkflowExecutionSignaledEventAttributes(
            h::WorkflowExecutionSignaledEventAttributes {
                signal_name: request.signal_name.clone(),
                input: request.input.clone(),
                identity: request.identity.clone(),
                header: request.header.clone(),
                ..Default::default()
            },
        );
        let task_running = run
            .workflow_task
            .as_ref()
            .is_some_and(|t| t.started_event_id.is_some());
        if task_running {
            run.buffered.push(signaled);
        } else {
            run.append(events, signaled);
            schedule_workflow_task(namespace, run, events, queues, 1);
        }
        Ok(())
    }
}

fn current_task(run: &Execution, token: &TaskToken) -> Result<WorkflowTask, Status> {
    run.workflow_task
        .clone()
        .filter(|t| {
            t.scheduled_event_id == token.scheduled_event_id
                && t.attempt == token.attempt
                && t.started_event_id.is_some()
        })
        .ok_or_else(|| {
            Status::not_found("workflow task not found (it timed out or was already answered)")
        })
}

fn apply_command(
    namespace: &str,
    run: &mut Execution,
    events: &mut EventBuilder,
    queues: &mut Queues,
    completed: i64,
    command: Command,
    effects: &mut Effects<'_>,
) -> Result<(), Status> {
    let Effects { eager, timers } = effects;
    match command.attributes {
        Some(C::StartTimerCommandAttributes(a)) => {
            if a.timer_id.is_empty() {
                return Err(status::invalid_argument(
                    "StartTimerCommandAttributes.timer_id is required",
                ));
            }
            if run.timers.contains_key(&a.timer_id) {
                return Err(status::invalid_argument(format!(
                    "StartTimerCommandAttributes: timer {} is already running",
                    a.timer_id
                )));
            }
            let after = a
                .start_to_fire_timeout
                .and_then(|d| Duration::try_from(d).ok())
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    status::invalid_argument(
                        "StartTimerCommandAttributes.start_to_fire_timeout must be positive",
                    )
                })?;
            let started = run.append(
                events,
                Attributes::TimerStartedEventAttributes(h::TimerStartedEventAttributes {
                    timer_id: a.timer_id.clone(),
                    start_to_fire_timeout: a.start_to_fire_timeout,
                    workflow_task_completed_event_id: completed,
                }),
            );
            run.timers.insert(a.timer_id.clone(), started);
            timers.push(ArmTimer {
                run_id: run.run_id.clone(),
                timer_id: a.timer_id,
                started_event_id: started,
                after,
            });
        }
        Some(C::CancelTimerCommandAttributes(a)) => {
            let started = run.timers.remove(&a.timer_id).ok_or_else(|| {
                status::invalid_argument(format!(
                    "CancelTimerCommandAttributes: timer {} is not running",
                    a.timer_id
                ))
            })?;
            run.append(
                events,
                Attributes::TimerCanceledEventAttributes(h::TimerCanceledEventAttributes {
                    timer_id: a.timer_id,
                    started_event_id: started,
                    workflow_task_completed_event_id: completed,
                    ..Default::default()
                }),
            );
        }
        Some(C::ScheduleActivityTaskCommandAttributes(a)) => {
            let activity_type = a.activity_type.clone().map(|t| t.name).unwrap_or_default();
            if a.activity_id.is_empty() || activity_type.is_empty() {
                return Err(status::invalid_argument(
                    "ScheduleActivityTaskCommandAttributes needs activity_id and activity_type",
                ));
            }
            if a.schedule_to_close_timeout.is_none() && a.start_to_close_timeout.is_none() {
                return Err(status::invalid_argument(
                    "ScheduleActivityTaskCommandAttributes needs schedule_to_close_timeout or start_to_close_timeout",
                ));
            }
            let task_queue = a
                .task_queue
                .as_ref()
                .map(|q| q.name.clone())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| run.task_queue.clone());
            // As Temporal does: a missing start-to-close is the schedule-to-close.
            let start_to_close = a.start_to_close_timeout.or(a.schedule_to_close_timeout);
            let scheduled = run.append(
                events,
                Attributes::ActivityTaskScheduledEventAttributes(
                    h::ActivityTaskScheduledEventAttributes {
                        activity_id: a.activity_id.clone(),
                        activity_type: a.activity_type.clone(),
                        task_queue: Some(normal_queue(&task_queue)),
                        header: a.header.clone(),
                        input: a.input.clone(),
                        schedule_to_close_timeout: a.schedule_to_close_timeout,
                        schedule_to_start_timeout: a.schedule_to_start_timeout,
                        start_to_close_timeout: start_to_close,
                        heartbeat_timeout: a.heartbeat_timeout,
                        workflow_task_completed_event_id: completed,
                        retry_policy: a.retry_policy.clone(),
                        ..Default::default()
                    },
                ),
            );
            let mut activity = PendingActivity {
                activity_id: a.activity_id,
                activity_type,
                input: a.input,
                scheduled_time: SystemTime::now(),
                schedule_to_close: a.schedule_to_close_timeout,
                start_to_close,
                heartbeat: a.heartbeat_timeout,
                attempt: 1,
                started_identity: None,
            };
            if a.request_eager_execution && task_queue == run.task_queue {
                activity.started_identity = Some("eager".into());
                eager.push(activity_task(namespace, run, scheduled, &activity));
                run.activities.insert(scheduled, activity);
            } else {
                run.activities.insert(scheduled, activity);
                enqueue_activity(namespace, &run.run_id, scheduled, &task_queue, queues);
            }
        }
        Some(C::CompleteWorkflowExecutionCommandAttributes(a)) => {
            run.append(
                events,
                Attributes::WorkflowExecutionCompletedEventAttributes(
                    h::WorkflowExecutionCompletedEventAttributes {
                        result: a.result,
                        workflow_task_completed_event_id: completed,
                        ..Default::default()
                    },
                ),
            );
            close(run, WorkflowExecutionStatus::Completed);
        }
        Some(C::FailWorkflowExecutionCommandAttributes(a)) => {
            run.append(
                events,
                Attributes::WorkflowExecutionFailedEventAttributes(
                    h::WorkflowExecutionFailedEventAttributes {
                        failure: a.failure,
                        retry_state: RetryState::RetryPolicyNotSet as i32,
                        workflow_task_completed_event_id: completed,
                        ..Default::default()
                    },
                ),
            );
            close(run, WorkflowExecutionStatus::Failed);
        }
        other => {
            let name = other.map_or("an empty command".to_string(), |c| {
                format!("{c:?}")
                    .split('(')
                    .next()
                    .unwrap_or_default()
                    .to_string()
            });
            return Err(Status::unimplemented(format!(
                "command {name} is not implemented by this server yet"
            )));
        }
    }
    Ok(())
}

fn close(run: &mut Execution, status: WorkflowExecutionStatus) {
    run.status = status;
    run.close_time = Some(SystemTime::now());
    run.workflow_task = None;
    run.activities.clear();
    run.timers.clear();
}
