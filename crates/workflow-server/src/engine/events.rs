//! History events as Temporal writes them: ids in order, times, increasing task ids, types.

use std::time::SystemTime;

use temporalio_protos::temporal::api::enums::v1::{EventType, TaskQueueKind};
use temporalio_protos::temporal::api::history::v1::HistoryEvent;
use temporalio_protos::temporal::api::history::v1::history_event::Attributes;
use temporalio_protos::temporal::api::taskqueue::v1::TaskQueue;

/// Stamps events with the server's increasing task ids.
#[derive(Debug, Default)]
pub struct EventBuilder {
    next_task_id: i64,
}

impl EventBuilder {
    /// A builder whose ids continue after `task_id` (the highest one stored).
    pub fn after(task_id: i64) -> Self {
        Self {
            next_task_id: task_id,
        }
    }

    pub fn event(
        &mut self,
        event_id: i64,
        time: SystemTime,
        attributes: Attributes,
    ) -> HistoryEvent {
        self.next_task_id += 1;
        HistoryEvent {
            event_id,
            event_time: Some(time.into()),
            event_type: event_type(&attributes) as i32,
            task_id: self.next_task_id,
            attributes: Some(attributes),
            ..Default::default()
        }
    }
}

/// The type of an event with these attributes.
pub fn event_type(attributes: &Attributes) -> EventType {
    use Attributes as A;
    use EventType as E;
    match attributes {
        A::WorkflowExecutionStartedEventAttributes(_) => E::WorkflowExecutionStarted,
        A::WorkflowExecutionCompletedEventAttributes(_) => E::WorkflowExecutionCompleted,
        A::WorkflowExecutionFailedEventAttributes(_) => E::WorkflowExecutionFailed,
        A::WorkflowExecutionTimedOutEventAttributes(_) => E::WorkflowExecutionTimedOut,
        A::WorkflowTaskScheduledEventAttributes(_) => E::WorkflowTaskScheduled,
        A::WorkflowTaskStartedEventAttributes(_) => E::WorkflowTaskStarted,
        A::WorkflowTaskCompletedEventAttributes(_) => E::WorkflowTaskCompleted,
        A::WorkflowTaskTimedOutEventAttributes(_) => E::WorkflowTaskTimedOut,
        A::WorkflowTaskFailedEventAttributes(_) => E::WorkflowTaskFailed,
        A::ActivityTaskScheduledEventAttributes(_) => E::ActivityTaskScheduled,
        A::ActivityTaskStartedEventAttributes(_) => E::ActivityTaskStarted,
        A::ActivityTaskCompletedEventAttributes(_) => E::ActivityTaskCompleted,
        A::ActivityTaskFailedEventAttributes(_) => E::ActivityTaskFailed,
        A::ActivityTaskTimedOutEventAttributes(_) => E::ActivityTaskTimedOut,
        A::TimerStartedEventAttributes(_) => E::TimerStarted,
        A::TimerFiredEventAttributes(_) => E::TimerFired,
        A::ActivityTaskCancelRequestedEventAttributes(_) => E::ActivityTaskCancelRequested,
        A::ActivityTaskCanceledEventAttributes(_) => E::ActivityTaskCanceled,
        A::TimerCanceledEventAttributes(_) => E::TimerCanceled,
        A::MarkerRecordedEventAttributes(_) => E::MarkerRecorded,
        A::WorkflowExecutionSignaledEventAttributes(_) => E::WorkflowExecutionSignaled,
        A::WorkflowExecutionTerminatedEventAttributes(_) => E::WorkflowExecutionTerminated,
        A::WorkflowExecutionCancelRequestedEventAttributes(_) => {
            E::WorkflowExecutionCancelRequested
        }
        A::WorkflowExecutionCanceledEventAttributes(_) => E::WorkflowExecutionCanceled,
        A::RequestCancelExternalWorkflowExecutionInitiatedEventAttributes(_) => {
            E::RequestCancelExternalWorkflowExecutionInitiated
        }
        A::RequestCancelExternalWorkflowExecutionFailedEventAttributes(_) => {
            E::RequestCancelExternalWorkflowExecutionFailed
        }
        A::ExternalWorkflowExecutionCancelRequestedEventAttributes(_) => {
            E::ExternalWorkflowExecutionCancelRequested
        }
        A::WorkflowExecutionContinuedAsNewEventAttributes(_) => E::WorkflowExecutionContinuedAsNew,
        A::StartChildWorkflowExecutionInitiatedEventAttributes(_) => {
            E::StartChildWorkflowExecutionInitiated
        }
        A::StartChildWorkflowExecutionFailedEventAttributes(_) => {
            E::StartChildWorkflowExecutionFailed
        }
        A::ChildWorkflowExecutionStartedEventAttributes(_) => E::ChildWorkflowExecutionStarted,
        A::ChildWorkflowExecutionCompletedEventAttributes(_) => E::ChildWorkflowExecutionCompleted,
        A::ChildWorkflowExecutionFailedEventAttributes(_) => E::ChildWorkflowExecutionFailed,
        A::ChildWorkflowExecutionCanceledEventAttributes(_) => E::ChildWorkflowExecutionCanceled,
        A::ChildWorkflowExecutionTimedOutEventAttributes(_) => E::ChildWorkflowExecutionTimedOut,
        A::ChildWorkflowExecutionTerminatedEventAttributes(_) => {
            E::ChildWorkflowExecutionTerminated
        }
        A::SignalExternalWorkflowExecutionInitiatedEventAttributes(_) => {
            E::SignalExternalWorkflowExecutionInitiated
        }
        A::SignalExternalWorkflowExecutionFailedEventAttributes(_) => {
            E::SignalExternalWorkflowExecutionFailed
        }
        A::ExternalWorkflowExecutionSignaledEventAttributes(_) => {
            E::ExternalWorkflowExecutionSignaled
        }
        A::UpsertWorkflowSearchAttributesEventAttributes(_) => E::UpsertWorkflowSearchAttributes,
        A::WorkflowPropertiesModifiedEventAttributes(_) => E::WorkflowPropertiesModified,
        A::WorkflowExecutionUpdateAcceptedEventAttributes(_) => E::WorkflowExecutionUpdateAccepted,
        A::WorkflowExecutionUpdateCompletedEventAttributes(_) => {
            E::WorkflowExecutionUpdateCompleted
        }
        _ => E::Unspecified,
    }
}

pub fn normal_queue(name: &str) -> TaskQueue {
    TaskQueue {
        name: name.to_string(),
        kind: TaskQueueKind::Normal as i32,
        normal_name: String::new(),
    }
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
