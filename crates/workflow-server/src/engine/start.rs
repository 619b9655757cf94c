//! A run begins: start and signal-with-start requests are checked, the id reuse and
//! conflict policies admit them (or answer with the run that holds the id), and a run is
//! created with its first events. Successors and children are created here too.

use std::time::{Duration, SystemTime};

use temporalio_protos::temporal::api::common::v1::{
    Header, Memo, Payloads, RetryPolicy, SearchAttributes, WorkflowExecution, WorkflowType,
};
use temporalio_protos::temporal::api::enums::v1::{
    WorkflowExecutionStatus, WorkflowIdConflictPolicy, WorkflowIdReusePolicy,
};
use temporalio_protos::temporal::api::failure::v1::Failure;
use temporalio_protos::temporal::api::history::v1::{self as h, history_event::Attributes};
use temporalio_protos::temporal::api::sdk::v1::UserMetadata;
use temporalio_protos::temporal::api::workflowservice::v1 as ws;

use super::Engine;
use super::close::terminate_run;
use super::cron::CronSchedule;
use super::error::EngineError;
use super::events::normal_queue;
use super::execution::{DEFAULT_TASK_TIMEOUT, Execution, schedule_workflow_task};
use super::record::{ParentState, RunState, duration, proto_duration, stamp};
use super::signals::signaled;
use super::state::State;
use super::updates;
use crate::limits::{MAX_ID_LENGTH, check_duration, check_length};

/// What `start` did.
pub struct Started {
    pub run_id: String,
    pub started: bool,
}

/// Why one operation of a multi-operation request failed: its index, and the error.
#[derive(Debug)]
pub(crate) struct MultiOperationError {
    pub index: usize,
    pub error: EngineError,
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
    /// The workflow's summary and details, shown by describe and the UI.
    pub user_metadata: Option<UserMetadata>,
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
            user_metadata: request.user_metadata.clone(),
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
            user_metadata: request.user_metadata.clone(),
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
pub(crate) enum Admission {
    /// Start a new run.
    Start,
    /// Answer with this existing run.
    Existing { run_id: String, started: bool },
}

pub(crate) fn admit(
    state: &mut State,
    new: &NewRun,
    reuse: WorkflowIdReusePolicy,
    conflict: WorkflowIdConflictPolicy,
) -> Result<Admission, EngineError> {
    let Some(current) = state.latest_run(&new.namespace, &new.workflow_id)? else {
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
                    None,
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

/// Creates a run and its first events; returns its run id.
pub(crate) fn create_run(state: &mut State, new: NewRun) -> String {
    let context = &mut state.context;
    let now = context.clock.now();
    // Version 7, as Temporal's server gives: time-ordered ids keep the store's inserts
    // at the end of its indexes instead of scattered across them.
    let run_id = uuid::Uuid::now_v7().to_string();
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
        user_metadata: new.user_metadata.clone(),
        ..Default::default()
    };
    let mut run = Execution::new(&new.namespace, run_state, Default::default());
    let parent = new.parent.as_ref();
    context.user_metadata = new.user_metadata.clone();
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
        schedule_workflow_task(&mut run, context, 1);
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

fn already_started(workflow_id: &str, run_id: &str, request_id: &str) -> EngineError {
    EngineError::AlreadyStarted {
        workflow_id: workflow_id.to_string(),
        run_id: run_id.to_string(),
        request_id: request_id.to_string(),
    }
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

    /// Update-with-start: starts the workflow (or, by its conflict policy, takes the
    /// running run) and sends it the update, in one change; waits up to `budget` for the
    /// update's stage.
    pub async fn update_with_start(
        &self,
        start: ws::StartWorkflowExecutionRequest,
        update: ws::UpdateWorkflowExecutionRequest,
        budget: std::time::Duration,
    ) -> Result<(Started, ws::UpdateWorkflowExecutionResponse), MultiOperationError> {
        let on_start = |error| MultiOperationError { index: 0, error };
        let on_update = |error| MultiOperationError { index: 1, error };
        let new = NewRun::from_start(&start).map_err(on_start)?;
        let asked = updates::Asked::from_request(&update).map_err(on_update)?;
        let changed = self
            .transact(|state| {
                let namespace = new.namespace.clone();
                let started = match admit_or_create(
                    state,
                    new,
                    start.workflow_id_reuse_policy(),
                    start.workflow_id_conflict_policy(),
                ) {
                    Ok(started) => started,
                    Err(error) => return Ok(Err(on_start(error))),
                };
                let key = (namespace, started.run_id.clone());
                let (run, context) = state.run_mut(&key).expect("started or running");
                Ok(
                    updates::find_or_admit(run, context, asked.update.clone(), &asked.id)
                        .map(|(reference, found)| (started, reference, found))
                        .map_err(on_update),
                )
            })
            .await
            .map_err(on_start)?;
        let (started, reference, found) = changed?;
        let response = asked
            .respond(reference, found, budget)
            .await
            .map_err(on_update)?;
        Ok((started, response))
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
}
