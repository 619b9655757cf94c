//! Runs begin and end: starts (with the id policies), signals, cancellation, termination,
//! timeouts, continue-as-new, and what a run's close means for its parent and children.

use std::time::{Duration, SystemTime};

use temporalio_protos::temporal::api::common::v1::{
    Header, Memo, Payloads, RetryPolicy, SearchAttributes, WorkflowExecution, WorkflowType,
};
use temporalio_protos::temporal::api::enums::v1::{
    CancelExternalWorkflowExecutionFailedCause, ContinueAsNewInitiator, ParentClosePolicy,
    RetryState, SignalExternalWorkflowExecutionFailedCause, StartChildWorkflowExecutionFailedCause,
    TimeoutType, WorkflowExecutionStatus, WorkflowIdConflictPolicy, WorkflowIdReusePolicy,
};
use temporalio_protos::temporal::api::failure::v1::{self as failure, Failure};
use temporalio_protos::temporal::api::history::v1::{self as h, history_event::Attributes};
use temporalio_protos::temporal::api::workflowservice::v1 as ws;

use super::cron::CronSchedule;
use super::events::normal_queue;
use super::record::{self, ParentState, RunState, duration, proto_duration, stamp};
use super::{
    Context, DEFAULT_TASK_TIMEOUT, Effect, Engine, EngineError, Execution, RunKey, State, tasks,
};
use crate::limits::{MAX_ID_LENGTH, check_duration, check_length};

/// What `start` did.
pub struct Started {
    pub run_id: String,
    pub started: bool,
}

/// A run about to be created.
#[derive(Default)]
pub(crate) struct NewRun {
    pub namespace: String,
    pub workflow_id: String,
    pub workflow_type: String,
    pub task_queue: String,
    pub input: Option<Payloads>,
    pub execution_timeout: Option<Duration>,
    pub run_timeout: Option<Duration>,
    pub task_timeout: Option<Duration>,
    pub request_id: String,
    pub identity: String,
    pub header: Option<Header>,
    pub memo: Option<Memo>,
    pub search_attributes: Option<SearchAttributes>,
    pub retry_policy: Option<RetryPolicy>,
    pub parent: Option<ParentState>,
    pub start_delay: Option<Duration>,
    /// A continue-as-new: the run continued, its initiator, and what it carries.
    pub continued: Option<Continued>,
    /// Signal-with-start: the signal written right after the start.
    pub signal: Option<ws::SignalWithStartWorkflowExecutionRequest>,
    pub cron_schedule: String,
    /// The attempt, above 1 for a retry of a failed run.
    pub attempt: i32,
}

pub(crate) struct Continued {
    pub run_id: String,
    pub first_execution_run_id: String,
    pub execution_deadline: Option<SystemTime>,
    pub initiator: i32,
    pub failure: Option<Failure>,
    pub last_completion_result: Option<Payloads>,
}

/// A request's timeout or delay: refused when negative, cut to Temporal's maximum.
fn field_duration(
    mut value: Option<prost_types::Duration>,
    what: &str,
) -> Result<Option<Duration>, EngineError> {
    check_duration(&mut value, what).map_err(EngineError::invalid)?;
    Ok(duration(&value))
}

/// A required id or name, within Temporal's length limit.
fn required(value: Option<String>, what: &str) -> Result<String, EngineError> {
    let value = value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| EngineError::invalid(format!("{what} is required")))?;
    check_length(&value, what).map_err(EngineError::invalid)?;
    Ok(value)
}

impl NewRun {
    fn from_start(request: &ws::StartWorkflowExecutionRequest) -> Result<Self, EngineError> {
        let what = "StartWorkflowExecutionRequest";
        Ok(Self {
            namespace: request.namespace.clone(),
            workflow_id: checked_id(&request.workflow_id, what)?,
            workflow_type: required(
                request.workflow_type.as_ref().map(|t| t.name.clone()),
                &format!("{what}.workflow_type"),
            )?,
            task_queue: required(
                request.task_queue.as_ref().map(|q| q.name.clone()),
                &format!("{what}.task_queue"),
            )?,
            input: request.input.clone(),
            execution_timeout: field_duration(
                request.workflow_execution_timeout,
                &format!("{what}.workflow_execution_timeout"),
            )?,
            run_timeout: field_duration(
                request.workflow_run_timeout,
                &format!("{what}.workflow_run_timeout"),
            )?,
            task_timeout: field_duration(
                request.workflow_task_timeout,
                &format!("{what}.workflow_task_timeout"),
            )?,
            request_id: request_id(&request.request_id),
            identity: request.identity.clone(),
            header: request.header.clone(),
            memo: request.memo.clone(),
            search_attributes: request.search_attributes.clone(),
            retry_policy: request.retry_policy.clone(),
            start_delay: field_duration(
                request.workflow_start_delay,
                &format!("{what}.workflow_start_delay"),
            )?,
            cron_schedule: checked_cron(&request.cron_schedule, what)?,
            ..Default::default()
        })
    }

    fn from_signal_with_start(
        request: &ws::SignalWithStartWorkflowExecutionRequest,
    ) -> Result<Self, EngineError> {
        let what = "SignalWithStartWorkflowExecutionRequest";
        if request.signal_name.is_empty() {
            return Err(EngineError::invalid(format!(
                "{what}.signal_name is required"
            )));
        }
        Ok(Self {
            namespace: request.namespace.clone(),
            workflow_id: checked_id(&request.workflow_id, what)?,
            workflow_type: required(
                request.workflow_type.as_ref().map(|t| t.name.clone()),
                &format!("{what}.workflow_type"),
            )?,
            task_queue: required(
                request.task_queue.as_ref().map(|q| q.name.clone()),
                &format!("{what}.task_queue"),
            )?,
            input: request.input.clone(),
            execution_timeout: field_duration(
                request.workflow_execution_timeout,
                &format!("{what}.workflow_execution_timeout"),
            )?,
            run_timeout: field_duration(
                request.workflow_run_timeout,
                &format!("{what}.workflow_run_timeout"),
            )?,
            task_timeout: field_duration(
                request.workflow_task_timeout,
                &format!("{what}.workflow_task_timeout"),
            )?,
            request_id: request_id(&request.request_id),
            identity: request.identity.clone(),
            header: request.header.clone(),
            memo: request.memo.clone(),
            search_attributes: request.search_attributes.clone(),
            retry_policy: request.retry_policy.clone(),
            start_delay: field_duration(
                request.workflow_start_delay,
                &format!("{what}.workflow_start_delay"),
            )?,
            signal: Some(request.clone()),
            cron_schedule: checked_cron(&request.cron_schedule, what)?,
            ..Default::default()
        })
    }
}

fn checked_id(id: &str, what: &str) -> Result<String, EngineError> {
    if id.is_empty() {
        return Err(EngineError::invalid(format!(
            "{what}.workflow_id is required"
        )));
    }
    if id.len() > MAX_ID_LENGTH {
        return Err(EngineError::invalid(format!(
            "{what}.workflow_id is {} bytes; the limit is {MAX_ID_LENGTH}",
            id.len()
        )));
    }
    Ok(id.to_string())
}

fn checked_cron(schedule: &str, what: &str) -> Result<String, EngineError> {
    CronSchedule::check(schedule, &format!("{what}.cron_schedule"))
        .map_err(EngineError::invalid)?;
    Ok(schedule.to_string())
}

fn request_id(given: &str) -> String {
    if given.is_empty() {
        uuid::Uuid::new_v4().to_string()
    } else {
        given.to_string()
    }
}

/// What the id policies decide about a start whose workflow id has a run already.
enum Admission {
    /// Start a new run.
    Start,
    /// Answer with this existing run.
    Existing { run_id: String, started: bool },
}

fn admit(
    state: &mut State,
    new: &NewRun,
    reuse: WorkflowIdReusePolicy,
    conflict: WorkflowIdConflictPolicy,
) -> Result<Admission, EngineError> {
    let key = (new.namespace.clone(), new.workflow_id.clone());
    let Some(current) = state.current.get(&key).cloned() else {
        return Ok(Admission::Start);
    };
    let run_key = (new.namespace.clone(), current.clone());
    // The latest run may be closed and out of memory; its status decides.
    if !state.ensure(&run_key)? {
        return Ok(Admission::Start);
    }
    let run = &state.runs[&run_key];
    if run.is_running() {
        if run.request_id == new.request_id {
            // The same request again: idempotent.
            return Ok(Admission::Existing {
                run_id: current,
                started: true,
            });
        }
        return match conflict {
            WorkflowIdConflictPolicy::UseExisting => Ok(Admission::Existing {
                run_id: current,
                started: false,
            }),
            WorkflowIdConflictPolicy::TerminateExisting => {
                let (run, context) = state.run_mut(&run_key).expect("current run exists");
                terminate_run(
                    run,
                    context,
                    "terminated by a start with TerminateExisting",
                    &new.identity,
                );
                Ok(Admission::Start)
            }
            _ => Err(already_started(&new.workflow_id, &current, &run.request_id)),
        };
    }
    let reusable = match reuse {
        WorkflowIdReusePolicy::RejectDuplicate => false,
        WorkflowIdReusePolicy::AllowDuplicateFailedOnly => {
            run.status() != WorkflowExecutionStatus::Completed
        }
        _ => true,
    };
    if reusable {
        Ok(Admission::Start)
    } else {
        Err(already_started(&new.workflow_id, &current, &run.request_id))
    }
}

/// Creates a run and its first events; returns its run id.
/// Starts `new` unless the id policies answer with an existing run.
fn admit_or_create(
    state: &mut State,
    new: NewRun,
    reuse: WorkflowIdReusePolicy,
    conflict: WorkflowIdConflictPolicy,
) -> Result<Started, EngineError> {
    Ok(match admit(state, &new, reuse, conflict)? {
        Admission::Existing { run_id, started } => Started { run_id, started },
        Admission::Start => Started {
            run_id: create_run(state, new),
            started: true,
        },
    })
}

pub(crate) fn create_run(state: &mut State, new: NewRun) -> String {
    let context = &mut state.context;
    let now = context.clock.now();
    let run_id = uuid::Uuid::new_v4().to_string();
    let task_timeout = new.task_timeout.unwrap_or(DEFAULT_TASK_TIMEOUT);
    let continued = new.continued.as_ref();
    let first_execution_run_id = continued
        .map(|c| c.first_execution_run_id.clone())
        .unwrap_or_else(|| run_id.clone());
    let execution_deadline = continued
        .and_then(|c| c.execution_deadline)
        .or_else(|| new.execution_timeout.map(|t| now + t));
    // A cron workflow's first run waits for the first scheduled time (unless delayed).
    let start_delay = new.start_delay.or_else(|| {
        (continued.is_none() && !new.cron_schedule.is_empty())
            .then(|| CronSchedule::parse(&new.cron_schedule).ok())
            .flatten()
            .map(|schedule| schedule.backoff(now, now))
            .filter(|d| !d.is_zero())
    });
    let run_deadline = new
        .run_timeout
        .map(|t| now + t)
        .into_iter()
        .chain(execution_deadline)
        .min();
    let run_state = RunState {
        workflow_id: new.workflow_id.clone(),
        run_id: run_id.clone(),
        workflow_type: new.workflow_type.clone(),
        task_queue: new.task_queue.clone(),
        status: WorkflowExecutionStatus::Running as i32,
        start_time: stamp(now),
        request_id: new.request_id.clone(),
        execution_timeout: new.execution_timeout.and_then(proto_duration),
        run_timeout: new.run_timeout.and_then(proto_duration),
        task_timeout: proto_duration(task_timeout),
        run_deadline: run_deadline.and_then(stamp),
        execution_deadline: execution_deadline.and_then(stamp),
        parent: new.parent.clone(),
        first_execution_run_id: first_execution_run_id.clone(),
        search_attributes: new.search_attributes.clone(),
        memo: new.memo.clone(),
        first_task_at: start_delay.map(|d| now + d).and_then(stamp),
        execution_time: stamp(now + start_delay.unwrap_or_default()),
        cron_schedule: new.cron_schedule.clone(),
        retry_policy: new.retry_policy.clone(),
        attempt: new.attempt.max(1),
        continued_from: continued.map(|c| c.run_id.clone()).unwrap_or_default(),
        ..Default::default()
    };
    let mut run = Execution::new(&new.namespace, run_state, Vec::new());
    let parent = new.parent.as_ref();
    run.append(
        context,
        Attributes::WorkflowExecutionStartedEventAttributes(
            h::WorkflowExecutionStartedEventAttributes {
                workflow_type: Some(WorkflowType {
                    name: new.workflow_type.clone(),
                }),
                parent_workflow_namespace: parent.map(|p| p.namespace.clone()).unwrap_or_default(),
                parent_workflow_execution: parent.map(|p| WorkflowExecution {
                    workflow_id: p.workflow_id.clone(),
                    run_id: p.run_id.clone(),
                }),
                parent_initiated_event_id: parent.map_or(0, |p| p.initiated_event_id),
                root_workflow_execution: parent.map(ParentState::root),
                task_queue: Some(normal_queue(&new.task_queue)),
                input: new.input.clone(),
                workflow_execution_timeout: new.execution_timeout.and_then(proto_duration),
                workflow_run_timeout: new.run_timeout.and_then(proto_duration),
                workflow_task_timeout: proto_duration(task_timeout),
                continued_execution_run_id: continued.map(|c| c.run_id.clone()).unwrap_or_default(),
                initiator: continued.map_or(0, |c| c.initiator),
                continued_failure: continued.and_then(|c| c.failure.clone()),
                last_completion_result: continued.and_then(|c| c.last_completion_result.clone()),
                original_execution_run_id: run_id.clone(),
                identity: new.identity.clone(),
                first_execution_run_id,
                retry_policy: new.retry_policy.clone(),
                attempt: new.attempt.max(1),
                cron_schedule: new.cron_schedule.clone(),
                workflow_execution_expiration_time: execution_deadline.and_then(stamp),
                first_workflow_task_backoff: start_delay.and_then(proto_duration),
                memo: new.memo.clone(),
                search_attributes: new.search_attributes.clone(),
                header: new.header.clone(),
                workflow_id: new.workflow_id.clone(),
                ..Default::default()
            },
        ),
    );
    if let Some(signal) = &new.signal {
        run.append(
            context,
            signaled(
                signal.signal_name.clone(),
                signal.signal_input.clone(),
                &signal.identity,
                signal.header.clone(),
                None,
            ),
        );
        run.signal_request_ids.push(new.request_id.clone());
    }
    if start_delay.is_none() {
        tasks::schedule_workflow_task(&mut run, context, 1);
    }
    tracing::debug!(workflow_id = %new.workflow_id, %run_id, "workflow started");
    state.current.insert(
        (new.namespace.clone(), new.workflow_id.clone()),
        run_id.clone(),
    );
    context.dirty.insert(run.key());
    state.runs.insert(run.key(), run);
    run_id
}

pub(crate) fn signaled(
    signal_name: String,
    input: Option<Payloads>,
    identity: &str,
    header: Option<Header>,
    external: Option<WorkflowExecution>,
) -> Attributes {
    Attributes::WorkflowExecutionSignaledEventAttributes(
        h::WorkflowExecutionSignaledEventAttributes {
            signal_name,
            input,
            identity: identity.to_string(),
            header,
            external_workflow_execution: external,
            ..Default::default()
        },
    )
}

/// Ends a run with `close` (its close event) and `status`, and tells its parent and
/// children.
pub(crate) fn close_run(
    run: &mut Execution,
    context: &mut Context,
    status: WorkflowExecutionStatus,
    close: Attributes,
) {
    run.append(context, close.clone());
    run.status = status as i32;
    run.close_time = stamp(context.clock.now());
    run.workflow_task = None;
    run.activities.clear();
    run.timers.clear();
    run.buffered.clear();
    run.sticky = None;
    run.run_deadline = None;
    run.first_task_at = None;
    if let Some(parent) = run.parent.clone()
        && status != WorkflowExecutionStatus::ContinuedAsNew
    {
        context.effects.push_back(Effect::ChildClosed {
            parent,
            child: run.execution(),
            workflow_type: run.workflow_type.clone(),
            close: Box::new(close),
        });
    }
    for child in std::mem::take(&mut run.children).into_values() {
        let terminate = match child.parent_close_policy() {
            ParentClosePolicy::Abandon => continue,
            ParentClosePolicy::RequestCancel => false,
            _ => true,
        };
        if child.run_id.is_empty() {
            continue;
        }
        context.effects.push_back(Effect::ParentClosed {
            namespace: child.namespace,
            child: WorkflowExecution {
                workflow_id: child.workflow_id,
                run_id: String::new(),
            },
            terminate,
        });
    }
    queries::flush_waiting(run, context);
}

use super::queries;

pub(crate) fn terminate_run(
    run: &mut Execution,
    context: &mut Context,
    reason: &str,
    identity: &str,
) {
    close_run(
        run,
        context,
        WorkflowExecutionStatus::Terminated,
        Attributes::WorkflowExecutionTerminatedEventAttributes(
            h::WorkflowExecutionTerminatedEventAttributes {
                reason: reason.to_string(),
                identity: identity.to_string(),
                ..Default::default()
            },
        ),
    );
}

fn request_cancel(
    run: &mut Execution,
    context: &mut Context,
    reason: &str,
    identity: &str,
    external: Option<(i64, WorkflowExecution)>,
) {
    if run.cancel_requested {
        return;
    }
    run.cancel_requested = true;
    let (external_initiated_event_id, external_workflow_execution) = match external {
        Some((id, execution)) => (id, Some(execution)),
        None => (0, None),
    };
    run.deliver(
        context,
        vec![Attributes::WorkflowExecutionCancelRequestedEventAttributes(
            h::WorkflowExecutionCancelRequestedEventAttributes {
                cause: reason.to_string(),
                identity: identity.to_string(),
                external_initiated_event_id,
                external_workflow_execution,
            },
        )],
    );
}

fn already_started(workflow_id: &str, run_id: &str, request_id: &str) -> EngineError {
    EngineError::AlreadyStarted {
        workflow_id: workflow_id.to_string(),
        run_id: run_id.to_string(),
        request_id: request_id.to_string(),
    }
}

fn already_closed() -> EngineError {
    EngineError::not_found("workflow execution already completed")
}

impl Engine {
    /// Starts a run, following the id reuse and conflict policies and the request id.
    pub async fn start(
        &self,
        request: ws::StartWorkflowExecutionRequest,
    ) -> Result<Started, EngineError> {
        let new = NewRun::from_start(&request)?;
        self.transact(|state| {
            admit_or_create(
                state,
                new,
                request.workflow_id_reuse_policy(),
                request.workflow_id_conflict_policy(),
            )
        })
        .await
    }

    /// Signals the running run of a workflow id, or starts one with the signal.
    pub async fn signal_with_start(
        &self,
        request: ws::SignalWithStartWorkflowExecutionRequest,
    ) -> Result<Started, EngineError> {
        let new = NewRun::from_signal_with_start(&request)?;
        self.transact(|state| {
            let key = (new.namespace.clone(), new.workflow_id.clone());
            let running = state
                .current
                .get(&key)
                .map(|run_id| (new.namespace.clone(), run_id.clone()))
                // Open runs are always in memory.
                .filter(|k| state.runs.get(k).is_some_and(|r| r.is_running()));
            match running {
                Some(run_key)
                    if request.workflow_id_conflict_policy()
                        != WorkflowIdConflictPolicy::TerminateExisting =>
                {
                    let (run, context) = state.run_mut(&run_key).expect("running");
                    run.deliver(
                        context,
                        vec![signaled(
                            request.signal_name.clone(),
                            request.signal_input.clone(),
                            &request.identity,
                            request.header.clone(),
                            None,
                        )],
                    );
                    Ok(Started {
                        run_id: run_key.1,
                        started: false,
                    })
                }
                _ => admit_or_create(
                    state,
                    new,
                    request.workflow_id_reuse_policy(),
                    request.workflow_id_conflict_policy(),
                ),
            }
        })
        .await
    }

    /// Terminates a running run.
    pub async fn terminate(
        &self,
        namespace: &str,
        execution: &WorkflowExecution,
        reason: &str,
        identity: &str,
    ) -> Result<(), EngineError> {
        self.transact(|state| {
            let key = state.resolve(namespace, execution)?;
            let (run, context) = state.run_mut(&key).expect("resolved");
            if !run.is_running() {
                return Err(already_closed());
            }
            terminate_run(run, context, reason, identity);
            Ok(())
        })
        .await
    }

    /// Asks a running run to cancel.
    pub async fn request_cancel(
        &self,
        namespace: &str,
        execution: &WorkflowExecution,
        reason: &str,
        identity: &str,
    ) -> Result<(), EngineError> {
        self.transact(|state| {
            let key = state.resolve(namespace, execution)?;
            let (run, context) = state.run_mut(&key).expect("resolved");
            if !run.is_running() {
                return Err(already_closed());
            }
            request_cancel(run, context, reason, identity, None);
            Ok(())
        })
        .await
    }

    /// Delivers a signal: written at once, or after the running workflow task.
    pub async fn signal(
        &self,
        request: &ws::SignalWorkflowExecutionRequest,
    ) -> Result<(), EngineError> {
        if request.signal_name.is_empty() {
            return Err(EngineError::invalid(
                "SignalWorkflowExecutionRequest.signal_name is required",
            ));
        }
        let execution = request.workflow_execution.clone().unwrap_or_default();
        self.transact(|state| {
            let key = state.resolve(&request.namespace, &execution)?;
            let (run, context) = state.run_mut(&key).expect("resolved");
            if !run.is_running() {
                return Err(already_closed());
            }
            let repeated = !request.request_id.is_empty()
                && run.signal_request_ids.contains(&request.request_id);
            if !repeated {
                if !request.request_id.is_empty() {
                    run.signal_request_ids.push(request.request_id.clone());
                }
                run.deliver(
                    context,
                    vec![signaled(
                        request.signal_name.clone(),
                        request.input.clone(),
                        &request.identity,
                        request.header.clone(),
                        None,
                    )],
                );
            }
            Ok(())
        })
        .await
    }
}

/// Closes the run with continue-as-new and starts the next one.
pub(crate) fn continue_as_new(
    state: &mut State,
    key: &RunKey,
    completed: i64,
    command: temporalio_protos::temporal::api::command::v1::ContinueAsNewWorkflowExecutionCommandAttributes,
) {
    let run = &state.runs[key];
    let workflow_type = command
        .workflow_type
        .clone()
        .map(|t| t.name)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| run.workflow_type.clone());
    let task_queue = command
        .task_queue
        .clone()
        .map(|q| q.name)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| run.task_queue.clone());
    let run_timeout = duration(&command.workflow_run_timeout).or(duration(&run.run_timeout));
    let task_timeout = duration(&command.workflow_task_timeout).or(duration(&run.task_timeout));
    let new = NewRun {
        namespace: key.0.clone(),
        workflow_id: run.workflow_id.clone(),
        workflow_type: workflow_type.clone(),
        task_queue: task_queue.clone(),
        input: command.input.clone(),
        execution_timeout: duration(&run.execution_timeout),
        run_timeout,
        task_timeout,
        request_id: uuid::Uuid::new_v4().to_string(),
        identity: String::new(),
        header: command.header.clone(),
        memo: command.memo.clone().or_else(|| run.memo.clone()),
        search_attributes: command
            .search_attributes
            .clone()
            .or_else(|| run.search_attributes.clone()),
        retry_policy: command.retry_policy.clone(),
        parent: run.parent.clone(),
        start_delay: duration(&command.backoff_start_interval),
        continued: Some(Continued {
            run_id: run.run_id.clone(),
            first_execution_run_id: run.first_execution_run_id.clone(),
            execution_deadline: record::time(&run.execution_deadline),
            initiator: if command.initiator == 0 {
                ContinueAsNewInitiator::Workflow as i32
            } else {
                command.initiator
            },
            failure: command.failure.clone(),
            last_completion_result: command.last_completion_result.clone(),
        }),
        signal: None,
        cron_schedule: run.cron_schedule.clone(),
        attempt: 1,
    };
    let new_run_id = create_run(state, new);
    let (run, context) = state.run_mut(key).expect("still there");
    close_run(
        run,
        context,
        WorkflowExecutionStatus::ContinuedAsNew,
        Attributes::WorkflowExecutionContinuedAsNewEventAttributes(
            h::WorkflowExecutionContinuedAsNewEventAttributes {
                new_execution_run_id: new_run_id,
                workflow_type: Some(WorkflowType {
                    name: workflow_type,
                }),
                task_queue: Some(normal_queue(&task_queue)),
                input: command.input,
                workflow_run_timeout: run_timeout.and_then(proto_duration),
                workflow_task_timeout: task_timeout.and_then(proto_duration),
                workflow_task_completed_event_id: completed,
                backoff_start_interval: command.backoff_start_interval,
                initiator: command.initiator,
                last_completion_result: command.last_completion_result,
                header: command.header,
                memo: command.memo,
                search_attributes: command.search_attributes,
                ..Default::default()
            },
        ),
    );
}

/// The run failed: with a retry policy that allows it, a new run retries it after the
/// backoff, and the failed run names it.
pub(crate) fn fail_run(state: &mut State, key: &RunKey, completed: i64, failure: Option<Failure>) {
    let (retry_state, new_execution_run_id) = retry_or_next_cron_run(state, key, failure.clone());
    let (run, context) = state.run_mut(key).expect("present");
    close_run(
        run,
        context,
        WorkflowExecutionStatus::Failed,
        Attributes::WorkflowExecutionFailedEventAttributes(
            h::WorkflowExecutionFailedEventAttributes {
                failure,
                retry_state: retry_state as i32,
                workflow_task_completed_event_id: completed,
                new_execution_run_id,
            },
        ),
    );
}

/// The run's deadline passed. A run timeout is retried as a failure would be (the retry
/// policy decides, and the new run gets a start-to-close timeout failure); the execution
/// timeout ends the whole chain.
pub(crate) fn time_out_run(state: &mut State, key: &RunKey) {
    let run = &state.runs[key];
    let now = state.context.clock.now();
    let chain_over = record::time(&run.execution_deadline).is_some_and(|d| d <= now);
    let (retry_state, new_execution_run_id) = if chain_over {
        (RetryState::Timeout, String::new())
    } else {
        let failure = Failure {
            message: "workflow timeout".to_string(),
            failure_info: Some(failure::failure::FailureInfo::TimeoutFailureInfo(
                failure::TimeoutFailureInfo {
                    timeout_type: TimeoutType::StartToClose as i32,
                    last_heartbeat_details: None,
                },
            )),
            ..Default::default()
        };
        match retry_or_next_cron_run(state, key, Some(failure)) {
            (RetryState::RetryPolicyNotSet, next) => (RetryState::Timeout, next),
            decided => decided,
        }
    };
    let (run, context) = state.run_mut(key).expect("present");
    close_run(
        run,
        context,
        WorkflowExecutionStatus::TimedOut,
        Attributes::WorkflowExecutionTimedOutEventAttributes(
            h::WorkflowExecutionTimedOutEventAttributes {
                retry_state: retry_state as i32,
                new_execution_run_id,
            },
        ),
    );
}

/// A run ended with `failure` (none: failed without one): the next attempt when its retry
/// policy allows, else a cron workflow's next scheduled run. Answers the retry state and
/// the new run's id (empty without one).
fn retry_or_next_cron_run(
    state: &mut State,
    key: &RunKey,
    failure: Option<Failure>,
) -> (RetryState, String) {
    let (retry_state, retried) = match &failure {
        Some(f) => retry(state, key, f),
        None => (RetryState::RetryPolicyNotSet, String::new()),
    };
    if retry_state == RetryState::InProgress {
        return (retry_state, retried);
    }
    (retry_state, next_cron_run(state, key, None, failure))
}

/// Starts the next attempt of a run that ended with `failure`, if its retry policy allows;
/// answers the retry state and the new run's id (empty without one).
fn retry(state: &mut State, key: &RunKey, failure: &Failure) -> (RetryState, String) {
    let run = &state.runs[key];
    let now = state.context.clock.now();
    let decision = match &run.retry_policy {
        Some(policy) => super::activities::retry_backoff(
            policy,
            run.attempt,
            failure,
            now,
            record::time(&run.execution_deadline),
        ),
        None => Err(RetryState::RetryPolicyNotSet),
    };
    let backoff = match decision {
        Ok(backoff) => backoff,
        Err(state) => return (state, String::new()),
    };
    let new = NewRun {
        start_delay: Some(backoff).filter(|b| !b.is_zero()),
        continued: Some(Continued {
            run_id: run.run_id.clone(),
            first_execution_run_id: run.first_execution_run_id.clone(),
            execution_deadline: record::time(&run.execution_deadline),
            initiator: ContinueAsNewInitiator::Retry as i32,
            failure: Some(failure.clone()),
            last_completion_result: None,
        }),
        attempt: run.attempt + 1,
        ..successor(key, run)
    };
    (RetryState::InProgress, create_run(state, new))
}

/// A cron workflow's run closed (completed, or failed or timed out for good): the next run
/// starts at the next scheduled time, carrying the result or failure. Answers its run id,
/// empty when the workflow has no schedule.
fn next_cron_run(
    state: &mut State,
    key: &RunKey,
    result: Option<Payloads>,
    failure: Option<Failure>,
) -> String {
    let run = &state.runs[key];
    let Ok(schedule) = CronSchedule::parse(&run.cron_schedule) else {
        return String::new();
    };
    let now = state.context.clock.now();
    let started = record::time(&run.start_time).unwrap_or(now);
    let new = NewRun {
        start_delay: Some(schedule.backoff(started, now)),
        continued: Some(Continued {
            run_id: run.run_id.clone(),
            first_execution_run_id: run.first_execution_run_id.clone(),
            // Each scheduled run gets the whole execution timeout.
            execution_deadline: None,
            initiator: ContinueAsNewInitiator::CronSchedule as i32,
            failure,
            last_completion_result: result,
        }),
        attempt: 1,
        ..successor(key, run)
    };
    create_run(state, new)
}

/// The next run of the same workflow: same type, queue, input, timeouts, memo, search
/// attributes, retry policy, parent and schedule.
fn successor(key: &RunKey, run: &Execution) -> NewRun {
    NewRun {
        namespace: key.0.clone(),
        workflow_id: run.workflow_id.clone(),
        workflow_type: run.workflow_type.clone(),
        task_queue: run.task_queue.clone(),
        input: run.history.first().and_then(|e| match &e.attributes {
            Some(Attributes::WorkflowExecutionStartedEventAttributes(a)) => a.input.clone(),
            _ => None,
        }),
        execution_timeout: duration(&run.execution_timeout),
        run_timeout: duration(&run.run_timeout),
        task_timeout: duration(&run.task_timeout),
        request_id: uuid::Uuid::new_v4().to_string(),
        memo: run.memo.clone(),
        search_attributes: run.search_attributes.clone(),
        retry_policy: run.retry_policy.clone(),
        parent: run.parent.clone(),
        cron_schedule: run.cron_schedule.clone(),
        ..Default::default()
    }
}

/// The run completed; a cron workflow's next run is named in the completed event.
pub(crate) fn complete_run(
    state: &mut State,
    key: &RunKey,
    completed: i64,
    result: Option<Payloads>,
) {
    let new_execution_run_id = next_cron_run(state, key, result.clone(), None);
    let (run, context) = state.run_mut(key).expect("present");
    close_run(
        run,
        context,
        WorkflowExecutionStatus::Completed,
        Attributes::WorkflowExecutionCompletedEventAttributes(
            h::WorkflowExecutionCompletedEventAttributes {
                result,
                workflow_task_completed_event_id: completed,
                new_execution_run_id,
            },
        ),
    );
}

/// Runs `act` on the run `target` names if it is running; returns whether it did.
fn on_running(
    state: &mut State,
    namespace: &str,
    target: &WorkflowExecution,
    act: impl FnOnce(&mut Execution, &mut Context),
) -> bool {
    // Open runs are always in memory: one that is not is not running.
    let Ok(key) = state.resolve_in_memory(namespace, target) else {
        return false;
    };
    let (run, context) = state.run_mut(&key).expect("resolved");
    if !run.is_running() {
        return false;
    }
    act(run, context);
    true
}

/// Carries out one effect.
pub(crate) fn apply_effect(state: &mut State, effect: Effect) {
    match effect {
        Effect::StartChild {
            parent,
            initiated_event_id,
            command,
        } => start_child(state, parent, initiated_event_id, *command),
        Effect::ChildClosed {
            parent,
            child,
            workflow_type,
            close,
        } => {
            let key = (parent.namespace.clone(), parent.run_id.clone());
            let Some((run, context)) = state.run_mut(&key) else {
                return;
            };
            let Some(entry) = run.children.remove(&parent.initiated_event_id) else {
                return;
            };
            let common = (
                entry.namespace.clone(),
                Some(child),
                Some(WorkflowType {
                    name: workflow_type,
                }),
                parent.initiated_event_id,
                entry.started_event_id,
            );
            let (
                namespace,
                workflow_execution,
                workflow_type,
                initiated_event_id,
                started_event_id,
            ) = common;
            let event = match *close {
                Attributes::WorkflowExecutionCompletedEventAttributes(a) => {
                    Attributes::ChildWorkflowExecutionCompletedEventAttributes(
                        h::ChildWorkflowExecutionCompletedEventAttributes {
                            result: a.result,
                            namespace,
                            workflow_execution,
                            workflow_type,
                            initiated_event_id,
                            started_event_id,
                            ..Default::default()
                        },
                    )
                }
                Attributes::WorkflowExecutionFailedEventAttributes(a) => {
                    Attributes::ChildWorkflowExecutionFailedEventAttributes(
                        h::ChildWorkflowExecutionFailedEventAttributes {
                            failure: a.failure,
                            namespace,
                            workflow_execution,
                            workflow_type,
                            initiated_event_id,
                            started_event_id,
                            retry_state: a.retry_state,
                            ..Default::default()
                        },
                    )
                }
                Attributes::WorkflowExecutionCanceledEventAttributes(a) => {
                    Attributes::ChildWorkflowExecutionCanceledEventAttributes(
                        h::ChildWorkflowExecutionCanceledEventAttributes {
                            details: a.details,
                            namespace,
                            workflow_execution,
                            workflow_type,
                            initiated_event_id,
                            started_event_id,
                            ..Default::default()
                        },
                    )
                }
                Attributes::WorkflowExecutionTimedOutEventAttributes(a) => {
                    Attributes::ChildWorkflowExecutionTimedOutEventAttributes(
                        h::ChildWorkflowExecutionTimedOutEventAttributes {
                            namespace,
                            workflow_execution,
                            workflow_type,
                            initiated_event_id,
                            started_event_id,
                            retry_state: a.retry_state,
                            ..Default::default()
                        },
                    )
                }
                _ => Attributes::ChildWorkflowExecutionTerminatedEventAttributes(
                    h::ChildWorkflowExecutionTerminatedEventAttributes {
                        namespace,
                        workflow_execution,
                        workflow_type,
                        initiated_event_id,
                        started_event_id,
                        ..Default::default()
                    },
                ),
            };
            run.deliver(context, vec![event]);
        }
        Effect::SignalExternal {
            source,
            initiated_event_id,
            target_namespace,
            target,
            signal,
        } => {
            let source_execution = state.runs.get(&source).map(|r| r.execution());
            let delivered = on_running(state, &target_namespace, &target, |run, context| {
                run.deliver(
                    context,
                    vec![signaled(
                        signal.signal_name.clone(),
                        signal.input.clone(),
                        "",
                        signal.header.clone(),
                        source_execution,
                    )],
                );
            });
            let Some((run, context)) = state.run_mut(&source) else {
                return;
            };
            let event = if delivered {
                Attributes::ExternalWorkflowExecutionSignaledEventAttributes(
                    h::ExternalWorkflowExecutionSignaledEventAttributes {
                        initiated_event_id,
                        namespace: target_namespace,
                        workflow_execution: Some(target),
                        ..Default::default()
                    },
                )
            } else {
                Attributes::SignalExternalWorkflowExecutionFailedEventAttributes(
                    h::SignalExternalWorkflowExecutionFailedEventAttributes {
                        cause: SignalExternalWorkflowExecutionFailedCause::ExternalWorkflowExecutionNotFound
                            as i32,
                        initiated_event_id,
                        namespace: target_namespace,
                        workflow_execution: Some(target),
                        ..Default::default()
                    },
                )
            };
            run.deliver(context, vec![event]);
        }
        Effect::CancelExternal {
            source,
            initiated_event_id,
            target_namespace,
            target,
            reason,
        } => {
            let source_execution = state.runs.get(&source).map(|r| r.execution());
            let delivered = on_running(state, &target_namespace, &target, |run, context| {
                request_cancel(
                    run,
                    context,
                    &reason,
                    "",
                    source_execution.map(|e| (initiated_event_id, e)),
                );
            });
            let Some((run, context)) = state.run_mut(&source) else {
                return;
            };
            let event = if delivered {
                Attributes::ExternalWorkflowExecutionCancelRequestedEventAttributes(
                    h::ExternalWorkflowExecutionCancelRequestedEventAttributes {
                        initiated_event_id,
                        namespace: target_namespace,
                        workflow_execution: Some(target),
                        ..Default::default()
                    },
                )
            } else {
                Attributes::RequestCancelExternalWorkflowExecutionFailedEventAttributes(
                    h::RequestCancelExternalWorkflowExecutionFailedEventAttributes {
                        cause: CancelExternalWorkflowExecutionFailedCause::ExternalWorkflowExecutionNotFound
                            as i32,
                        initiated_event_id,
                        namespace: target_namespace,
                        workflow_execution: Some(target),
                        ..Default::default()
                    },
                )
            };
            run.deliver(context, vec![event]);
        }
        Effect::ParentClosed {
            namespace,
            child,
            terminate,
        } => {
            on_running(state, &namespace, &child, |run, context| {
                if terminate {
                    terminate_run(run, context, "by parent close policy", "");
                } else {
                    request_cancel(run, context, "by parent close policy", "", None);
                }
            });
        }
    }
}

fn start_child(
    state: &mut State,
    parent: RunKey,
    initiated_event_id: i64,
    command: temporalio_protos::temporal::api::command::v1::StartChildWorkflowExecutionCommandAttributes,
) {
    let Some(parent_run) = state.runs.get(&parent) else {
        return;
    };
    if !parent_run.is_running() {
        return;
    }
    let namespace = parent.0.clone();
    let workflow_type = command
        .workflow_type
        .clone()
        .map(|t| t.name)
        .unwrap_or_default();
    let new = NewRun {
        namespace: namespace.clone(),
        workflow_id: command.workflow_id.clone(),
        workflow_type: workflow_type.clone(),
        task_queue: command
            .task_queue
            .clone()
            .map(|q| q.name)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| parent_run.task_queue.clone()),
        input: command.input.clone(),
        execution_timeout: duration(&command.workflow_execution_timeout),
        run_timeout: duration(&command.workflow_run_timeout),
        task_timeout: duration(&command.workflow_task_timeout),
        request_id: uuid::Uuid::new_v4().to_string(),
        identity: String::new(),
        header: command.header.clone(),
        memo: command.memo.clone(),
        search_attributes: command.search_attributes.clone(),
        cron_schedule: command.cron_schedule.clone(),
        retry_policy: command.retry_policy.clone(),
        parent: Some(ParentState {
            namespace: parent.0.clone(),
            workflow_id: parent_run.workflow_id.clone(),
            run_id: parent_run.run_id.clone(),
            initiated_event_id,
            root_workflow_id: parent_run.parent.as_ref().map_or_else(
                || parent_run.workflow_id.clone(),
                |p| p.root_workflow_id.clone(),
            ),
            root_run_id: parent_run
                .parent
                .as_ref()
                .map_or_else(|| parent_run.run_id.clone(), |p| p.root_run_id.clone()),
        }),
        ..Default::default()
    };
    let admitted = admit(
        state,
        &new,
        command.workflow_id_reuse_policy(),
        WorkflowIdConflictPolicy::Fail,
    );
    let event = match admitted {
        Ok(Admission::Start) => {
            let run_id = create_run(state, new);
            let (run, _) = state.run_mut(&parent).expect("checked");
            if let Some(child) = run.children.get_mut(&initiated_event_id) {
                child.run_id = run_id.clone();
            }
            Attributes::ChildWorkflowExecutionStartedEventAttributes(
                h::ChildWorkflowExecutionStartedEventAttributes {
                    namespace,
                    initiated_event_id,
                    workflow_execution: Some(WorkflowExecution {
                        workflow_id: command.workflow_id.clone(),
                        run_id,
                    }),
                    workflow_type: Some(WorkflowType {
                        name: workflow_type,
                    }),
                    header: command.header.clone(),
                    ..Default::default()
                },
            )
        }
        _ => {
            let (run, _) = state.run_mut(&parent).expect("checked");
            run.children.remove(&initiated_event_id);
            Attributes::StartChildWorkflowExecutionFailedEventAttributes(
                h::StartChildWorkflowExecutionFailedEventAttributes {
                    namespace,
                    workflow_id: command.workflow_id.clone(),
                    workflow_type: Some(WorkflowType {
                        name: workflow_type,
                    }),
                    cause: StartChildWorkflowExecutionFailedCause::WorkflowAlreadyExists as i32,
                    initiated_event_id,
                    ..Default::default()
                },
            )
        }
    };
    let (run, context) = state.run_mut(&parent).expect("checked");
    run.deliver(context, vec![event]);
}
