//! An activity's deadlines passing (the four timeouts, a retry's backoff ending), and what
//! a failed or timed-out attempt leads to: another attempt after the retry policy's
//! backoff, or the activity's close.

use std::time::{Duration, SystemTime};

use temporalio_protos::temporal::api::enums::v1::{RetryState, TimeoutType};
use temporalio_protos::temporal::api::failure::v1::{Failure, TimeoutFailureInfo, failure};
use temporalio_protos::temporal::api::history::v1::history_event::Attributes;
use temporalio_protos::temporal::api::history::v1::{self as h, HistoryEvent};

use super::dispatch::enqueue;
use crate::engine::context::Context;
use crate::engine::execution::Execution;
use crate::engine::record::{ActivityState, duration, stamp, time};
use crate::engine::retry::retry_backoff;

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
    // An attempt no worker took times out as schedule-to-start, also when its
    // schedule-to-close passes at the same time (as Temporal orders the two).
    let waiting = a.started_time.is_none() && a.retry_at.is_none();
    if waiting
        && let (Some(at), Some(limit)) = (
            time(&a.current_attempt_scheduled_time),
            duration(&a.schedule_to_start),
        )
        && at + limit <= now
    {
        // Schedule-to-start is not retried: another attempt would wait on the same queue.
        let failure = timeout_failure(TimeoutType::ScheduleToStart, &a);
        close_timed_out(run, context, scheduled, failure, RetryState::Timeout);
        return;
    }
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
    // Waiting for a worker, only schedule-to-start (above) applies.
    let Some(started) = time(&a.started_time) else {
        return;
    };
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

/// An attempt failed or timed out: retry after the backoff, or close the activity.
pub(crate) fn attempt_failed(
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
        run.buffered.push(HistoryEvent {
            attributes: Some(started),
            event_time: a.started_time,
            ..Default::default()
        });
        -1
    } else {
        match time(&a.started_time) {
            Some(at) => run.append_at(context, started, at),
            None => run.append(context, started),
        }
    }
}

/// Closes an activity: its started event, then the event `closed` makes from that
/// event's id.
pub(crate) fn close_with(
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
