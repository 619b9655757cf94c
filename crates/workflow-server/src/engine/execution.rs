//! One run in memory: its state record, its history and who waits on it, and the
//! primitives every lifecycle step writes through (append an event, deliver events or
//! buffer them behind a running workflow task, schedule a workflow task, encode what the
//! store has not seen yet).

use std::ops::{Deref, DerefMut};
use std::time::{Duration, SystemTime};

use prost::Message;
use temporalio_protos::temporal::api::common::v1::WorkflowExecution;
use temporalio_protos::temporal::api::enums::v1::{TaskQueueKind, WorkflowExecutionStatus};
use temporalio_protos::temporal::api::history::v1::history_event::Attributes;
use temporalio_protos::temporal::api::history::v1::{self as h, HistoryEvent};
use temporalio_protos::temporal::api::taskqueue::v1::TaskQueue;
use tokio::sync::watch;

use super::context::Context;
use super::event_log::EventLog;
use super::events::normal_queue;
use super::record::{RunKey, RunState, WorkflowTaskState, duration, stamp};
use super::update_registry::Registry;
use crate::store::{BatchNumber, RunWrite, StoreError, StoredRun};

/// Temporal's default workflow task timeout.
pub(crate) const DEFAULT_TASK_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a task on a sticky queue waits for its worker before it moves to the normal
/// queue, when the worker does not say.
const DEFAULT_STICKY_SCHEDULE_TO_START: Duration = Duration::from_secs(5);

/// One run of a workflow: its state record, its history, and who waits on it.
#[derive(Debug)]
pub struct Execution {
    pub namespace: String,
    pub(crate) state: RunState,
    pub(crate) history: EventLog,
    /// Announces the id of the last event to long polls.
    pub(crate) changed: watch::Sender<i64>,
    /// How many events the store has.
    pub(crate) persisted: usize,
    /// Queries handed out with the current workflow task.
    pub(crate) attached_queries: Vec<String>,
    /// Queries waiting for the running workflow task to end.
    pub(crate) waiting_queries: Vec<String>,
    /// The batch that last wrote this run; 0 when it is as the store has it.
    pub(crate) written: BatchNumber,
    /// The visibility entry last written, so an unchanged one is not written again.
    pub(crate) indexed: Option<crate::visibility::Entry>,
    /// Updates in flight (memory only: an update is durable once accepted).
    pub(crate) updates: Registry,
    /// The events of a speculative workflow task, held out of history until the task is
    /// kept (see `Speculative`).
    pub(crate) speculative: Option<Speculative>,
}

/// A workflow task scheduled only to carry updates. Its scheduled and started events go to
/// the worker but not into history: when the worker answers with nothing but rejections,
/// the task is discarded and leaves no trace, as Temporal's speculative tasks do. Anything
/// else written to the run first writes these events, in their place.
#[derive(Debug)]
pub(crate) struct Speculative {
    pub(crate) scheduled: HistoryEvent,
    pub(crate) started: Option<HistoryEvent>,
}

impl Deref for Execution {
    type Target = RunState;
    fn deref(&self) -> &RunState {
        &self.state
    }
}

impl DerefMut for Execution {
    fn deref_mut(&mut self) -> &mut RunState {
        &mut self.state
    }
}

impl Execution {
    pub(crate) fn new(namespace: &str, state: RunState, history: EventLog) -> Self {
        let last = history.len() as i64;
        let persisted = history.len();
        Self {
            namespace: namespace.to_string(),
            state,
            history,
            changed: watch::channel(last).0,
            persisted,
            attached_queries: Vec::new(),
            waiting_queries: Vec::new(),
            written: 0,
            indexed: None,
            updates: Registry::default(),
            speculative: None,
        }
    }

    /// A run as the store holds it.
    pub(crate) fn decode(namespace: &str, stored: StoredRun) -> Result<Self, StoreError> {
        let state =
            RunState::decode(stored.state.as_slice()).map_err(|source| StoreError::Corrupt {
                what: "run state",
                source,
            })?;
        Ok(Self::new(
            namespace,
            state,
            EventLog::from_stored(stored.events)?,
        ))
    }

    pub fn is_running(&self) -> bool {
        self.status() == WorkflowExecutionStatus::Running
    }

    pub fn key(&self) -> RunKey {
        (self.namespace.clone(), self.run_id.clone())
    }

    pub fn execution(&self) -> WorkflowExecution {
        WorkflowExecution {
            workflow_id: self.workflow_id.clone(),
            run_id: self.run_id.clone(),
        }
    }

    /// Appends an event now.
    pub(crate) fn append(&mut self, context: &mut Context, attributes: Attributes) -> i64 {
        let now = context.clock.now();
        self.append_at(context, attributes, now)
    }

    /// Appends an event stamped with `time`: an activity's started event, written when the
    /// attempt closes, carries the time the attempt started, as Temporal's does.
    pub(crate) fn append_at(
        &mut self,
        context: &mut Context,
        attributes: Attributes,
        time: SystemTime,
    ) -> i64 {
        self.keep_speculative();
        let id = self.history.len() as i64 + 1;
        if let Attributes::ChildWorkflowExecutionStartedEventAttributes(a) = &attributes
            && let Some(child) = self.state.children.get_mut(&a.initiated_event_id)
        {
            // A child's close event names the event that announced its start.
            child.started_event_id = id;
        }
        let mut event = context.events.event(id, time, attributes);
        event.user_metadata = context.user_metadata.take();
        self.state.last_task_id = event.task_id;
        self.history.push(&event);
        self.changed.send_replace(id);
        context.dirty.insert(self.key());
        id
    }

    /// Writes a speculative task's events into history: the task is a normal one now.
    pub(crate) fn keep_speculative(&mut self) {
        let Some(task) = self.speculative.take() else {
            return;
        };
        for event in std::iter::once(task.scheduled).chain(task.started) {
            self.state.last_task_id = event.task_id;
            self.history.push(&event);
            self.changed.send_replace(event.event_id);
        }
    }

    /// The events a workflow task's poller gets after `from`: history, then a speculative
    /// task's own events.
    pub(crate) fn task_events(&self, from: usize) -> Vec<HistoryEvent> {
        let mut events = self.history.decode(from..self.history.len());
        if let Some(task) = &self.speculative {
            events.push(task.scheduled.clone());
            events.extend(task.started.clone());
        }
        events
    }

    /// Whether a worker holds this run's workflow task.
    pub(crate) fn task_running(&self) -> bool {
        self.workflow_task
            .as_ref()
            .is_some_and(|t| t.started_event_id != 0)
    }

    /// Writes events and schedules a workflow task to see them, or keeps them until the
    /// running workflow task ends, as Temporal does.
    pub(crate) fn deliver(&mut self, context: &mut Context, attributes: Vec<Attributes>) {
        if !self.is_running() {
            return;
        }
        context.dirty.insert(self.key());
        if self.task_running() {
            for a in attributes {
                self.state.buffered.push(HistoryEvent {
                    attributes: Some(a),
                    ..Default::default()
                });
            }
        } else {
            for a in attributes {
                self.append(context, a);
            }
            schedule_workflow_task(self, context, 1);
        }
    }

    /// Writes the events that arrived while a workflow task ran.
    pub(crate) fn flush_buffered(&mut self, context: &mut Context) {
        let mut last = 0;
        for event in std::mem::take(&mut self.state.buffered) {
            if let Some(mut a) = event.attributes {
                // An activity's close names its started event, buffered right before it.
                match &mut a {
                    Attributes::ActivityTaskCompletedEventAttributes(x)
                        if x.started_event_id < 0 =>
                    {
                        x.started_event_id = last
                    }
                    Attributes::ActivityTaskFailedEventAttributes(x) if x.started_event_id < 0 => {
                        x.started_event_id = last
                    }
                    Attributes::ActivityTaskTimedOutEventAttributes(x)
                        if x.started_event_id < 0 =>
                    {
                        x.started_event_id = last
                    }
                    Attributes::ActivityTaskCanceledEventAttributes(x)
                        if x.started_event_id < 0 =>
                    {
                        x.started_event_id = last
                    }
                    _ => {}
                }
                last = match event.event_time.map(SystemTime::try_from) {
                    Some(Ok(time)) => self.append_at(context, a, time),
                    _ => self.append(context, a),
                };
            }
        }
    }

    /// Waits until history has more than `after` events or the run closed.
    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.changed.subscribe()
    }

    /// What to store of the run: its state, its events not yet stored, and, on its first
    /// write only, whether it is its workflow id's latest run (a run becomes that when it is
    /// created, and the row need not be written again each time the run changes).
    pub(crate) fn write(&mut self, current: bool) -> RunWrite {
        let first_write = self.persisted == 0;
        let events = self
            .history
            .encoded_from(self.persisted)
            .map(|(id, bytes)| (id, bytes.to_vec()))
            .collect();
        self.persisted = self.history.len();
        // A speculative task is not stored: after a restart it never existed.
        let state = if self.speculative.is_some() {
            RunState {
                workflow_task: None,
                ..self.state.clone()
            }
            .encode_to_vec()
        } else {
            self.state.encode_to_vec()
        };
        RunWrite {
            namespace: self.namespace.clone(),
            run_id: self.run_id.clone(),
            workflow_id: self.workflow_id.clone(),
            state,
            events,
            current: current && first_write,
        }
    }
}

/// Schedules a workflow task on the run's sticky queue, or its normal one.
pub(crate) fn schedule_workflow_task(run: &mut Execution, context: &mut Context, attempt: i32) {
    schedule_workflow_task_after(run, context, attempt, None);
}

pub(crate) fn schedule_workflow_task_after(
    run: &mut Execution,
    context: &mut Context,
    attempt: i32,
    not_before: Option<SystemTime>,
) {
    schedule(run, context, attempt, not_before, false);
}

/// Schedules a workflow task that only carries updates (see `Speculative`).
pub(crate) fn schedule_speculative_task(run: &mut Execution, context: &mut Context) {
    schedule(run, context, 1, None, true);
}

fn schedule(
    run: &mut Execution,
    context: &mut Context,
    attempt: i32,
    not_before: Option<SystemTime>,
    speculative: bool,
) {
    if run.workflow_task.is_some() || !run.is_running() || run.first_task_at.is_some() {
        return;
    }
    let now = context.clock.now();
    let (queue, task_queue, deadline) = match &run.sticky {
        Some(sticky) => (
            sticky.queue.clone(),
            TaskQueue {
                name: sticky.queue.clone(),
                kind: TaskQueueKind::Sticky as i32,
                normal_name: run.task_queue.clone(),
            },
            Some(
                now + duration(&sticky.schedule_to_start)
                    .unwrap_or(DEFAULT_STICKY_SCHEDULE_TO_START),
            ),
        ),
        None => (run.task_queue.clone(), normal_queue(&run.task_queue), None),
    };
    let scheduled =
        Attributes::WorkflowTaskScheduledEventAttributes(h::WorkflowTaskScheduledEventAttributes {
            task_queue: Some(task_queue),
            start_to_close_timeout: run.task_timeout,
            attempt,
        });
    let scheduled_event_id = if speculative {
        let id = run.history.len() as i64 + 1;
        let event = context.events.event(id, now, scheduled);
        run.speculative = Some(Speculative {
            scheduled: event,
            started: None,
        });
        context.dirty.insert(run.key());
        id
    } else {
        run.append(context, scheduled)
    };
    run.workflow_task = Some(WorkflowTaskState {
        scheduled_event_id,
        attempt,
        queue,
        deadline: deadline.and_then(stamp),
        scheduled_time: stamp(now),
        not_before: not_before.and_then(stamp),
        ..Default::default()
    });
    if not_before.is_none() {
        offer_workflow_task(run, context);
    }
}

/// Puts the run's scheduled workflow task on its queue.
pub(crate) fn offer_workflow_task(run: &Execution, context: &mut Context) {
    let Some(task) = &run.workflow_task else {
        return;
    };
    context
        .matching
        .offer_workflow_task(&run.namespace, &task.queue, run.run_id.clone());
}
