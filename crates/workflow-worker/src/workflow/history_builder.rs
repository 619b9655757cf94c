//! Builds Temporal histories for tests, event by event, the way the server writes them.
//!
//! Event ids count from 1 and every event gets a time one second after the previous one, so
//! workflow time is deterministic. Methods that add an event return its id; events that refer
//! to earlier ones (an activity's completion to its scheduling, a timer's firing to its start)
//! take those ids as arguments, and command events carry the id of the last
//! `WorkflowTaskCompleted`, as the server records them.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use temporalio_protos::temporal::api::common::v1::{
    ActivityType, Memo, Payload, Payloads, SearchAttributes, WorkflowExecution, WorkflowType,
};
use temporalio_protos::temporal::api::enums::v1::{
    EventType, RetryState, TimeoutType, WorkflowTaskFailedCause,
};
use temporalio_protos::temporal::api::failure::v1::{
    Failure as ProtoFailure, TimeoutFailureInfo, failure::FailureInfo,
};
use temporalio_protos::temporal::api::history::v1::{self as h, HistoryEvent, history_event};
use temporalio_protos::temporal::api::taskqueue::v1::TaskQueue;
use workflow_core::options::duration_to_proto;
use workflow_core::payload::PayloadValue;
use workflow_core::workflow::runtime::{PATCH_MARKER_NAME, SIDE_EFFECT_MARKER_NAME};

use history_event::Attributes as A;

/// The task queue every built history runs on.
pub(crate) const TASK_QUEUE: &str = "test-queue";

/// A history under construction.
#[derive(Debug, Clone)]
pub(crate) struct HistoryBuilder {
    events: Vec<HistoryEvent>,
    start: SystemTime,
    /// The last `WorkflowTaskScheduled`, for the task's started event.
    task_scheduled: i64,
    /// The last `WorkflowTaskStarted`, for the task's completion.
    task_started: i64,
    /// The last `WorkflowTaskCompleted`, which command events name.
    task_completed: i64,
}

impl HistoryBuilder {
    /// A history that starts a run of `workflow_type` with these input payloads.
    pub(crate) fn started(workflow_type: &str, input: Vec<Payload>) -> Self {
        let mut builder = Self {
            events: Vec::new(),
            start: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            task_scheduled: 0,
            task_started: 0,
            task_completed: 0,
        };
        builder.add(
            EventType::WorkflowExecutionStarted,
            A::WorkflowExecutionStartedEventAttributes(
                h::WorkflowExecutionStartedEventAttributes {
                    workflow_type: Some(WorkflowType {
                        name: workflow_type.into(),
                    }),
                    task_queue: Some(queue()),
                    input: Some(Payloads { payloads: input }),
                    workflow_task_timeout: duration_to_proto(Duration::from_secs(10)),
                    original_execution_run_id: "run".into(),
                    first_execution_run_id: "run".into(),
                    attempt: 1,
                    ..Default::default()
                },
            ),
        );
        builder
    }

    /// Appends an event of `kind`; returns its id.
    pub(crate) fn add(&mut self, kind: EventType, attributes: A) -> i64 {
        let event_id = self.next_id();
        let time = self.start + Duration::from_secs(event_id.unsigned_abs());
        self.events.push(HistoryEvent {
            event_id,
            event_time: Some(time.into()),
            event_type: kind as i32,
            attributes: Some(attributes),
            ..Default::default()
        });
        event_id
    }

    /// The id the next event will get.
    pub(crate) fn next_id(&self) -> i64 {
        self.events.len() as i64 + 1
    }

    /// The id of the last event.
    pub(crate) fn last_id(&self) -> i64 {
        self.events.len() as i64
    }

    /// All events so far.
    pub(crate) fn events(&self) -> &[HistoryEvent] {
        &self.events
    }

    /// The events after `event_id`: what a task on a sticky queue carries.
    pub(crate) fn events_after(&self, event_id: i64) -> Vec<HistoryEvent> {
        self.events
            .iter()
            .filter(|e| e.event_id > event_id)
            .cloned()
            .collect()
    }

    // Workflow tasks.

    pub(crate) fn workflow_task_scheduled(&mut self) -> i64 {
        self.task_scheduled = self.add(
            EventType::WorkflowTaskScheduled,
            A::WorkflowTaskScheduledEventAttributes(h::WorkflowTaskScheduledEventAttributes {
                task_queue: Some(queue()),
                start_to_close_timeout: duration_to_proto(Duration::from_secs(10)),
                attempt: 1,
            }),
        );
        self.task_scheduled
    }

    pub(crate) fn workflow_task_started(&mut self) -> i64 {
        self.task_started = self.add(
            EventType::WorkflowTaskStarted,
            A::WorkflowTaskStartedEventAttributes(h::WorkflowTaskStartedEventAttributes {
                scheduled_event_id: self.task_scheduled,
                identity: "test-worker".into(),
                ..Default::default()
            }),
        );
        self.task_started
    }

    pub(crate) fn workflow_task_completed(&mut self) -> i64 {
        self.task_completed = self.add(
            EventType::WorkflowTaskCompleted,
            A::WorkflowTaskCompletedEventAttributes(h::WorkflowTaskCompletedEventAttributes {
                scheduled_event_id: self.task_scheduled,
                started_event_id: self.task_started,
                identity: "test-worker".into(),
                ..Default::default()
            }),
        );
        self.task_completed
    }

    pub(crate) fn workflow_task_failed(&mut self) -> i64 {
        self.add(
            EventType::WorkflowTaskFailed,
            A::WorkflowTaskFailedEventAttributes(h::WorkflowTaskFailedEventAttributes {
                scheduled_event_id: self.task_scheduled,
                started_event_id: self.task_started,
                cause: WorkflowTaskFailedCause::WorkflowWorkerUnhandledFailure as i32,
                identity: "test-worker".into(),
                ..Default::default()
            }),
        )
    }

    pub(crate) fn workflow_task_timed_out(&mut self) -> i64 {
        self.add(
            EventType::WorkflowTaskTimedOut,
            A::WorkflowTaskTimedOutEventAttributes(h::WorkflowTaskTimedOutEventAttributes {
                scheduled_event_id: self.task_scheduled,
                started_event_id: self.task_started,
                timeout_type: TimeoutType::StartToClose as i32,
            }),
        )
    }

    /// Scheduled and started: the task a worker is asked to run. Returns the started id.
    pub(crate) fn workflow_task(&mut self) -> i64 {
        self.workflow_task_scheduled();
        self.workflow_task_started()
    }

    /// Scheduled, started and completed: a task the worker already ran. Returns the
    /// completed id.
    pub(crate) fn completed_workflow_task(&mut self) -> i64 {
        self.workflow_task();
        self.workflow_task_completed()
    }

    // Activities.

    pub(crate) fn activity_scheduled(&mut self, activity_id: &str, activity_type: &str) -> i64 {
        self.add(
            EventType::ActivityTaskScheduled,
            A::ActivityTaskScheduledEventAttributes(h::ActivityTaskScheduledEventAttributes {
                activity_id: activity_id.into(),
                activity_type: Some(ActivityType {
                    name: activity_type.into(),
                }),
                task_queue: Some(queue()),
                start_to_close_timeout: duration_to_proto(Duration::from_secs(10)),
                workflow_task_completed_event_id: self.task_completed,
                ..Default::default()
            }),
        )
    }

    pub(crate) fn activity_started(&mut self, scheduled: i64) -> i64 {
        self.add(
            EventType::ActivityTaskStarted,
            A::ActivityTaskStartedEventAttributes(h::ActivityTaskStartedEventAttributes {
                scheduled_event_id: scheduled,
                identity: "test-worker".into(),
                attempt: 1,
                ..Default::default()
            }),
        )
    }

    pub(crate) fn activity_completed(
        &mut self,
        scheduled: i64,
        started: i64,
        result: Payload,
    ) -> i64 {
        self.add(
            EventType::ActivityTaskCompleted,
            A::ActivityTaskCompletedEventAttributes(h::ActivityTaskCompletedEventAttributes {
                result: Some(Payloads {
                    payloads: vec![result],
                }),
                scheduled_event_id: scheduled,
                started_event_id: started,
                identity: "test-worker".into(),
                ..Default::default()
            }),
        )
    }

    pub(crate) fn activity_failed(&mut self, scheduled: i64, started: i64, message: &str) -> i64 {
        self.add(
            EventType::ActivityTaskFailed,
            A::ActivityTaskFailedEventAttributes(h::ActivityTaskFailedEventAttributes {
                failure: Some(application_failure(message)),
                scheduled_event_id: scheduled,
                started_event_id: started,
                identity: "test-worker".into(),
                retry_state: RetryState::MaximumAttemptsReached as i32,
                ..Default::default()
            }),
        )
    }

    pub(crate) fn activity_timed_out(&mut self, scheduled: i64, started: i64) -> i64 {
        self.add(
            EventType::ActivityTaskTimedOut,
            A::ActivityTaskTimedOutEventAttributes(h::ActivityTaskTimedOutEventAttributes {
                failure: Some(ProtoFailure {
                    message: "activity StartToClose timeout".into(),
                    failure_info: Some(FailureInfo::TimeoutFailureInfo(TimeoutFailureInfo {
                        timeout_type: TimeoutType::StartToClose as i32,
                        ..Default::default()
                    })),
                    ..Default::default()
                }),
                scheduled_event_id: scheduled,
                started_event_id: started,
                retry_state: RetryState::Timeout as i32,
            }),
        )
    }

    pub(crate) fn activity_cancel_requested(&mut self, scheduled: i64) -> i64 {
        self.add(
            EventType::ActivityTaskCancelRequested,
            A::ActivityTaskCancelRequestedEventAttributes(
                h::ActivityTaskCancelRequestedEventAttributes {
                    scheduled_event_id: scheduled,
                    workflow_task_completed_event_id: self.task_completed,
                },
            ),
        )
    }

    /// `started` is 0 for an activity cancelled before a worker picked it up.
    pub(crate) fn activity_canceled(
        &mut self,
        scheduled: i64,
        started: i64,
        requested: i64,
    ) -> i64 {
        self.add(
            EventType::ActivityTaskCanceled,
            A::ActivityTaskCanceledEventAttributes(h::ActivityTaskCanceledEventAttributes {
                latest_cancel_requested_event_id: requested,
                scheduled_event_id: scheduled,
                started_event_id: started,
                ..Default::default()
            }),
        )
    }

    // Timers.

    pub(crate) fn timer_started(&mut self, timer_id: &str, duration: Duration) -> i64 {
        self.add(
            EventType::TimerStarted,
            A::TimerStartedEventAttributes(h::TimerStartedEventAttributes {
                timer_id: timer_id.into(),
                start_to_fire_timeout: duration_to_proto(duration),
                workflow_task_completed_event_id: self.task_completed,
            }),
        )
    }

    pub(crate) fn timer_fired(&mut self, timer_id: &str, started: i64) -> i64 {
        self.add(
            EventType::TimerFired,
            A::TimerFiredEventAttributes(h::TimerFiredEventAttributes {
                timer_id: timer_id.into(),
                started_event_id: started,
            }),
        )
    }

    pub(crate) fn timer_canceled(&mut self, timer_id: &str, started: i64) -> i64 {
        self.add(
            EventType::TimerCanceled,
            A::TimerCanceledEventAttributes(h::TimerCanceledEventAttributes {
                timer_id: timer_id.into(),
                started_event_id: started,
                workflow_task_completed_event_id: self.task_completed,
                identity: "test-worker".into(),
            }),
        )
    }

    // Updates.

    /// The acceptance of update `id` (`name` with `args`), as a worker's task recorded it.
    pub(crate) fn update_accepted(&mut self, id: &str, name: &str, args: Vec<Payload>) -> i64 {
        use temporalio_protos::temporal::api::update::v1 as u;
        self.add(
            EventType::WorkflowExecutionUpdateAccepted,
            A::WorkflowExecutionUpdateAcceptedEventAttributes(
                h::WorkflowExecutionUpdateAcceptedEventAttributes {
                    protocol_instance_id: id.into(),
                    accepted_request_message_id: format!("{id}/request"),
                    accepted_request_sequencing_event_id: 0,
                    accepted_request: Some(u::Request {
                        meta: Some(u::Meta {
                            update_id: id.into(),
                            identity: "test-client".into(),
                        }),
                        input: Some(u::Input {
                            name: name.into(),
                            args: Some(Payloads { payloads: args }),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                },
            ),
        )
    }

    /// The completion of update `id`, accepted at event `accepted`, with `result`.
    pub(crate) fn update_completed(&mut self, id: &str, accepted: i64, result: Payload) -> i64 {
        use temporalio_protos::temporal::api::update::v1 as u;
        self.add(
            EventType::WorkflowExecutionUpdateCompleted,
            A::WorkflowExecutionUpdateCompletedEventAttributes(
                h::WorkflowExecutionUpdateCompletedEventAttributes {
                    meta: Some(u::Meta {
                        update_id: id.into(),
                        identity: String::new(),
                    }),
                    accepted_event_id: accepted,
                    outcome: Some(u::Outcome {
                        value: Some(u::outcome::Value::Success(Payloads {
                            payloads: vec![result],
                        })),
                    }),
                },
            ),
        )
    }

    // Signals and cancellation of this run.

    pub(crate) fn signaled(&mut self, name: &str, input: Vec<Payload>) -> i64 {
        self.add(
            EventType::WorkflowExecutionSignaled,
            A::WorkflowExecutionSignaledEventAttributes(
                h::WorkflowExecutionSignaledEventAttributes {
                    signal_name: name.into(),
                    input: Some(Payloads { payloads: input }),
                    identity: "test-client".into(),
                    ..Default::default()
                },
            ),
        )
    }

    pub(crate) fn cancel_requested(&mut self, reason: &str) -> i64 {
        self.add(
            EventType::WorkflowExecutionCancelRequested,
            A::WorkflowExecutionCancelRequestedEventAttributes(
                h::WorkflowExecutionCancelRequestedEventAttributes {
                    cause: reason.into(),
                    identity: "test-client".into(),
                    ..Default::default()
                },
            ),
        )
    }

    // Child workflows.

    pub(crate) fn child_initiated(&mut self, workflow_id: &str, workflow_type: &str) -> i64 {
        self.add(
            EventType::StartChildWorkflowExecutionInitiated,
            A::StartChildWorkflowExecutionInitiatedEventAttributes(
                h::StartChildWorkflowExecutionInitiatedEventAttributes {
                    namespace: "default".into(),
                    workflow_id: workflow_id.into(),
                    workflow_type: Some(WorkflowType {
                        name: workflow_type.into(),
                    }),
                    task_queue: Some(queue()),
                    workflow_task_completed_event_id: self.task_completed,
                    ..Default::default()
                },
            ),
        )
    }

    /// Returns the started id; the child's run id is `<workflow id>-run`.
    pub(crate) fn child_started(&mut self, initiated: i64) -> i64 {
        let (workflow_id, workflow_type) = self.child_of(initiated);
        self.add(
            EventType::ChildWorkflowExecutionStarted,
            A::ChildWorkflowExecutionStartedEventAttributes(
                h::ChildWorkflowExecutionStartedEventAttributes {
                    namespace: "default".into(),
                    initiated_event_id: initiated,
                    workflow_execution: Some(child_execution(&workflow_id)),
                    workflow_type: Some(WorkflowType {
                        name: workflow_type,
                    }),
                    ..Default::default()
                },
            ),
        )
    }

    pub(crate) fn child_completed(&mut self, initiated: i64, started: i64, result: Payload) -> i64 {
        let (workflow_id, workflow_type) = self.child_of(initiated);
        self.add(
            EventType::ChildWorkflowExecutionCompleted,
            A::ChildWorkflowExecutionCompletedEventAttributes(
                h::ChildWorkflowExecutionCompletedEventAttributes {
                    result: Some(Payloads {
                        payloads: vec![result],
                    }),
                    namespace: "default".into(),
                    workflow_execution: Some(child_execution(&workflow_id)),
                    workflow_type: Some(WorkflowType {
                        name: workflow_type,
                    }),
                    initiated_event_id: initiated,
                    started_event_id: started,
                    ..Default::default()
                },
            ),
        )
    }

    fn child_of(&self, initiated: i64) -> (String, String) {
        match self.event(initiated) {
            Some(A::StartChildWorkflowExecutionInitiatedEventAttributes(a)) => (
                a.workflow_id.clone(),
                a.workflow_type
                    .as_ref()
                    .map(|t| t.name.clone())
                    .unwrap_or_default(),
            ),
            other => panic!("event {initiated} is not a child initiation: {other:?}"),
        }
    }

    // Markers.

    /// The marker `ctx.side_effect` records: call number `seq` returned `value`.
    pub(crate) fn side_effect_marker(&mut self, seq: u32, value: Payload) -> i64 {
        let id = seq.to_payload().expect("a number encodes");
        // The keys are the wire format of the marker; writing them out pins it.
        let details = HashMap::from([
            ("side-effect-id".to_string(), one(id)),
            ("data".to_string(), one(value)),
        ]);
        self.marker(SIDE_EFFECT_MARKER_NAME, details)
    }

    /// The marker `ctx.patched` (or `ctx.deprecate_patch`) records.
    pub(crate) fn patch_marker(&mut self, patch_id: &str, deprecated: bool) -> i64 {
        let mut data = true.to_payload().expect("a bool encodes");
        let id = patch_id.to_string().to_payload().expect("a string encodes");
        data.data = format!(
            r#"{{"id":{},"deprecated":{deprecated}}}"#,
            String::from_utf8(id.data).expect("JSON is UTF-8")
        )
        .into_bytes();
        let details = HashMap::from([("patch_data".to_string(), one(data))]);
        self.marker(PATCH_MARKER_NAME, details)
    }

    fn marker(&mut self, name: &str, details: HashMap<String, Payloads>) -> i64 {
        self.add(
            EventType::MarkerRecorded,
            A::MarkerRecordedEventAttributes(h::MarkerRecordedEventAttributes {
                marker_name: name.into(),
                details,
                workflow_task_completed_event_id: self.task_completed,
                ..Default::default()
            }),
        )
    }

    /// What the server records for a `ModifyWorkflowProperties` command.
    pub(crate) fn memo_modified(&mut self, fields: HashMap<String, Payload>) -> i64 {
        self.add(
            EventType::WorkflowPropertiesModified,
            A::WorkflowPropertiesModifiedEventAttributes(
                h::WorkflowPropertiesModifiedEventAttributes {
                    workflow_task_completed_event_id: self.task_completed,
                    upserted_memo: Some(Memo { fields }),
                },
            ),
        )
    }

    /// What the server records for an `UpsertWorkflowSearchAttributes` command.
    pub(crate) fn search_attributes_upserted(&mut self, fields: HashMap<String, Payload>) -> i64 {
        self.add(
            EventType::UpsertWorkflowSearchAttributes,
            A::UpsertWorkflowSearchAttributesEventAttributes(
                h::UpsertWorkflowSearchAttributesEventAttributes {
                    workflow_task_completed_event_id: self.task_completed,
                    search_attributes: Some(SearchAttributes {
                        indexed_fields: fields,
                    }),
                },
            ),
        )
    }

    // Signals and cancellation requests to other workflows.

    pub(crate) fn external_signal_initiated(
        &mut self,
        workflow_id: &str,
        signal_name: &str,
    ) -> i64 {
        self.add(
            EventType::SignalExternalWorkflowExecutionInitiated,
            A::SignalExternalWorkflowExecutionInitiatedEventAttributes(
                h::SignalExternalWorkflowExecutionInitiatedEventAttributes {
                    workflow_task_completed_event_id: self.task_completed,
                    namespace: "default".into(),
                    workflow_execution: Some(WorkflowExecution {
                        workflow_id: workflow_id.into(),
                        run_id: String::new(),
                    }),
                    signal_name: signal_name.into(),
                    ..Default::default()
                },
            ),
        )
    }

    pub(crate) fn external_signaled(&mut self, initiated: i64) -> i64 {
        let execution = match self.event(initiated) {
            Some(A::SignalExternalWorkflowExecutionInitiatedEventAttributes(a)) => {
                a.workflow_execution.clone()
            }
            other => panic!("event {initiated} is not a signal initiation: {other:?}"),
        };
        self.add(
            EventType::ExternalWorkflowExecutionSignaled,
            A::ExternalWorkflowExecutionSignaledEventAttributes(
                h::ExternalWorkflowExecutionSignaledEventAttributes {
                    initiated_event_id: initiated,
                    namespace: "default".into(),
                    workflow_execution: execution,
                    ..Default::default()
                },
            ),
        )
    }

    pub(crate) fn external_cancel_initiated(&mut self, workflow_id: &str) -> i64 {
        self.add(
            EventType::RequestCancelExternalWorkflowExecutionInitiated,
            A::RequestCancelExternalWorkflowExecutionInitiatedEventAttributes(
                h::RequestCancelExternalWorkflowExecutionInitiatedEventAttributes {
                    workflow_task_completed_event_id: self.task_completed,
                    namespace: "default".into(),
                    workflow_execution: Some(WorkflowExecution {
                        workflow_id: workflow_id.into(),
                        run_id: String::new(),
                    }),
                    ..Default::default()
                },
            ),
        )
    }

    pub(crate) fn external_cancel_requested(&mut self, initiated: i64) -> i64 {
        let execution = match self.event(initiated) {
            Some(A::RequestCancelExternalWorkflowExecutionInitiatedEventAttributes(a)) => {
                a.workflow_execution.clone()
            }
            other => panic!("event {initiated} is not a cancel request initiation: {other:?}"),
        };
        self.add(
            EventType::ExternalWorkflowExecutionCancelRequested,
            A::ExternalWorkflowExecutionCancelRequestedEventAttributes(
                h::ExternalWorkflowExecutionCancelRequestedEventAttributes {
                    initiated_event_id: initiated,
                    namespace: "default".into(),
                    workflow_execution: execution,
                    ..Default::default()
                },
            ),
        )
    }

    // Closing the run.

    pub(crate) fn workflow_completed(&mut self, result: Payload) -> i64 {
        self.add(
            EventType::WorkflowExecutionCompleted,
            A::WorkflowExecutionCompletedEventAttributes(
                h::WorkflowExecutionCompletedEventAttributes {
                    result: Some(Payloads {
                        payloads: vec![result],
                    }),
                    workflow_task_completed_event_id: self.task_completed,
                    ..Default::default()
                },
            ),
        )
    }

    pub(crate) fn workflow_failed(&mut self, message: &str) -> i64 {
        self.add(
            EventType::WorkflowExecutionFailed,
            A::WorkflowExecutionFailedEventAttributes(h::WorkflowExecutionFailedEventAttributes {
                failure: Some(application_failure(message)),
                retry_state: RetryState::RetryPolicyNotSet as i32,
                workflow_task_completed_event_id: self.task_completed,
                ..Default::default()
            }),
        )
    }

    pub(crate) fn continued_as_new(&mut self, workflow_type: &str, input: Vec<Payload>) -> i64 {
        self.add(
            EventType::WorkflowExecutionContinuedAsNew,
            A::WorkflowExecutionContinuedAsNewEventAttributes(
                h::WorkflowExecutionContinuedAsNewEventAttributes {
                    new_execution_run_id: "run-2".into(),
                    workflow_type: Some(WorkflowType {
                        name: workflow_type.into(),
                    }),
                    task_queue: Some(queue()),
                    input: Some(Payloads { payloads: input }),
                    workflow_task_completed_event_id: self.task_completed,
                    ..Default::default()
                },
            ),
        )
    }

    fn event(&self, event_id: i64) -> Option<&A> {
        self.events
            .iter()
            .find(|e| e.event_id == event_id)
            .and_then(|e| e.attributes.as_ref())
    }
}

fn queue() -> TaskQueue {
    TaskQueue {
        name: TASK_QUEUE.into(),
        ..Default::default()
    }
}

fn one(payload: Payload) -> Payloads {
    Payloads {
        payloads: vec![payload],
    }
}

fn child_execution(workflow_id: &str) -> WorkflowExecution {
    WorkflowExecution {
        workflow_id: workflow_id.into(),
        run_id: format!("{workflow_id}-run"),
    }
}

fn application_failure(message: &str) -> ProtoFailure {
    workflow_core::failure::Failure::application("TestFailure", message).to_proto()
}

#[cfg(test)]
mod tests;
