//! Deadlines: timers, task and activity timeouts, retry backoffs, run timeouts, start
//! delays. Each is a wall-clock time in a run's stored state; an in-memory index says when
//! each run next needs attention (`deadline_loop` wakes for the earliest).

use std::time::SystemTime;

use super::context::Context;
use super::execution::Execution;
use super::record::{ActivityState, duration, time};

/// When a run next needs attention.
fn next_deadline(run: &Execution) -> Option<SystemTime> {
    if !run.is_running() {
        return None;
    }
    let task = run.workflow_task.as_ref();
    [
        time(&run.run_deadline),
        time(&run.first_task_at),
        task.and_then(|t| time(&t.deadline)),
        task_not_before(run),
    ]
    .into_iter()
    .flatten()
    .chain(run.timers.values().filter_map(|t| time(&t.fire_at)))
    .chain(run.activities.values().filter_map(activity_deadline))
    .min()
}

/// Indexes the run's next deadline.
pub(crate) fn arm(run: &Execution, context: &mut Context) {
    if let Some(at) = next_deadline(run) {
        context.deadlines.insert((at, run.key()));
    }
}

/// The next time an activity needs attention.
pub(crate) fn activity_deadline(a: &ActivityState) -> Option<SystemTime> {
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

/// When a scheduled workflow task with a backoff may be offered.
pub(crate) fn task_not_before(run: &Execution) -> Option<SystemTime> {
    run.workflow_task.as_ref().and_then(|t| time(&t.not_before))
}
