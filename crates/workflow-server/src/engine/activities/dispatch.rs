//! Activities scheduled, queued, handed out to pollers (or eagerly with the workflow task
//! that scheduled them), queued again after a restart, and asked to cancel.

use std::time::{Duration, SystemTime};

use temporalio_protos::temporal::api::command::v1::ScheduleActivityTaskCommandAttributes;
use temporalio_protos::temporal::api::common::v1::{ActivityType, WorkflowType};
use temporalio_protos::temporal::api::history::v1::history_event::Attributes;
use temporalio_protos::temporal::api::history::v1::{self as h};
use temporalio_protos::temporal::api::workflowservice::v1 as ws;

use crate::engine::Engine;
use crate::engine::context::Context;
use crate::engine::deadlines;
use crate::engine::events::normal_queue;
use crate::engine::execution::{Execution, schedule_workflow_task};
use crate::engine::record::{ActivityState, RunKey, stamp};
use crate::engine::retry::default_retry_policy;
use crate::engine::state::State;
use crate::engine::tokens::{TaskKind, TaskToken};
use crate::matching::{self, ActivityRef, PollKind};

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
    // As Temporal does: a missing start-to-close or schedule-to-start is the schedule-to-close,
    // so an attempt no worker picks up times out as schedule-to-start.
    let start_to_close = a.start_to_close_timeout.or(a.schedule_to_close_timeout);
    let schedule_to_start = a.schedule_to_start_timeout.or(a.schedule_to_close_timeout);
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
            schedule_to_start_timeout: schedule_to_start,
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
        schedule_to_start,
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

pub(crate) fn enqueue(run: &Execution, context: &mut Context, scheduled: i64) {
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
    schedule_workflow_task(run, context, 1);
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
                    deadlines::arm(run, context);
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
}
