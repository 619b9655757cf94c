//! The history engine: each workflow execution's state and event history, and the changes
//! requests make to them. In memory in this slice; persistence comes next.

mod events;
mod tasks;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use temporalio_protos::temporal::api::common::v1::{WorkflowExecution, WorkflowType};
use temporalio_protos::temporal::api::enums::v1::{
    WorkflowExecutionStatus, WorkflowIdConflictPolicy, WorkflowIdReusePolicy,
};
use temporalio_protos::temporal::api::history::v1::HistoryEvent;
use temporalio_protos::temporal::api::history::v1::history_event::Attributes;
use temporalio_protos::temporal::api::workflowservice::v1 as ws;
use tokio::sync::watch;
use tonic::Status;

use crate::status;
use events::EventBuilder;

/// Temporal's default workflow task timeout.
const DEFAULT_TASK_TIMEOUT: Duration = Duration::from_secs(10);
/// Temporal's limit on the length of a workflow id.
const MAX_ID_LENGTH: usize = 1000;

/// One run of a workflow.
#[derive(Debug)]
pub struct Execution {
    pub workflow_id: String,
    pub run_id: String,
    pub workflow_type: String,
    pub task_queue: String,
    pub status: WorkflowExecutionStatus,
    pub start_time: SystemTime,
    pub close_time: Option<SystemTime>,
    pub request_id: String,
    pub execution_timeout: Option<Duration>,
    pub run_timeout: Option<Duration>,
    pub task_timeout: Duration,
    pub history: Vec<HistoryEvent>,
    /// Announces the id of the last event to long polls.
    changed: watch::Sender<i64>,
    /// The workflow task scheduled or running, if any.
    workflow_task: Option<tasks::WorkflowTask>,
    /// Event id of the last completed workflow task's start.
    previous_started_event_id: i64,
    /// Activities scheduled and not closed, by scheduled event id.
    activities: HashMap<i64, tasks::PendingActivity>,
    /// Events that arrived while a workflow task ran, written after it.
    buffered: Vec<Attributes>,
    /// Running timers: timer id to its started event id.
    timers: HashMap<String, i64>,
}

impl Execution {
    pub fn is_running(&self) -> bool {
        self.status == WorkflowExecutionStatus::Running
    }

    pub fn execution(&self) -> WorkflowExecution {
        WorkflowExecution {
            workflow_id: self.workflow_id.clone(),
            run_id: self.run_id.clone(),
        }
    }

    fn append(&mut self, events: &mut EventBuilder, attributes: Attributes) -> i64 {
        let id = self.history.len() as i64 + 1;
        let event = events.event(id, attributes);
        self.history.push(event);
        self.changed.send_replace(id);
        id
    }

    /// Waits until history has more than `after` events or the run closed.
    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.changed.subscribe()
    }
}

#[derive(Default)]
pub(crate) struct State {
    /// Runs by (namespace, run id).
    runs: HashMap<(String, String), Execution>,
    /// The latest run of each workflow id, by (namespace, workflow id).
    current: HashMap<(String, String), String>,
    events: EventBuilder,
    queues: tasks::Queues,
}

/// What `start` did.
pub struct Started {
    pub run_id: String,
    pub started: bool,
}

/// All executions of the server.
#[derive(Default)]
pub struct Engine {
    state: Mutex<State>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

fn duration(value: Option<prost_types::Duration>, field: &str) -> Result<Option<Duration>, Status> {
    value
        .map(|d| {
            Duration::try_from(d).map_err(|_| {
                status::invalid_argument(format!(
                    "StartWorkflowExecutionRequest.{field} is negative"
                ))
            })
        })
        .transpose()
        .map(|d| d.filter(|d| !d.is_zero()))
}

impl Engine {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts a run, following the id reuse and conflict policies and the request id.
    pub fn start(&self, request: ws::StartWorkflowExecutionRequest) -> Result<Started, Status> {
        let workflow_id = request.workflow_id.clone();
        if workflow_id.is_empty() {
            return Err(status::invalid_argument(
                "StartWorkflowExecutionRequest.workflow_id is required",
            ));
        }
        if workflow_id.len() > MAX_ID_LENGTH {
            return Err(status::invalid_argument(format!(
                "StartWorkflowExecutionRequest.workflow_id is {} bytes; the limit is {MAX_ID_LENGTH}",
                workflow_id.len()
            )));
        }
        let workflow_type = request
            .workflow_type
            .as_ref()
            .map(|t| t.name.clone())
            .filter(|n| !n.is_empty())
            .ok_or_else(|| {
                status::invalid_argument("StartWorkflowExecutionRequest.workflow_type is required")
            })?;
        let task_queue = request
            .task_queue
            .as_ref()
            .map(|q| q.name.clone())
            .filter(|n| !n.is_empty())
            .ok_or_else(|| {
                status::invalid_argument("StartWorkflowExecutionRequest.task_queue is required")
            })?;
        if request
            .workflow_start_delay
            .is_some_and(|d| d.seconds > 0 || d.nanos > 0)
        {
            return Err(Status::unimplemented(
                "StartWorkflowExecutionRequest.workflow_start_delay is not implemented by this server yet",
            ));
        }
        let execution_timeout = duration(
            request.workflow_execution_timeout,
            "workflow_execution_timeout",
        )?;
        let run_timeout = duration(request.workflow_run_timeout, "workflow_run_timeout")?;
        let task_timeout = duration(request.workflow_task_timeout, "workflow_task_timeout")?
            .unwrap_or(DEFAULT_TASK_TIMEOUT);
        let request_id = if request.request_id.is_empty() {
            uuid::Uuid::new_v4().to_string()
        } else {
            request.request_id.clone()
        };

        let mut state = self.lock();
        let key = (request.namespace.clone(), workflow_id.clone());
        if let Some(current) = state.current.get(&key).cloned() {
            let run = &state.runs[&(request.namespace.clone(), current.clone())];
            if run.is_running() {
                if run.request_id == request_id {
                    // The same request again: idempotent.
                    return Ok(Started {
                        run_id: current,
                        started: true,
                    });
                }
                match request.workflow_id_conflict_policy() {
                    WorkflowIdConflictPolicy::UseExisting => {
                        return Ok(Started {
                            run_id: current,
                            started: false,
                        });
                    }
                    WorkflowIdConflictPolicy::TerminateExisting => {
                        let identity = request.identity.clone();
                        let State { runs, events, .. } = &mut *state;
                        let run = runs
                            .get_mut(&(request.namespace.clone(), current))
                            .expect("current run exists");
                        terminate(
                            run,
                            events,
                            "terminated by a start with TerminateExisting",
                            &identity,
                        );
                    }
                    _ => {
                        return Err(status::workflow_already_started(
                            &workflow_id,
                            &current,
                            &run.request_id,
                        ));
                    }
                }
            } else {
                let reusable = match request.workflow_id_reuse_policy() {
                    WorkflowIdReusePolicy::RejectDuplicate => false,
                    WorkflowIdReusePolicy::AllowDuplicateFailedOnly => {
                        run.status != WorkflowExecutionStatus::Completed
                    }
                    _ => true,
                };
                if !reusable {
                    return Err(status::workflow_already_started(
                        &workflow_id,
                        &current,
                        &run.request_id,
                    ));
                }
            }
        }

        let run_id = uuid::Uuid::new_v4().to_string();
        let now = SystemTime::now();
        let (changed, _) = watch::channel(0);
        let mut run = Execution {
            workflow_id: workflow_id.clone(),
            run_id: run_id.clone(),
            workflow_type: workflow_type.clone(),
            task_queue: task_queue.clone(),
            status: WorkflowExecutionStatus::Running,
            start_time: now,
            close_time: None,
            request_id,
            execution_timeout,
            run_timeout,
            task_timeout,
            history: Vec::new(),
            changed,
            workflow_task: None,
            previous_started_event_id: 0,
            activities: HashMap::new(),
            buffered: Vec::new(),
            timers: HashMap::new(),
        };
        let State {
            events,
            runs,
            current,
            queues,
        } = &mut *state;
        run.append(
            events,
            events::started(
                &request,
                &run,
                WorkflowType {
                    name: workflow_type,
                },
            ),
        );
        tasks::schedule_workflow_task(&request.namespace, &mut run, events, queues, 1);
        current.insert(key, run_id.clone());
        runs.insert((request.namespace.clone(), run_id.clone()), run);
        tracing::debug!(%workflow_id, %run_id, "workflow started");
        Ok(Started {
            run_id,
            started: true,
        })
    }

    /// Runs `read` on the run `execution` names (its latest run when the run id is empty).
    pub fn with_run<R>(
        &self,
        namespace: &str,
        execution: &WorkflowExecution,
        read: impl FnOnce(&Execution) -> R,
    ) -> Result<R, Status> {
        let state = self.lock();
        let run_id = resolve(&state, namespace, execution)?;
        Ok(read(&state.runs[&(namespace.to_string(), run_id)]))
    }

    /// Terminates a running run.
    pub fn terminate(
        &self,
        namespace: &str,
        execution: &WorkflowExecution,
        reason: &str,
        identity: &str,
    ) -> Result<(), Status> {
        let mut state = self.lock();
        let run_id = resolve(&state, namespace, execution)?;
        let State { runs, events, .. } = &mut *state;
        let run = runs
            .get_mut(&(namespace.to_string(), run_id))
            .expect("resolved");
        if !run.is_running() {
            return Err(Status::not_found("workflow execution already completed"));
        }
        terminate(run, events, reason, identity);
        Ok(())
    }
}

fn resolve(
    state: &State,
    namespace: &str,
    execution: &WorkflowExecution,
) -> Result<String, Status> {
    if execution.workflow_id.is_empty() {
        return Err(status::invalid_argument(
            "WorkflowExecution.workflow_id is required",
        ));
    }
    let run_id = if execution.run_id.is_empty() {
        state
            .current
            .get(&(namespace.to_string(), execution.workflow_id.clone()))
            .cloned()
    } else {
        Some(execution.run_id.clone())
    };
    run_id
        .filter(|id| {
            state
                .runs
                .get(&(namespace.to_string(), id.clone()))
                .is_some_and(|r| r.workflow_id == execution.workflow_id)
        })
        .ok_or_else(|| {
            Status::not_found(format!(
                "workflow execution not found for workflow id {} and run id {}",
                execution.workflow_id, execution.run_id
            ))
        })
}

fn terminate(run: &mut Execution, events: &mut EventBuilder, reason: &str, identity: &str) {
    run.workflow_task = None;
    run.activities.clear();
    run.buffered.clear();
    run.timers.clear();
    run.status = WorkflowExecutionStatus::Terminated;
    run.close_time = Some(SystemTime::now());
    run.append(events, events::terminated(reason, identity));
}

/// Whether an event closes its run.
pub fn is_close_event(event: &HistoryEvent) -> bool {
    matches!(
        event.attributes,
        Some(Attributes::WorkflowExecutionCompletedEventAttributes(_))
            | Some(Attributes::WorkflowExecutionFailedEventAttributes(_))
            | Some(Attributes::WorkflowExecutionTimedOutEventAttributes(_))
            | Some(Attributes::WorkflowExecutionCanceledEventAttributes(_))
            | Some(Attributes::WorkflowExecutionTerminatedEventAttributes(_))
            | Some(Attributes::WorkflowExecutionContinuedAsNewEventAttributes(
                _
            ))
    )
}
