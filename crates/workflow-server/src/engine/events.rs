//! History events as Temporal writes them: ids in order, times, task ids, types.

use std::time::SystemTime;

use temporalio_protos::temporal::api::common::v1::WorkflowType;
use temporalio_protos::temporal::api::enums::v1::{EventType, TaskQueueKind};
use temporalio_protos::temporal::api::history::v1::history_event::Attributes;
use temporalio_protos::temporal::api::history::v1::{
    HistoryEvent, WorkflowExecutionStartedEventAttributes,
    WorkflowExecutionTerminatedEventAttributes, WorkflowTaskScheduledEventAttributes,
};
use temporalio_protos::temporal::api::taskqueue::v1::TaskQueue;
use temporalio_protos::temporal::api::workflowservice::v1 as ws;

use super::Execution;

/// Stamps events with the server's increasing task ids.
#[derive(Debug, Default)]
pub struct EventBuilder {
    next_task_id: i64,
}

impl EventBuilder {
    pub fn event(&mut self, event_id: i64, attributes: Attributes) -> HistoryEvent {
        self.next_task_id += 1;
        HistoryEvent {
            event_id,
            event_time: Some(SystemTime::now().into()),
            event_type: event_type(&attributes) as i32,
            task_id: self.next_task_id,
            attributes: Some(attributes),
            ..Default::default()
        }
    }
}

fn event_type(attributes: &Attributes) -> EventType {
    match attributes {
        Attributes::WorkflowTaskStartedEventAttributes(_) => EventType::WorkflowTaskStarted,
        Attributes::TimerStartedEventAttributes(_) => EventType::TimerStarted,
        Attributes::TimerFiredEventAttributes(_) => EventType::TimerFired,
        Attributes::TimerCanceledEventAttributes(_) => EventType::TimerCanceled,
        Attributes::WorkflowExecutionSignaledEventAttributes(_) => {
            EventType::WorkflowExecutionSignaled
        }
        Attributes::WorkflowTaskCompletedEventAttributes(_) => EventType::WorkflowTaskCompleted,
        Attributes::WorkflowTaskFailedEventAttributes(_) => EventType::WorkflowTaskFailed,
        Attributes::ActivityTaskScheduledEventAttributes(_) => EventType::ActivityTaskScheduled,
        Attributes::ActivityTaskStartedEventAttributes(_) => EventType::ActivityTaskStarted,
        Attributes::ActivityTaskCompletedEventAttributes(_) => EventType::ActivityTaskCompleted,
        Attributes::ActivityTaskFailedEventAttributes(_) => EventType::ActivityTaskFailed,
        Attributes::WorkflowExecutionCompletedEventAttributes(_) => {
            EventType::WorkflowExecutionCompleted
        }
        Attributes::WorkflowExecutionFailedEventAttributes(_) => EventType::WorkflowExecutionFailed,
        Attributes::WorkflowExecutionStartedEventAttributes(_) => {
            EventType::WorkflowExecutionStarted
        }
        Attributes::WorkflowTaskScheduledEventAttributes(_) => EventType::WorkflowTaskScheduled,
        Attributes::WorkflowExecutionTerminatedEventAttributes(_) => {
            EventType::WorkflowExecutionTerminated
        }
        _ => EventType::Unspecified,
    }
}

pub fn normal_queue(name: &str) -> TaskQueue {
    TaskQueue {
        name: name.to_string(),
        kind: TaskQueueKind::Normal as i32,
        normal_name: String::new(),
    }
}

pub fn started(
    request: &ws::StartWorkflowExecutionRequest,
    run: &Execution,
    workflow_type: WorkflowType,
) -> Attributes {
    Attributes::WorkflowExecutionStartedEventAttributes(WorkflowExecutionStartedEventAttributes {
        workflow_type: Some(workflow_type),
        task_queue: Some(normal_queue(&run.task_queue)),
        input: request.input.clone(),
        workflow_execution_timeout: run.execution_timeout.and_then(|d| d.try_into().ok()),
        workflow_run_timeout: run.run_timeout.and_then(|d| d.try_into().ok()),
        workflow_task_timeout: run.task_timeout.try_into().ok(),
        identity: request.identity.clone(),
        original_execution_run_id: run.run_id.clone(),
        first_execution_run_id: run.run_id.clone(),
        attempt: 1,
        cron_schedule: request.cron_schedule.clone(),
        retry_policy: request.retry_policy.clone(),
        memo: request.memo.clone(),
        search_attributes: request.search_attributes.clone(),
        header: request.header.clone(),
        workflow_id: run.workflow_id.clone(),
        ..Default::default()
    })
}

pub fn task_scheduled(run: &Execution, attempt: i32) -> Attributes {
    Attributes::WorkflowTaskScheduledEventAttributes(WorkflowTaskScheduledEventAttributes {
        task_queue: Some(normal_queue(&run.task_queue)),
        start_to_close_timeout: run.task_timeout.try_into().ok(),
        attempt,
    })
}

pub fn terminated(reason: &str, identity: &str) -> Attributes {
    Attributes::WorkflowExecutionTerminatedEventAttributes(
        WorkflowExecutionTerminatedEventAttributes {
            reason: reason.to_string(),
            identity: identity.to_string(),
            ..Default::default()
        },
    )
}
