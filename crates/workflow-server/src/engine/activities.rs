//! Activity tasks: scheduling, polls, heartbeats, the four timeouts, retries with backoff
//! per retry policy, completion, failure and cancellation.

use std::time::{Duration, SystemTime};

use temporalio_protos::temporal::api::command::v1::ScheduleActivityTaskCommandAttributes;
use temporalio_protos::temporal::api::common::v1::{
    ActivityType, Payloads, RetryPolicy, WorkflowExecution, WorkflowType,
};
use temporalio_protos::temporal::api::enums::v1::{RetryState, TimeoutType};
use temporalio_protos::temporal::api::failure::v1::{Failure, TimeoutFailureInfo, failure};
use temporalio_protos::temporal::api::history::v1::history_event::Attributes;
use temporalio_protos::temporal::api::history::v1::{self as h};
use temporalio_protos::temporal::api::workflowservice::v1 as ws;

use super::events::normal_queue;
use super::record::{ActivityState, duration, proto_duration, stamp, time};
use super::tokens::{TaskKind, TaskToken};
use super::{Context, Engine, EngineError, Execution, RunKey, State};
use crate::matching::{self, ActivityRef, PollKind};

/// Temporal's default activity retry policy: 1 s, doubling, at most 100 s apart, forever.
pub(crate) fn default_retry_policy(given: Option<RetryPolicy>) -> RetryPolicy {
    let mut policy = given.unwrap_or_default();
    if duration(&policy.initial_interval).is_none() {
        policy.initial_interval = proto_duration(Duration::from_secs(1));
    }
    if policy.backoff_coefficient < 1.0 {
        policy.backoff_coefficient = 2.0;
    }
    if duration(&policy.maximum_interval).is_none() {
        let initial = duration(&policy.initial_interval).unwrap_or(Duration::from_secs(1));
        policy.maximum_interval = proto_duration(initial * 100);
    }
    policy
}

/// Schedules an activity: writes its scheduled event, and queues it or hands it back for
/// eager execution.
pub(crate) fn schedule(
    run: &mut Execution,
    context: &mut Context,
    completed: i64,
    a: ScheduleActivityTaskCommandAttributes,
    identity: &str,
    eager: &mut Vec<ws::PollActivityTaskQueueResponse>,
) {
    let task_queue = a
        .task_queue
        .as_ref()
        .map(|q| q.name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| run.task_queue.clone());
    // As Temporal does: a missing start-to-close is the schedule-to-close.
    let start_to_close = a.start_to_close_timeout.or(a.schedule_to_close_timeout);
    let retry_policy = default_retry_policy(a.retry_policy);
    let scheduled = run.append(
        context,
        Attributes::ActivityTaskScheduledEventAttributes(h::ActivityTaskScheduledEventAttributes {
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
            retry_policy: Some(retry_policy.clone()),
            ..Default::default()
        }),
    );
    let now = context.clock.now();
    let mut activity = ActivityState {
        activity_id: a.activity_id,
        activity_type: a.activity_type.map(|t| t.name).unwrap_or_default(),
        input: a.input,
        header: a.header,
        task_queue: task_queue.clone(),
        scheduled_time: stamp(now),
        current_attempt_scheduled_time: stamp(now),
        schedule_to_close: a.schedule_to_close_timeout,
        schedule_to_start: a.schedule_to_start_timeout,
        start_to_close,
        heartbeat: a.heartbeat_timeout,
        retry_policy: Some(retry_policy),
        attempt: 1,
        ..Default::default()
    };
    if a.request_eager_execution && task_queue == run.state.task_queue {
        activity.started_time = stamp(now);
        activity.started_identity = identity.to_string();
        eager.push(activity_task(run, context, scheduled, &activity, now));
        run.activities.insert(scheduled, activity);
    } else {
        run.activities.insert(scheduled, activity);
        enqueue(run, context, scheduled);
    }
}

fn enqueue(run: &Execution, context: &mut Context, scheduled: i64) {
    let Some(activity) = run.activities.get(&scheduled) else {
        return;
    };
    context.matching.offer_activity_task(
        &run.namespace,
        &activity.task_queue,
        ActivityRef {
            run_id: run.run_id.clone(),
            scheduled_event_id: scheduled,
        },
    );
}

/// After a restart: activities not held by a worker wait on their queue again. Starts are
/// not stored (a worker that still holds one may still answer it), so an activity whose
/// worker died with the server is offered again.
pub(crate) fn requeue_after_restart(run: &mut Execution, context: &mut Context) {
    let waiting: Vec<i64> = run
        .activities
        .iter()
        .filter(|(_, a)| a.retry_at.is_none() && a.started_time.is_none())
        .map(|(id, _)| *id)
        .collect();
    for id in waiting {
        enqueue(run, context, id);
    }
}

fn activity_task(
    run: &Execution,
    context: &Context,
    scheduled: i64,
    activity: &ActivityState,
    now: SystemTime,
) -> ws::PollActivityTaskQueueResponse {
    ws::PollActivityTaskQueueResponse {
        task_token: context.tokens.seal_task(
            TaskKind::Activity,
            &TaskToken {
                namespace: run.namespace.clone(),
                run_id: run.run_id.clone(),
                scheduled_event_id: scheduled,
                attempt: activity.attempt,
            },
        ),
        workflow_namespace: run.namespace.clone(),
        workflow_type: Some(WorkflowType {
            name: run.workflow_type.clone(),
        }),
        workflow_execution: Some(run.execution()),
        activity_type: Some(ActivityType {
            name: activity.activity_type.clone(),
        }),
        activity_id: activity.activity_id.clone(),
        header: activity.header.clone(),
        input: activity.input.clone(),
        heartbeat_details: activity.heartbeat_details.clone(),
        scheduled_time: activity.scheduled_time,
        current_attempt_scheduled_time: activity.current_attempt_scheduled_time,
        started_time: stamp(now),
        attempt: activity.attempt,
        schedule_to_close_timeout: activity.schedule_to_close,
        start_to_close_timeout: activity.start_to_close,
        heartbeat_timeout: activity.heartbeat,
        retry_policy: activity.retry_policy.clone(),
        ..Default::default()
    }
}

/// The next time an activity needs attention.
pub(crate) fn next_deadline(a: &ActivityState) -> Option<SystemTime> {
    let mut times = Vec::with_capacity(4);
    if let (Some(scheduled), Some(limit)) =
        (time(&a.scheduled_time), duration(&a.schedule_to_close))
    {
        times.push(scheduled + limit);
    }
    if let Some(retry_at) = time(&a.retry_at) {
        times.push(retry_at);
    } else if let Some(started) = time(&a.started_time) {
        if let Some(limit) = duration(&a.start_to_close) {
            times.push(started + limit);
        }
        if let Some(limit) = duration(&a.heartbeat) {
            times.push(time(&a.last_heartbeat_time).unwrap_or(started) + limit);
        }
    } else if let (Some(scheduled), Some(limit)) = (
        time(&a.current_attempt_scheduled_time),
        duration(&a.schedule_to_start),
    ) {
        times.push(scheduled + limit);
    }
    times.into_iter().min()
}

/// Handles an activity whose deadline passed.
pub(crate) fn on_deadline(
    run: &mut Execution,
    context: &mut Context,
    scheduled: i64,
    now: SystemTime,
) {
    let Some(a) = run.activities.get(&scheduled).cloned() else {
        return;
    };
    if let (Some(at), Some(limit)) = (time(&a.scheduled_time), duration(&a.schedule_to_close))
        && at + limit <= now
    {
        let failure = timeout_failure(TimeoutType::ScheduleToClose, &a);
        close_timed_out(run, context, scheduled, failure, RetryState::Timeout);
        return;
    }
    if let Some(retry_at) = time(&a.retry_at) {
        if retry_at <= now {
            let activity = run.activities.get_mut(&scheduled).expect("present");
            activity.retry_at = None;
            activity.current_attempt_scheduled_time = stamp(now);
            enqueue(run, context, scheduled);
        }
        return;
    }
    match time(&a.started_time) {
        Some(started) => {
            let kind = if duration(&a.start_to_close).is_some_and(|l| started + l <= now) {
                TimeoutType::StartToClose
            } else if duration(&a.heartbeat)
                .is_some_and(|l| time(&a.last_heartbeat_time).unwrap_or(started) + l <= now)
            {
                TimeoutType::Heartbeat
            } else {
                return;
            };
            let failure = timeout_failure(kind, &a);
            attempt_failed(run, context, scheduled, failure, "");
        }
        None => {
            if let (Some(at), Some(limit)) = (
                time(&a.current_attempt_scheduled_time),
                duration(&a.schedule_to_start),
            ) && at + limit <= now
            {
                // Schedule-to-start is not retried: another attempt would wait on the same
                // queue.
                let failure = timeout_failure(TimeoutType::ScheduleToStart, &a);
                close_timed_out(run, context, scheduled, failure, RetryState::Timeout);
            }
        }
    }
}

fn timeout_failure(kind: TimeoutType, a: &ActivityState) -> Failure {
    let name = match kind {
        TimeoutType::StartToClose => "StartToClose",
        TimeoutType::ScheduleToStart => "ScheduleToStart",
        TimeoutType::ScheduleToClose => "ScheduleToClose",
        TimeoutType::Heartbeat => "Heartbeat",
        TimeoutType::Unspecified => "Unspecified",
    };
    Failure {
        message: format!("activity {name} timeout"),
        source: "Server".into(),
        failure_info: Some(failure::FailureInfo::TimeoutFailureInfo(
            TimeoutFailureInfo {
                timeout_type: kind as i32,
                last_heartbeat_details: a.heartbeat_details.clone(),
            },
        )),
        ..Default::default()
    }
}

/// What the retry policy says about another attempt after `failure`.
fn retry_decision(
    a: &ActivityState,
    failure: &Failure,
    now: SystemTime,
) -> Result<Duration, RetryState> {
    let deadline = time(&a.scheduled_time)
        .zip(duration(&a.schedule_to_close))
        .map(|(at, limit)| at + limit);
    retry_backoff(
        &a.retry_policy.clone().unwrap_or_default(),
        a.attempt,
        failure,
        now,
        deadline,
    )
}

/// What a retry policy says about attempt `attempt + 1` after `failure`: the backoff to
/// wait, or why there is no retry. `deadline` is when retrying must end.
pub(crate) fn retry_backoff(
    policy: &RetryPolicy,
    attempt: i32,
    failure: &Failure,
    now: SystemTime,
    deadline: Option<SystemTime>,
) -> Result<Duration, RetryState> {
    let failure_type = match &failure.failure_info {
        Some(failure::FailureInfo::ApplicationFailureInfo(info)) => {
            if info.non_retryable {
                return Err(RetryState::NonRetryableFailure);
            }
            info.r#type.clone()
        }
        Some(failure::FailureInfo::TimeoutFailureInfo(info)) => {
            let kind = TimeoutType::try_from(info.timeout_type).unwrap_or(TimeoutType::Unspecified);
            format!(
                "TemporalTimeout:{}",
                kind.as_str_name().trim_start_matches("TIMEOUT_TYPE_")
            )
        }
        _ => String::new(),
    };
    if policy.non_retryable_error_types.contains(&failure_type) {
        return Err(RetryState::NonRetryableFailure);
    }
    if policy.maximum_attempts > 0 && attempt >= policy.maximum_attempts {
        return Err(RetryState::MaximumAttemptsReached);
    }
    let initial = duration(&policy.initial_interval).unwrap_or(Duration::from_secs(1));
    let maximum = duration(&policy.maximum_interval).unwrap_or(initial * 100);
    let factor = policy
        .backoff_coefficient
        .max(1.0)
        .powi(attempt.saturating_sub(1));
    let backoff = initial.mul_f64(factor.min(1e9)).min(maximum);
    if deadline.is_some_and(|d| now + backoff >= d) {
        return Err(RetryState::Timeout);
    }
    Ok(backoff)
}

/// An attempt failed or timed out: retry after the backoff, or close the activity.
fn attempt_failed(
    run: &mut Execution,
    context: &mut Context,
    scheduled: i64,
    failure: Failure,
    identity: &str,
) {
    let now = context.clock.now();
    let Some(a) = run.activities.get(&scheduled).cloned() else {
        return;
    };
    let is_timeout = matches!(
        failure.failure_info,
        Some(failure::FailureInfo::TimeoutFailureInfo(_))
    );
    match retry_decision(&a, &failure, now) {
        Ok(backoff) => {
            let activity = run.activities.get_mut(&scheduled).expect("present");
            activity.attempt += 1;
            activity.started_time = None;
            activity.last_heartbeat_time = None;
            activity.last_failure = Some(failure);
            activity.retry_at = stamp(now + backoff);
            if !identity.is_empty() {
                activity.last_worker_identity = identity.to_string();
            }
            tracing::debug!(activity_id = %activity.activity_id, attempt = activity.attempt, ?backoff, "activity retry");
        }
        Err(retry_state) if is_timeout => {
            close_timed_out(run, context, scheduled, failure, retry_state)
        }
        Err(retry_state) => close_with(run, context, scheduled, &a, identity, |started| {
            Attributes::ActivityTaskFailedEventAttributes(h::ActivityTaskFailedEventAttributes {
                failure: Some(failure),
                scheduled_event_id: scheduled,
                started_event_id: started,
                identity: identity.to_string(),
                retry_state: retry_state as i32,
                ..Default::default()
            })
        }),
    }
}

fn close_timed_out(
    run: &mut Execution,
    context: &mut Context,
    scheduled: i64,
    mut failure: Failure,
    retry_state: RetryState,
) {
    let Some(a) = run.activities.remove(&scheduled) else {
        return;
    };
    failure.cause = a.last_failure.clone().map(Box::new);
    let started = if a.started_time.is_some() {
        write_started(run, context, scheduled, &a, "")
    } else {
        0
    };
    run.deliver(
        context,
        vec![Attributes::ActivityTaskTimedOutEventAttributes(
            h::ActivityTaskTimedOutEventAttributes {
                failure: Some(failure),
                scheduled_event_id: scheduled,
                started_event_id: started,
                retry_state: retry_state as i32,
            },
        )],
    );
}

/// The started event is written when the activity closes, with its last attempt, as
/// Temporal does for activities that may retry. Returns its id, or 0 when it is buffered.
fn write_started(
    run: &mut Execution,
    context: &mut Context,
    scheduled: i64,
    a: &ActivityState,
    identity: &str,
) -> i64 {
    let started =
        Attributes::ActivityTaskStartedEventAttributes(h::ActivityTaskStartedEventAttributes {
            scheduled_event_id: scheduled,
            identity: if a.started_identity.is_empty() {
                identity.to_string()
            } else {
                a.started_identity.clone()
            },
            request_id: uuid::Uuid::new_v4().to_string(),
            attempt: a.attempt,
            last_failure: a.last_failure.clone(),
            ..Default::default()
        });
    if run.task_running() {
        // Ids are given when buffered events are written: the started event comes right
        // before the close event.
        run.buffered.push(
            temporalio_protos::temporal::api::history::v1::HistoryEvent {
                attributes: Some(started),
                ..Default::default()
            },
        );
        -1
    } else {
        run.append(context, started)
    }
}

/// Closes an activity: its started event, then the event `closed` makes from that
/// event's id.
fn close_with(
    run: &mut Execution,
    context: &mut Context,
    scheduled: i64,
    a: &ActivityState,
    identity: &str,
    closed: impl FnOnce(i64) -> Attributes,
) {
    let started = write_started(run, context, scheduled, a, identity);
    run.activities.remove(&scheduled);
    run.deliver(context, vec![closed(started)]);
}

/// A worker's answer to an activity task.
pub(crate) enum ActivityAnswer {
    Completed(Option<Payloads>),
    Failed(Option<Box<Failure>>, Option<Payloads>),
    Canceled(Option<Payloads>),
}

fn lookup<'a>(
    state: &'a mut State,
    token: &TaskToken,
) -> Result<(&'a mut Execution, &'a mut Context, ActivityState), EngineError> {
    let (run, context) = state
        .run_mut(&token.key())
        .ok_or_else(|| EngineError::not_found("workflow execution not found"))?;
    let activity = run
        .activities
        .get(&token.scheduled_event_id)
        .filter(|a| a.attempt == token.attempt && a.retry_at.is_none())
        .cloned()
        .ok_or_else(|| {
            EngineError::not_found(
                "activity task not found (it completed, timed out or was retried)",
            )
        })?;
    Ok((run, context, activity))
}

fn token_by_id(
    state: &State,
    namespace: &str,
    workflow_id: &str,
    run_id: &str,
    activity_id: &str,
) -> Result<TaskToken, EngineError> {
    if activity_id.is_empty() {
        return Err(EngineError::invalid("activity_id is required"));
    }
    // Open runs are always in memory; a closed run has no activity to answer.
    let key = state.resolve_in_memory(
        namespace,
        &WorkflowExecution {
            workflow_id: workflow_id.to_string(),
            run_id: run_id.to_string(),
        },
    )?;
    let run = &state.runs[&key];
    run.activities
        .iter()
        .find(|(_, a)| a.activity_id == activity_id)
        .map(|(scheduled, a)| TaskToken {
            namespace: namespace.to_string(),
            run_id: key.1.clone(),
            scheduled_event_id: *scheduled,
            attempt: a.attempt,
        })
        .ok_or_else(|| EngineError::not_found(format!("activity {activity_id} not found")))
}

impl Engine {
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
                let State { runs, context, .. } = &mut *state;
                let now = context.clock.now();
                context
                    .matching
                    .record_poller(namespace, queue, PollKind::Activity, identity, now);
                while let Some(ActivityRef {
                    run_id,
                    scheduled_event_id: scheduled,
                }) = context.matching.next_activity_task(namespace, queue)
                {
                    let key: RunKey = (namespace.to_string(), run_id);
                    let Some(run) = runs.get_mut(&key) else {
                        continue;
                    };
                    let Some(activity) = run.activities.get_mut(&scheduled) else {
                        continue;
                    };
                    if activity.started_time.is_some() || activity.retry_at.is_some() {
                        continue;
                    }
                    // Not stored: see `requeue_after_restart`. The deadline is armed in memory.
                    activity.started_time = stamp(now);
                    activity.started_identity = identity.to_string();
                    let activity = activity.clone();
                    let task = activity_task(run, context, scheduled, &activity, now);
                    super::deadlines::arm(run, context);
                    self.deadline_changed.notify_one();
                    return task;
                }
                context.matching.ready(namespace, queue, PollKind::Activity)
            };
            if !matching::wait(&ready, deadline).await {
                return ws::PollActivityTaskQueueResponse::default();
            }
        }
    }

    /// Records a worker's answer to an activity task of `namespace`, by token.
    pub async fn respond_activity(
        &self,
        namespace: &str,
        task_token: &[u8],
        answer: ActivityAnswer,
        identity: &str,
    ) -> Result<(), EngineError> {
        self.transact(|state| {
            let token =
                state
                    .context
                    .tokens
                    .open_task(TaskKind::Activity, task_token, namespace)?;
            respond_locked(state, &token, answer, identity)
        })
        .await
    }

    /// Records a worker's answer to an activity task, by workflow and activity id.
    pub async fn respond_activity_by_id(
        &self,
        namespace: &str,
        workflow_id: &str,
        run_id: &str,
        activity_id: &str,
        answer: ActivityAnswer,
        identity: &str,
    ) -> Result<(), EngineError> {
        self.transact(|state| {
            let token = token_by_id(state, namespace, workflow_id, run_id, activity_id)?;
            respond_locked(state, &token, answer, identity)
        })
        .await
    }

    /// Records a heartbeat of an activity task of `namespace`; answers whether cancellation
    /// was requested.
    pub async fn heartbeat(
        &self,
        namespace: &str,
        task_token: &[u8],
        details: Option<Payloads>,
    ) -> Result<bool, EngineError> {
        let token =
            self.lock()
                .context
                .tokens
                .open_task(TaskKind::Activity, task_token, namespace)?;
        self.heartbeat_token(token, details).await
    }

    /// Records a heartbeat by workflow and activity id.
    pub async fn heartbeat_by_id(
        &self,
        namespace: &str,
        workflow_id: &str,
        run_id: &str,
        activity_id: &str,
        details: Option<Payloads>,
    ) -> Result<bool, EngineError> {
        let token = {
            let state = self.lock();
            token_by_id(&state, namespace, workflow_id, run_id, activity_id)?
        };
        self.heartbeat_token(token, details).await
    }

    async fn heartbeat_token(
        &self,
        token: TaskToken,
        details: Option<Payloads>,
    ) -> Result<bool, EngineError> {
        self.transact(|state| {
            let (run, context, _) = lookup(state, &token)?;
            let now = context.clock.now();
            let activity = run
                .activities
                .get_mut(&token.scheduled_event_id)
                .expect("looked up");
            if activity.started_time.is_none() {
                activity.started_time = stamp(now);
            }
            activity.last_heartbeat_time = stamp(now);
            if details.is_some() {
                activity.heartbeat_details = details;
            }
            Ok(activity.cancel_requested)
        })
        .await
    }
}

fn respond_locked(
    state: &mut State,
    token: &TaskToken,
    answer: ActivityAnswer,
    identity: &str,
) -> Result<(), EngineError> {
    let (run, context, activity) = lookup(state, token)?;
    let scheduled = token.scheduled_event_id;
    match answer {
        ActivityAnswer::Completed(result) => {
            close_with(run, context, scheduled, &activity, identity, |started| {
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
        ActivityAnswer::Failed(failure, details) => {
            if details.is_some()
                && let Some(a) = run.activities.get_mut(&scheduled)
            {
                a.heartbeat_details = details;
            }
            let failure = failure.map(|f| *f).unwrap_or_else(|| Failure {
                message: "activity failed without a failure".into(),
                ..Default::default()
            });
            attempt_failed(run, context, scheduled, failure, identity);
        }
        ActivityAnswer::Canceled(details) => {
            if !activity.cancel_requested {
                return Err(EngineError::invalid(
                    "the activity was not asked to cancel; fail or complete it instead",
                ));
            }
            let requested = cancel_requested_event_id(run, scheduled);
            close_with(run, context, scheduled, &activity, identity, |started| {
                Attributes::ActivityTaskCanceledEventAttributes(
                    h::ActivityTaskCanceledEventAttributes {
                        details,
                        latest_cancel_requested_event_id: requested,
                        scheduled_event_id: scheduled,
                        started_event_id: started,
                        identity: identity.to_string(),
                        ..Default::default()
                    },
                )
            });
        }
    }
    Ok(())
}

fn cancel_requested_event_id(run: &Execution, scheduled: i64) -> i64 {
    run.history
        .iter()
        .rev()
        .find_map(|e| match &e.attributes {
            Some(Attributes::ActivityTaskCancelRequestedEventAttributes(a))
                if a.scheduled_event_id == scheduled =>
            {
                Some(e.event_id)
            }
            _ => None,
        })
        .unwrap_or_default()
}

/// The workflow asked to cancel an activity: one not yet started is canceled at once; a
/// started one learns it from its next heartbeat.
pub(crate) fn request_cancel(
    run: &mut Execution,
    context: &mut Context,
    scheduled: i64,
    completed: i64,
) {
    let requested = run.append(
        context,
        Attributes::ActivityTaskCancelRequestedEventAttributes(
            h::ActivityTaskCancelRequestedEventAttributes {
                scheduled_event_id: scheduled,
                workflow_task_completed_event_id: completed,
            },
        ),
    );
    let Some(activity) = run.activities.get_mut(&scheduled) else {
        return;
    };
    if activity.started_time.is_some() {
        activity.cancel_requested = true;
        return;
    }
    run.activities.remove(&scheduled);
    run.append(
        context,
        Attributes::ActivityTaskCanceledEventAttributes(h::ActivityTaskCanceledEventAttributes {
            latest_cancel_requested_event_id: requested,
            scheduled_event_id: scheduled,
            ..Default::default()
        }),
    );
    // A workflow task sees the cancellation.
    super::tasks::schedule_workflow_task(run, context, 1);
}
