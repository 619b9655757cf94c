//! The deadline loop: wakes for the earliest deadline in the index and carries out what is
//! due (timers fire, tasks and activities time out, retries and delayed starts begin, runs
//! time out). With time skipping, when no task is waiting or running anywhere, the clock
//! jumps to the next deadline.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use temporalio_protos::temporal::api::history::v1::TimerFiredEventAttributes;
use temporalio_protos::temporal::api::history::v1::history_event::Attributes;

use super::Engine;
use super::context::TimeSkipping;
use super::deadlines::activity_deadline;
use super::execution::{offer_workflow_task, schedule_workflow_task};
use super::record::{RunKey, time};
use super::state::State;
use super::{activities, successors, workflow_tasks};
use crate::store::Ticket;

/// Carries out everything due in the run by `now`.
fn process(state: &mut State, key: &RunKey, now: SystemTime) {
    let Some((run, context)) = state.run_mut(key) else {
        return;
    };
    if !run.is_running() {
        return;
    }
    if time(&run.run_deadline).is_some_and(|t| t <= now) {
        successors::time_out_run(state, key);
        return;
    }
    if time(&run.first_task_at).is_some_and(|t| t <= now) {
        run.first_task_at = None;
        schedule_workflow_task(run, context, 1);
    }
    if let Some(task) = run.workflow_task.as_mut()
        && time(&task.not_before).is_some_and(|t| t <= now)
    {
        task.not_before = None;
        offer_workflow_task(run, context);
    }
    if run
        .workflow_task
        .as_ref()
        .and_then(|t| time(&t.deadline))
        .is_some_and(|t| t <= now)
    {
        workflow_tasks::workflow_task_deadline(run, context);
    }
    let fired: Vec<(String, i64)> = run
        .timers
        .iter()
        .filter(|(_, t)| time(&t.fire_at).is_some_and(|at| at <= now))
        .map(|(id, t)| (id.clone(), t.started_event_id))
        .collect();
    if !fired.is_empty() {
        let events = fired
            .into_iter()
            .map(|(timer_id, started_event_id)| {
                run.timers.remove(&timer_id);
                Attributes::TimerFiredEventAttributes(TimerFiredEventAttributes {
                    timer_id,
                    started_event_id,
                })
            })
            .collect();
        run.deliver(context, events);
    }
    let due: Vec<i64> = run
        .activities
        .iter()
        .filter(|(_, a)| activity_deadline(a).is_some_and(|t| t <= now))
        .map(|(id, _)| *id)
        .collect();
    for scheduled in due {
        activities::on_deadline(run, context, scheduled, now);
    }
}

/// Whether nothing is waiting for or running on a worker: the moment time may skip.
fn idle(state: &State) -> bool {
    state.runs.values().filter(|r| r.is_running()).all(|r| {
        r.workflow_task
            .as_ref()
            .is_none_or(|t| t.not_before.is_some())
            && r.activities.values().all(|a| a.retry_at.is_some())
    })
}

impl Engine {
    /// Carries out every deadline due by now and sends what changed to the store. Answers
    /// the batch's ticket and the time it ran at.
    pub(crate) fn carry_out_due(&self, state: &mut State) -> (Ticket, SystemTime) {
        let now = state.context.clock.now();
        let mut due = Vec::new();
        while let Some(first) = state.context.deadlines.first() {
            if first.0 > now {
                break;
            }
            let (_, key) = state.context.deadlines.pop_first().expect("peeked");
            if !due.contains(&key) {
                due.push(key);
            }
        }
        for key in &due {
            process(state, key, now);
        }
        (self.commit_quietly(state), now)
    }

    /// Runs deadlines as they come due; spawned once per server.
    pub async fn run_deadlines(self: Arc<Self>) {
        loop {
            let (sleep, ticket) = {
                let mut state = self.lock();
                let (ticket, now) = self.carry_out_due(&mut state);
                let next = state.context.deadlines.first().map(|(at, _)| *at);
                let sleep = match next {
                    Some(at)
                        if match state.context.clock.skipping {
                            TimeSkipping::Off => false,
                            TimeSkipping::WhenIdle => true,
                            TimeSkipping::WhileResultsAwaited => self.results_awaited(),
                        } && idle(&state) =>
                    {
                        let jump = at.duration_since(now).unwrap_or_default();
                        state.context.clock.skipped += jump;
                        tracing::debug!(?jump, "time skipped to the next deadline");
                        Some(Duration::ZERO)
                    }
                    Some(at) => Some(at.duration_since(now).unwrap_or_default()),
                    None => None,
                };
                (sleep, ticket)
            };
            if let Err(error) = ticket.wait().await {
                tracing::error!(%error, "a deadline's change was not stored");
            }
            match sleep {
                Some(d) if d.is_zero() => continue,
                Some(d) => {
                    let _ = tokio::time::timeout(d, self.deadline_changed.notified()).await;
                }
                None => self.deadline_changed.notified().await,
            }
        }
    }
}
