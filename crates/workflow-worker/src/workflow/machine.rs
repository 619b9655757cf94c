//! One run's replay state: turns history events into jobs for the workflow code and checks
//! that the commands the code issues match the commands history recorded.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use temporalio_protos::temporal::api::command::v1::{self as command, Command};
use temporalio_protos::temporal::api::common::v1::Payload;
use temporalio_protos::temporal::api::enums::v1::{CommandType, TimeoutType};
use temporalio_protos::temporal::api::history::v1::{HistoryEvent, history_event::Attributes};
use temporalio_protos::temporal::api::protocol::v1::Message;
use workflow_core::failure::{ActivityFailure, ChildWorkflowFailure, Failure, FailureInfo};
use workflow_core::options::{duration_from_proto, time_from_proto};
use workflow_core::workflow::runtime::{
    Activation, ActivationError, CommandRequest, Job, Marker, WorkflowFactory, WorkflowInstance,
    WorkflowStart,
};
use workflow_core::workflow::{ParentInfo, WorkflowInfo};

use super::watchdog::ActivationWatch;

mod updates;

pub use updates::is_rejection;

/// Why a workflow task cannot be completed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    /// The code issued other commands than history recorded.
    #[error("nondeterminism: {0}")]
    Nondeterminism(String),
    /// The workflow code failed the task (panic, undecodable input).
    #[error(transparent)]
    Activation(#[from] ActivationError),
    /// History cannot be processed.
    #[error("malformed history: {0}")]
    History(String),
}

/// Facts about the run that are not in its history.
#[derive(Debug, Clone)]
pub struct RunIdentity {
    pub namespace: String,
    pub workflow_id: String,
    pub run_id: String,
}

/// A run's workflow instance plus the bookkeeping that links its commands to events.
pub struct RunMachine {
    factory: WorkflowFactory,
    identity: RunIdentity,
    instance: Option<WorkflowInstance>,
    /// Highest event id applied.
    pub last_event_id: i64,
    /// Commands issued and not yet seen in history, in order.
    pending: VecDeque<CommandRequest>,
    activity_by_event: HashMap<i64, u32>,
    activity_event: HashMap<u32, i64>,
    activity_names: HashMap<u32, (String, String)>,
    child_by_event: HashMap<i64, u32>,
    signal_by_event: HashMap<i64, u32>,
    cancel_by_event: HashMap<i64, u32>,
    /// Update requests the code has not answered yet, by update id.
    update_requests: HashMap<String, updates::Request>,
    /// The run's code has issued a command that closes it.
    pub closed: bool,
    /// The last activation ran new work, so its commands are not in history yet.
    unsent_tail: bool,
    /// Where the executor's watchdog sees the running activation.
    watch: Option<Arc<ActivationWatch>>,
}

impl RunMachine {
    pub fn new(factory: WorkflowFactory, identity: RunIdentity) -> Self {
        Self {
            factory,
            identity,
            instance: None,
            last_event_id: 0,
            pending: VecDeque::new(),
            activity_by_event: HashMap::new(),
            activity_event: HashMap::new(),
            activity_names: HashMap::new(),
            child_by_event: HashMap::new(),
            signal_by_event: HashMap::new(),
            cancel_by_event: HashMap::new(),
            update_requests: HashMap::new(),
            closed: false,
            unsent_tail: false,
            watch: None,
        }
    }

    /// Lets a watchdog see each activation while it runs.
    pub(crate) fn watch_activations(&mut self, watch: Arc<ActivationWatch>) {
        self.watch = Some(watch);
    }

    pub fn instance(&self) -> Option<&WorkflowInstance> {
        self.instance.as_ref()
    }

    /// Applies the events after `last_event_id`. Workflow tasks that history shows completed
    /// are replayed and their commands checked; if the events end with the task numbered
    /// `current_started_id`, its commands are returned (`None` when there is no such task,
    /// as for a query on closed history).
    pub fn apply(
        &mut self,
        events: &[HistoryEvent],
        current_started_id: i64,
    ) -> Result<Option<Vec<CommandRequest>>, TaskError> {
        self.apply_with_messages(events, current_started_id, &[])
    }

    /// `apply`, with the protocol messages (update requests) of the task numbered
    /// `current_started_id`: delivered after its events.
    pub fn apply_with_messages(
        &mut self,
        events: &[HistoryEvent],
        current_started_id: i64,
        messages: &[Message],
    ) -> Result<Option<Vec<CommandRequest>>, TaskError> {
        let mut jobs = Vec::new();
        let mut output = None;
        let new: Vec<&HistoryEvent> = events
            .iter()
            .filter(|e| e.event_id > self.last_event_id)
            .collect();
        for (i, event) in new.iter().enumerate() {
            let Some(attributes) = &event.attributes else {
                return Err(TaskError::History(format!(
                    "event {} has no attributes",
                    event.event_id
                )));
            };
            match attributes {
                Attributes::WorkflowExecutionStartedEventAttributes(a) => {
                    self.start(event, a)?;
                }
                Attributes::WorkflowTaskStartedEventAttributes(_) => {
                    let next = new.get(i + 1).and_then(|e| e.attributes.as_ref());
                    match next {
                        Some(Attributes::WorkflowTaskCompletedEventAttributes(_)) => {
                            let commands = || {
                                new[i + 2..]
                                    .iter()
                                    .take_while(|e| is_command_event(e))
                                    .copied()
                            };
                            let mut replay_jobs = recorded_marker_jobs(commands());
                            replay_jobs.append(&mut jobs);
                            replay_jobs.extend(updates::replayed_jobs(commands()));
                            let issued = self.activate(event, true, replay_jobs)?;
                            self.pending.extend(issued.into_iter().filter(leaves_event));
                            self.unsent_tail = false;
                        }
                        None if event.event_id == current_started_id => {
                            let mut current = std::mem::take(&mut jobs);
                            current.extend(updates::request_jobs(
                                messages,
                                &mut self.update_requests,
                            )?);
                            let issued = self.activate(event, false, current)?;
                            self.pending
                                .extend(issued.iter().filter(|c| leaves_event(c)).cloned());
                            self.unsent_tail = true;
                            output = Some(issued);
                        }
                        // A task that failed or timed out: its jobs go to the next one.
                        _ => {}
                    }
                }
                a if is_command_attributes(a) => self.match_command(event, a)?,
                a => jobs.extend(self.job_for(event, a)?),
            }
            self.last_event_id = event.event_id;
        }
        Ok(output)
    }

    /// Fails if commands of a replayed task are missing from history.
    pub fn check_all_matched(&mut self) -> Result<(), TaskError> {
        self.pending.retain(|c| !is_deprecated_patch(c));
        match self.pending.front() {
            Some(missing) if !self.unsent_tail => Err(TaskError::Nondeterminism(format!(
                "the workflow issued {} but history ends without a matching event",
                describe_command(missing)
            ))),
            _ => Ok(()),
        }
    }

    fn start(
        &mut self,
        event: &HistoryEvent,
        a: &temporalio_protos::temporal::api::history::v1::WorkflowExecutionStartedEventAttributes,
    ) -> Result<(), TaskError> {
        let parent = a.parent_workflow_execution.as_ref().map(|p| ParentInfo {
            namespace: a.parent_workflow_namespace.clone(),
            workflow_id: p.workflow_id.clone(),
            run_id: p.run_id.clone(),
        });
        let info = WorkflowInfo {
            workflow_id: self.identity.workflow_id.clone(),
            run_id: self.identity.run_id.clone(),
            workflow_type: a
                .workflow_type
                .as_ref()
                .map(|t| t.name.clone())
                .unwrap_or_default(),
            task_queue: a
                .task_queue
                .as_ref()
                .map(|q| q.name.clone())
                .unwrap_or_default(),
            namespace: self.identity.namespace.clone(),
            attempt: u32::try_from(a.attempt).unwrap_or(1).max(1),
            first_execution_run_id: a.first_execution_run_id.clone(),
            continued_run_id: Some(a.continued_execution_run_id.clone()).filter(|s| !s.is_empty()),
            parent,
            execution_timeout: a
                .workflow_execution_timeout
                .as_ref()
                .and_then(duration_from_proto),
            run_timeout: a
                .workflow_run_timeout
                .as_ref()
                .and_then(duration_from_proto),
            task_timeout: a
                .workflow_task_timeout
                .as_ref()
                .and_then(duration_from_proto),
            cron_schedule: Some(a.cron_schedule.clone()).filter(|s| !s.is_empty()),
            start_time: event_time(event),
        };
        let seed_source = if a.first_execution_run_id.is_empty() {
            &self.identity.run_id
        } else {
            &a.first_execution_run_id
        };
        let start = WorkflowStart {
            info,
            input: a
                .input
                .as_ref()
                .map(|p| p.payloads.clone())
                .unwrap_or_default(),
            randomness_seed: seed_of(seed_source),
        };
        self.instance = Some(self.factory.start(start)?);
        Ok(())
    }

    fn activate(
        &mut self,
        started: &HistoryEvent,
        replaying: bool,
        jobs: Vec<Job>,
    ) -> Result<Vec<CommandRequest>, TaskError> {
        // Commands of earlier tasks must all have shown up in history by now.
        self.pending.retain(|c| !is_deprecated_patch(c));
        if let Some(missing) = self.pending.front() {
            return Err(TaskError::Nondeterminism(format!(
                "the workflow issued {} but history has no matching event before event {} ({})",
                describe_command(missing),
                started.event_id,
                "WorkflowTaskStarted"
            )));
        }
        let instance = self.instance.as_mut().ok_or_else(|| {
            TaskError::History("history does not start with WorkflowExecutionStarted".into())
        })?;
        let (history_size, continue_as_new_suggested) = match &started.attributes {
            Some(Attributes::WorkflowTaskStartedEventAttributes(a)) => (
                u64::try_from(a.history_size_bytes).unwrap_or(0),
                a.suggest_continue_as_new,
            ),
            _ => (0, false),
        };
        let activation = Activation {
            time: event_time(started),
            replaying,
            history_length: u32::try_from(started.event_id).unwrap_or(u32::MAX),
            history_size,
            continue_as_new_suggested,
            jobs,
        };
        let commands = if self.closed {
            Vec::new()
        } else {
            let _running = self
                .watch
                .as_ref()
                .map(|watch| watch.begin(&self.identity, self.factory.name(), Instant::now()));
            instance.activate(activation)?
        };
        if commands.iter().any(CommandRequest::is_terminal) {
            self.closed = true;
        }
        Ok(commands)
    }

    fn match_command(&mut self, event: &HistoryEvent, a: &Attributes) -> Result<(), TaskError> {
        loop {
            let Some(front) = self.pending.front() else {
                if is_deprecated_patch_event(a) {
                    return Ok(());
                }
                return Err(TaskError::Nondeterminism(format!(
                    "history has {} at event {} but the workflow issued no command for it",
                    describe_event(a),
                    event.event_id
                )));
            };
            if self.matches(front, a) {
                let command = self.pending.pop_front().expect("front exists");
                self.link(&command, event.event_id);
                return Ok(());
            }
            if is_deprecated_patch(front) {
                self.pending.pop_front();
                continue;
            }
            if is_deprecated_patch_event(a) {
                return Ok(());
            }
            return Err(TaskError::Nondeterminism(format!(
                "history has {} at event {} but the workflow issued {}",
                describe_event(a),
                event.event_id,
                describe_command(front)
            )));
        }
    }

    fn matches(&self, command: &CommandRequest, a: &Attributes) -> bool {
        match (command, a) {
            (
                CommandRequest::ScheduleActivity { attributes, .. },
                Attributes::ActivityTaskScheduledEventAttributes(e),
            ) => {
                attributes.activity_id == e.activity_id
                    && attributes.activity_type.as_ref().map(|t| &t.name)
                        == e.activity_type.as_ref().map(|t| &t.name)
            }
            (
                CommandRequest::RequestCancelActivity { seq },
                Attributes::ActivityTaskCancelRequestedEventAttributes(e),
            ) => self.activity_event.get(seq) == Some(&e.scheduled_event_id),
            (
                CommandRequest::StartTimer { attributes, .. },
                Attributes::TimerStartedEventAttributes(e),
            ) => attributes.timer_id == e.timer_id,
            (CommandRequest::CancelTimer { seq }, Attributes::TimerCanceledEventAttributes(e)) => {
                seq.to_string() == e.timer_id
            }
            (
                CommandRequest::StartChildWorkflow { attributes, .. },
                Attributes::StartChildWorkflowExecutionInitiatedEventAttributes(e),
            ) => {
                attributes.workflow_id == e.workflow_id
                    && attributes.workflow_type.as_ref().map(|t| &t.name)
                        == e.workflow_type.as_ref().map(|t| &t.name)
            }
            (
                CommandRequest::SignalExternal { attributes, .. },
                Attributes::SignalExternalWorkflowExecutionInitiatedEventAttributes(e),
            ) => {
                attributes.signal_name == e.signal_name
                    && attributes.execution.as_ref().map(|x| &x.workflow_id)
                        == e.workflow_execution.as_ref().map(|x| &x.workflow_id)
            }
            (
                CommandRequest::CancelExternal { attributes, .. },
                Attributes::RequestCancelExternalWorkflowExecutionInitiatedEventAttributes(e),
            ) => {
                Some(&attributes.workflow_id)
                    == e.workflow_execution.as_ref().map(|x| &x.workflow_id)
            }
            (
                CommandRequest::RecordMarker { marker, .. },
                Attributes::MarkerRecordedEventAttributes(e),
            ) => match (marker, Marker::from_event(e)) {
                (Marker::Patch { id, .. }, Some((Marker::Patch { id: recorded, .. }, _))) => {
                    *id == recorded
                }
                (Marker::SideEffect { seq }, Some((Marker::SideEffect { seq: recorded }, _))) => {
                    *seq == recorded
                }
                _ => false,
            },
            (
                CommandRequest::UpsertSearchAttributes(attributes),
                Attributes::UpsertWorkflowSearchAttributesEventAttributes(e),
            ) => same_keys(
                attributes
                    .search_attributes
                    .as_ref()
                    .map(|a| &a.indexed_fields),
                e.search_attributes.as_ref().map(|a| &a.indexed_fields),
            ),
            (
                CommandRequest::ModifyProperties(attributes),
                Attributes::WorkflowPropertiesModifiedEventAttributes(e),
            ) => same_keys(
                attributes.upserted_memo.as_ref().map(|m| &m.fields),
                e.upserted_memo.as_ref().map(|m| &m.fields),
            ),
            (
                CommandRequest::CompleteWorkflow(_),
                Attributes::WorkflowExecutionCompletedEventAttributes(_),
            )
            | (
                CommandRequest::FailWorkflow(_),
                Attributes::WorkflowExecutionFailedEventAttributes(_),
            )
            | (
                CommandRequest::CancelWorkflow(_),
                Attributes::WorkflowExecutionCanceledEventAttributes(_),
            )
            | (
                CommandRequest::ContinueAsNew(_),
                Attributes::WorkflowExecutionContinuedAsNewEventAttributes(_),
            ) => true,
            (
                CommandRequest::AcceptUpdate { id },
                Attributes::WorkflowExecutionUpdateAcceptedEventAttributes(e),
            ) => *id == e.protocol_instance_id,
            (
                CommandRequest::CompleteUpdate { id, .. },
                Attributes::WorkflowExecutionUpdateCompletedEventAttributes(e),
            ) => e.meta.as_ref().is_some_and(|m| m.update_id == *id),
            _ => false,
        }
    }

    fn link(&mut self, command: &CommandRequest, event_id: i64) {
        match command {
            CommandRequest::ScheduleActivity {
                seq, attributes, ..
            } => {
                self.activity_by_event.insert(event_id, *seq);
                self.activity_event.insert(*seq, event_id);
                let activity_type = attributes
                    .activity_type
                    .as_ref()
                    .map(|t| t.name.clone())
                    .unwrap_or_default();
                self.activity_names
                    .insert(*seq, (activity_type, attributes.activity_id.clone()));
            }
            CommandRequest::StartChildWorkflow { seq, .. } => {
                self.child_by_event.insert(event_id, *seq);
            }
            CommandRequest::SignalExternal { seq, .. } => {
                self.signal_by_event.insert(event_id, *seq);
            }
            CommandRequest::CancelExternal { seq, .. } => {
                self.cancel_by_event.insert(event_id, *seq);
            }
            _ => {}
        }
    }

    fn job_for(&self, event: &HistoryEvent, a: &Attributes) -> Result<Option<Job>, TaskError> {
        let lookup = |map: &HashMap<i64, u32>, id: i64, what: &str| {
            map.get(&id).copied().ok_or_else(|| {
                TaskError::History(format!(
                    "event {} refers to {what} event {id}, which this run did not issue",
                    event.event_id
                ))
            })
        };
        let job = match a {
            Attributes::ActivityTaskCompletedEventAttributes(e) => Job::ResolveActivity {
                seq: lookup(&self.activity_by_event, e.scheduled_event_id, "activity")?,
                result: Ok(e.result.as_ref().and_then(|p| p.payloads.first().cloned())),
            },
            Attributes::ActivityTaskFailedEventAttributes(e) => Job::ResolveActivity {
                seq: lookup(&self.activity_by_event, e.scheduled_event_id, "activity")?,
                result: Err(self.activity_failure(
                    "Activity task failed",
                    e.scheduled_event_id,
                    e.started_event_id,
                    &e.identity,
                    e.retry_state,
                    e.failure.clone().map(Failure::from_proto),
                )),
            },
            Attributes::ActivityTaskTimedOutEventAttributes(e) => Job::ResolveActivity {
                seq: lookup(&self.activity_by_event, e.scheduled_event_id, "activity")?,
                result: Err(self.activity_failure(
                    "Activity task timed out",
                    e.scheduled_event_id,
                    e.started_event_id,
                    "",
                    e.retry_state,
                    e.failure.clone().map(Failure::from_proto),
                )),
            },
            Attributes::ActivityTaskCanceledEventAttributes(e) => Job::ResolveActivity {
                seq: lookup(&self.activity_by_event, e.scheduled_event_id, "activity")?,
                result: Err(self.activity_failure(
                    "Activity cancelled",
                    e.scheduled_event_id,
                    e.started_event_id,
                    &e.identity,
                    0,
                    Some(cancelled(
                        "Activity cancelled",
                        e.details
                            .as_ref()
                            .map(|d| d.payloads.clone())
                            .unwrap_or_default(),
                    )),
                )),
            },
            Attributes::TimerFiredEventAttributes(e) => Job::FireTimer {
                seq: e.timer_id.parse().map_err(|_| {
                    TaskError::History(format!(
                        "timer id {:?} is not one this SDK issued",
                        e.timer_id
                    ))
                })?,
            },
            Attributes::ChildWorkflowExecutionStartedEventAttributes(e) => Job::ChildStarted {
                seq: lookup(&self.child_by_event, e.initiated_event_id, "child workflow")?,
                run_id: e
                    .workflow_execution
                    .as_ref()
                    .map(|x| x.run_id.clone())
                    .unwrap_or_default(),
            },
            Attributes::StartChildWorkflowExecutionFailedEventAttributes(e) => {
                Job::ChildStartFailed {
                    seq: lookup(&self.child_by_event, e.initiated_event_id, "child workflow")?,
                    failure: Failure::application(
                        "ChildWorkflowStartFailed",
                        format!(
                            "child workflow {} could not start: {:?}",
                            e.workflow_id,
                            e.cause()
                        ),
                    )
                    .non_retryable(),
                }
            }
            Attributes::ChildWorkflowExecutionCompletedEventAttributes(e) => Job::ResolveChild {
                seq: lookup(&self.child_by_event, e.initiated_event_id, "child workflow")?,
                result: Ok(e.result.as_ref().and_then(|p| p.payloads.first().cloned())),
            },
            Attributes::ChildWorkflowExecutionFailedEventAttributes(e) => Job::ResolveChild {
                seq: lookup(&self.child_by_event, e.initiated_event_id, "child workflow")?,
                result: Err(child_failure(
                    "Child workflow execution failed",
                    &e.namespace,
                    e.workflow_execution.as_ref(),
                    e.workflow_type.as_ref(),
                    e.initiated_event_id,
                    e.started_event_id,
                    e.retry_state,
                    e.failure.clone().map(Failure::from_proto),
                )),
            },
            Attributes::ChildWorkflowExecutionCanceledEventAttributes(e) => Job::ResolveChild {
                seq: lookup(&self.child_by_event, e.initiated_event_id, "child workflow")?,
                result: Err(child_failure(
                    "Child workflow execution cancelled",
                    &e.namespace,
                    e.workflow_execution.as_ref(),
                    e.workflow_type.as_ref(),
                    e.initiated_event_id,
                    e.started_event_id,
                    0,
                    Some(cancelled(
                        "Child workflow cancelled",
                        e.details
                            .as_ref()
                            .map(|d| d.payloads.clone())
                            .unwrap_or_default(),
                    )),
                )),
            },
            Attributes::ChildWorkflowExecutionTimedOutEventAttributes(e) => Job::ResolveChild {
                seq: lookup(&self.child_by_event, e.initiated_event_id, "child workflow")?,
                result: Err(child_failure(
                    "Child workflow execution timed out",
                    &e.namespace,
                    e.workflow_execution.as_ref(),
                    e.workflow_type.as_ref(),
                    e.initiated_event_id,
                    e.started_event_id,
                    e.retry_state,
                    Some(Failure {
                        message: "Child workflow timed out".into(),
                        source: String::new(),
                        stack_trace: String::new(),
                        info: FailureInfo::Timeout {
                            timeout_type: TimeoutType::StartToClose,
                            last_heartbeat_details: Vec::new(),
                        },
                        cause: None,
                    }),
                )),
            },
            Attributes::ChildWorkflowExecutionTerminatedEventAttributes(e) => Job::ResolveChild {
                seq: lookup(&self.child_by_event, e.initiated_event_id, "child workflow")?,
                result: Err(child_failure(
                    "Child workflow execution terminated",
                    &e.namespace,
                    e.workflow_execution.as_ref(),
                    e.workflow_type.as_ref(),
                    e.initiated_event_id,
                    e.started_event_id,
                    0,
                    Some(Failure {
                        message: "Child workflow terminated".into(),
                        source: String::new(),
                        stack_trace: String::new(),
                        info: FailureInfo::Terminated {
                            identity: String::new(),
                        },
                        cause: None,
                    }),
                )),
            },
            Attributes::ExternalWorkflowExecutionSignaledEventAttributes(e) => {
                Job::ResolveSignalExternal {
                    seq: lookup(&self.signal_by_event, e.initiated_event_id, "signal")?,
                    result: Ok(()),
                }
            }
            Attributes::SignalExternalWorkflowExecutionFailedEventAttributes(e) => {
                Job::ResolveSignalExternal {
                    seq: lookup(&self.signal_by_event, e.initiated_event_id, "signal")?,
                    result: Err(Failure::application(
                        "SignalExternalWorkflowFailed",
                        format!(
                            "signal to workflow {} failed: {:?}",
                            e.workflow_execution
                                .as_ref()
                                .map(|x| x.workflow_id.as_str())
                                .unwrap_or_default(),
                            e.cause()
                        ),
                    )),
                }
            }
            Attributes::ExternalWorkflowExecutionCancelRequestedEventAttributes(e) => {
                Job::ResolveCancelExternal {
                    seq: lookup(
                        &self.cancel_by_event,
                        e.initiated_event_id,
                        "cancel request",
                    )?,
                    result: Ok(()),
                }
            }
            Attributes::RequestCancelExternalWorkflowExecutionFailedEventAttributes(e) => {
                Job::ResolveCancelExternal {
                    seq: lookup(
                        &self.cancel_by_event,
                        e.initiated_event_id,
                        "cancel request",
                    )?,
                    result: Err(Failure::application(
                        "CancelExternalWorkflowFailed",
                        format!(
                            "cancel request to workflow {} failed: {:?}",
                            e.workflow_execution
                                .as_ref()
                                .map(|x| x.workflow_id.as_str())
                                .unwrap_or_default(),
                            e.cause()
                        ),
                    )),
                }
            }
            Attributes::WorkflowExecutionSignaledEventAttributes(e) => Job::Signal {
                name: e.signal_name.clone(),
                input: e
                    .input
                    .as_ref()
                    .map(|p| p.payloads.clone())
                    .unwrap_or_default(),
            },
            Attributes::WorkflowExecutionCancelRequestedEventAttributes(e) => Job::CancelWorkflow {
                reason: e.cause.clone(),
            },
            _ => return Ok(None),
        };
        Ok(Some(job))
    }

    fn activity_failure(
        &self,
        message: &str,
        scheduled_event_id: i64,
        started_event_id: i64,
        identity: &str,
        retry_state: i32,
        cause: Option<Failure>,
    ) -> Failure {
        let (activity_type, activity_id) = self
            .activity_by_event
            .get(&scheduled_event_id)
            .and_then(|seq| self.activity_names.get(seq))
            .cloned()
            .unwrap_or_default();
        Failure {
            message: message.to_string(),
            source: String::new(),
            stack_trace: String::new(),
            info: FailureInfo::Activity(ActivityFailure {
                activity_type,
                activity_id,
                scheduled_event_id,
                started_event_id,
                identity: identity.to_string(),
                retry_state: retry_state.try_into().unwrap_or_default(),
            }),
            cause: cause.map(Box::new),
        }
    }

    /// The wire form of a command, resolving the event ids the code cannot know: a command,
    /// a protocol message (an update's answer), or both.
    pub fn wire(&mut self, command: CommandRequest) -> Result<Wire, TaskError> {
        use command::command::Attributes as C;
        let mut user_metadata = None;
        let (kind, attributes) = match command {
            CommandRequest::AcceptUpdate { id } => {
                let (command, message) = updates::accept(&self.update_requests, &id)?;
                return Ok(Wire::both(command, message));
            }
            CommandRequest::RejectUpdate { id, failure } => {
                let message = updates::reject(&mut self.update_requests, &id, failure)?;
                return Ok(Wire {
                    command: None,
                    message: Some(message),
                });
            }
            CommandRequest::CompleteUpdate { id, result } => {
                let (command, message) = updates::complete(&mut self.update_requests, &id, result);
                return Ok(Wire::both(command, message));
            }
            CommandRequest::ScheduleActivity {
                attributes,
                user_metadata: summary,
                ..
            } => {
                user_metadata = summary;
                (
                    CommandType::ScheduleActivityTask,
                    C::ScheduleActivityTaskCommandAttributes(attributes),
                )
            }
            CommandRequest::RequestCancelActivity { seq } => {
                let scheduled_event_id = *self.activity_event.get(&seq).ok_or_else(|| {
                    TaskError::History(format!(
                        "activity {seq} was cancelled before it was scheduled"
                    ))
                })?;
                (
                    CommandType::RequestCancelActivityTask,
                    C::RequestCancelActivityTaskCommandAttributes(
                        command::RequestCancelActivityTaskCommandAttributes { scheduled_event_id },
                    ),
                )
            }
            CommandRequest::StartTimer { attributes, .. } => (
                CommandType::StartTimer,
                C::StartTimerCommandAttributes(attributes),
            ),
            CommandRequest::CancelTimer { seq } => (
                CommandType::CancelTimer,
                C::CancelTimerCommandAttributes(command::CancelTimerCommandAttributes {
                    timer_id: seq.to_string(),
                }),
            ),
            CommandRequest::StartChildWorkflow { attributes, .. } => (
                CommandType::StartChildWorkflowExecution,
                C::StartChildWorkflowExecutionCommandAttributes(attributes),
            ),
            CommandRequest::SignalExternal { attributes, .. } => (
                CommandType::SignalExternalWorkflowExecution,
                C::SignalExternalWorkflowExecutionCommandAttributes(attributes),
            ),
            CommandRequest::CancelExternal { attributes, .. } => (
                CommandType::RequestCancelExternalWorkflowExecution,
                C::RequestCancelExternalWorkflowExecutionCommandAttributes(attributes),
            ),
            CommandRequest::RecordMarker { attributes, .. } => (
                CommandType::RecordMarker,
                C::RecordMarkerCommandAttributes(attributes),
            ),
            CommandRequest::UpsertSearchAttributes(a) => (
                CommandType::UpsertWorkflowSearchAttributes,
                C::UpsertWorkflowSearchAttributesCommandAttributes(a),
            ),
            CommandRequest::ModifyProperties(a) => (
                CommandType::ModifyWorkflowProperties,
                C::ModifyWorkflowPropertiesCommandAttributes(a),
            ),
            CommandRequest::CompleteWorkflow(a) => (
                CommandType::CompleteWorkflowExecution,
                C::CompleteWorkflowExecutionCommandAttributes(a),
            ),
            CommandRequest::FailWorkflow(a) => (
                CommandType::FailWorkflowExecution,
                C::FailWorkflowExecutionCommandAttributes(a),
            ),
            CommandRequest::CancelWorkflow(a) => (
                CommandType::CancelWorkflowExecution,
                C::CancelWorkflowExecutionCommandAttributes(a),
            ),
            CommandRequest::ContinueAsNew(a) => (
                CommandType::ContinueAsNewWorkflowExecution,
                C::ContinueAsNewWorkflowExecutionCommandAttributes(a),
            ),
        };
        Ok(Wire {
            command: Some(Command {
                command_type: kind as i32,
                attributes: Some(attributes),
                user_metadata,
                ..Default::default()
            }),
            message: None,
        })
    }
}

/// What one command of the code sends: a command, a protocol message, or both.
#[derive(Debug)]
pub struct Wire {
    pub command: Option<Command>,
    pub message: Option<Message>,
}

impl Wire {
    fn both(command: Command, message: Message) -> Self {
        Self {
            command: Some(command),
            message: Some(message),
        }
    }
}

/// Whether history will show a command: all do but an update's rejection.
fn leaves_event(command: &CommandRequest) -> bool {
    !matches!(command, CommandRequest::RejectUpdate { .. })
}

#[allow(clippy::too_many_arguments)]
fn child_failure(
    message: &str,
    namespace: &str,
    execution: Option<&temporalio_protos::temporal::api::common::v1::WorkflowExecution>,
    workflow_type: Option<&temporalio_protos::temporal::api::common::v1::WorkflowType>,
    initiated_event_id: i64,
    started_event_id: i64,
    retry_state: i32,
    cause: Option<Failure>,
) -> Failure {
    Failure {
        message: message.to_string(),
        source: String::new(),
        stack_trace: String::new(),
        info: FailureInfo::ChildWorkflow(ChildWorkflowFailure {
            namespace: namespace.to_string(),
            workflow_id: execution.map(|x| x.workflow_id.clone()).unwrap_or_default(),
            run_id: execution.map(|x| x.run_id.clone()).unwrap_or_default(),
            workflow_type: workflow_type.map(|t| t.name.clone()).unwrap_or_default(),
            initiated_event_id,
            started_event_id,
            retry_state: retry_state.try_into().unwrap_or_default(),
        }),
        cause: cause.map(Box::new),
    }
}

fn cancelled(message: &str, details: Vec<Payload>) -> Failure {
    Failure {
        message: message.to_string(),
        source: String::new(),
        stack_trace: String::new(),
        info: FailureInfo::Canceled {
            details,
            identity: String::new(),
        },
        cause: None,
    }
}

fn event_time(event: &HistoryEvent) -> SystemTime {
    event
        .event_time
        .as_ref()
        .and_then(time_from_proto)
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// FNV-1a: a stable hash, so the seed of a run is the same on every worker and version.
fn seed_of(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Jobs telling the code what the task being replayed recorded: patches and side effects.
fn recorded_marker_jobs<'a>(events: impl Iterator<Item = &'a HistoryEvent>) -> Vec<Job> {
    events
        .filter_map(|e| match &e.attributes {
            Some(Attributes::MarkerRecordedEventAttributes(m)) => Marker::from_event(m),
            _ => None,
        })
        .filter_map(|(marker, data)| match marker {
            Marker::Patch { id, .. } => Some(Job::NotifyPatch { id }),
            Marker::SideEffect { seq } => data.map(|value| Job::SideEffectResult { seq, value }),
        })
        .collect()
}

fn is_command_event(event: &HistoryEvent) -> bool {
    event.attributes.as_ref().is_some_and(is_command_attributes)
}

fn is_command_attributes(a: &Attributes) -> bool {
    matches!(
        a,
        Attributes::ActivityTaskScheduledEventAttributes(_)
            | Attributes::ActivityTaskCancelRequestedEventAttributes(_)
            | Attributes::TimerStartedEventAttributes(_)
            | Attributes::TimerCanceledEventAttributes(_)
            | Attributes::StartChildWorkflowExecutionInitiatedEventAttributes(_)
            | Attributes::SignalExternalWorkflowExecutionInitiatedEventAttributes(_)
            | Attributes::RequestCancelExternalWorkflowExecutionInitiatedEventAttributes(_)
            | Attributes::MarkerRecordedEventAttributes(_)
            | Attributes::UpsertWorkflowSearchAttributesEventAttributes(_)
            | Attributes::WorkflowPropertiesModifiedEventAttributes(_)
            | Attributes::WorkflowExecutionCompletedEventAttributes(_)
            | Attributes::WorkflowExecutionFailedEventAttributes(_)
            | Attributes::WorkflowExecutionCanceledEventAttributes(_)
            | Attributes::WorkflowExecutionContinuedAsNewEventAttributes(_)
            | Attributes::WorkflowExecutionUpdateAcceptedEventAttributes(_)
            | Attributes::WorkflowExecutionUpdateCompletedEventAttributes(_)
    )
}

fn is_deprecated_patch(command: &CommandRequest) -> bool {
    matches!(
        command,
        CommandRequest::RecordMarker {
            marker: Marker::Patch {
                deprecated: true,
                ..
            },
            ..
        }
    )
}

fn is_deprecated_patch_event(a: &Attributes) -> bool {
    match a {
        Attributes::MarkerRecordedEventAttributes(m) => matches!(
            Marker::from_event(m),
            Some((
                Marker::Patch {
                    deprecated: true,
                    ..
                },
                _
            ))
        ),
        _ => false,
    }
}

fn describe_command(command: &CommandRequest) -> String {
    match command {
        CommandRequest::ScheduleActivity { attributes, .. } => format!(
            "ScheduleActivityTask(activity_id={}, activity_type={})",
            attributes.activity_id,
            attributes
                .activity_type
                .as_ref()
                .map(|t| t.name.as_str())
                .unwrap_or_default()
        ),
        CommandRequest::RequestCancelActivity { seq } => {
            format!("RequestCancelActivityTask(activity seq={seq})")
        }
        CommandRequest::StartTimer { attributes, .. } => {
            format!("StartTimer(timer_id={})", attributes.timer_id)
        }
        CommandRequest::CancelTimer { seq } => format!("CancelTimer(timer_id={seq})"),
        CommandRequest::StartChildWorkflow { attributes, .. } => format!(
            "StartChildWorkflowExecution(workflow_id={}, workflow_type={})",
            attributes.workflow_id,
            attributes
                .workflow_type
                .as_ref()
                .map(|t| t.name.as_str())
                .unwrap_or_default()
        ),
        CommandRequest::SignalExternal { attributes, .. } => format!(
            "SignalExternalWorkflowExecution(signal_name={})",
            attributes.signal_name
        ),
        CommandRequest::CancelExternal { attributes, .. } => format!(
            "RequestCancelExternalWorkflowExecution(workflow_id={})",
            attributes.workflow_id
        ),
        CommandRequest::RecordMarker { marker, .. } => format!("RecordMarker({marker:?})"),
        CommandRequest::UpsertSearchAttributes(a) => format!(
            "UpsertWorkflowSearchAttributes(names={:?})",
            sorted_keys(a.search_attributes.as_ref().map(|a| &a.indexed_fields))
        ),
        CommandRequest::ModifyProperties(a) => format!(
            "ModifyWorkflowProperties(memo keys={:?})",
            sorted_keys(a.upserted_memo.as_ref().map(|m| &m.fields))
        ),
        CommandRequest::CompleteWorkflow(_) => "CompleteWorkflowExecution".into(),
        CommandRequest::FailWorkflow(_) => "FailWorkflowExecution".into(),
        CommandRequest::CancelWorkflow(_) => "CancelWorkflowExecution".into(),
        CommandRequest::ContinueAsNew(_) => "ContinueAsNewWorkflowExecution".into(),
        CommandRequest::AcceptUpdate { id } => format!("AcceptUpdate(update_id={id})"),
        CommandRequest::RejectUpdate { id, .. } => format!("RejectUpdate(update_id={id})"),
        CommandRequest::CompleteUpdate { id, .. } => format!("CompleteUpdate(update_id={id})"),
    }
}

/// An upsert replays as the same command when it names the same keys (the values may be
/// encoded differently by another converter).
fn same_keys<V>(command: Option<&HashMap<String, V>>, event: Option<&HashMap<String, V>>) -> bool {
    sorted_keys(command) == sorted_keys(event)
}

fn sorted_keys<V>(fields: Option<&HashMap<String, V>>) -> Vec<&str> {
    let mut keys: Vec<&str> = fields
        .into_iter()
        .flat_map(|f| f.keys().map(String::as_str))
        .collect();
    keys.sort_unstable();
    keys
}

fn describe_event(a: &Attributes) -> String {
    match a {
        Attributes::UpsertWorkflowSearchAttributesEventAttributes(e) => format!(
            "UpsertWorkflowSearchAttributes(names={:?})",
            sorted_keys(e.search_attributes.as_ref().map(|a| &a.indexed_fields))
        ),
        Attributes::WorkflowPropertiesModifiedEventAttributes(e) => format!(
            "WorkflowPropertiesModified(memo keys={:?})",
            sorted_keys(e.upserted_memo.as_ref().map(|m| &m.fields))
        ),
        Attributes::ActivityTaskScheduledEventAttributes(e) => format!(
            "ActivityTaskScheduled(activity_id={}, activity_type={})",
            e.activity_id,
            e.activity_type
                .as_ref()
                .map(|t| t.name.as_str())
                .unwrap_or_default()
        ),
        Attributes::TimerStartedEventAttributes(e) => {
            format!("TimerStarted(timer_id={})", e.timer_id)
        }
        Attributes::TimerCanceledEventAttributes(e) => {
            format!("TimerCanceled(timer_id={})", e.timer_id)
        }
        Attributes::StartChildWorkflowExecutionInitiatedEventAttributes(e) => format!(
            "StartChildWorkflowExecutionInitiated(workflow_id={}, workflow_type={})",
            e.workflow_id,
            e.workflow_type
                .as_ref()
                .map(|t| t.name.as_str())
                .unwrap_or_default()
        ),
        Attributes::SignalExternalWorkflowExecutionInitiatedEventAttributes(e) => format!(
            "SignalExternalWorkflowExecutionInitiated(signal_name={})",
            e.signal_name
        ),
        Attributes::MarkerRecordedEventAttributes(e) => match Marker::from_event(e) {
            Some((marker, _)) => format!("MarkerRecorded({marker:?})"),
            None => format!("MarkerRecorded(marker_name={})", e.marker_name),
        },
        other => {
            let name = format!("{other:?}");
            name.split('(')
                .next()
                .unwrap_or_default()
                .trim_end_matches("EventAttributes")
                .to_string()
        }
    }
}

#[cfg(test)]
mod tests;
