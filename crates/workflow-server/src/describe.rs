//! Executions as `DescribeWorkflowExecution` and the list calls report them.

use std::time::SystemTime;

use temporalio_protos::temporal::api::common::v1::{ActivityType, WorkflowType};
use temporalio_protos::temporal::api::enums::v1::PendingActivityState;
use temporalio_protos::temporal::api::taskqueue::v1::TaskQueue;
use temporalio_protos::temporal::api::workflow::v1::{
    PendingActivityInfo, PendingChildExecutionInfo, PendingWorkflowTaskInfo,
    WorkflowExecutionConfig, WorkflowExecutionExtendedInfo, WorkflowExecutionInfo,
};
use temporalio_protos::temporal::api::workflowservice::v1 as ws;

use crate::engine::Execution;
use crate::engine::record::{ParentState, time};
use crate::visibility::{Entry, STATUSES};

/// The summary of a run that lists show.
pub fn info(run: &Execution) -> WorkflowExecutionInfo {
    WorkflowExecutionInfo {
        execution: Some(run.execution()),
        r#type: Some(WorkflowType {
            name: run.workflow_type.clone(),
        }),
        start_time: run.start_time,
        close_time: run.close_time,
        status: run.status,
        history_length: run.history.len() as i64,
        parent_namespace_id: run
            .parent
            .as_ref()
            .map(|p| p.namespace.clone())
            .unwrap_or_default(),
        parent_execution: run.parent.as_ref().map(|p| {
            temporalio_protos::temporal::api::common::v1::WorkflowExecution {
                workflow_id: p.workflow_id.clone(),
                run_id: p.run_id.clone(),
            }
        }),
        execution_time: run.execution_time.or(run.start_time),
        memo: run.memo.clone(),
        search_attributes: run.search_attributes.clone(),
        task_queue: run.task_queue.clone(),
        first_run_id: run.first_execution_run_id.clone(),
        history_size_bytes: run.history.encoded_size() as i64,
        root_execution: Some(
            run.parent
                .as_ref()
                .map_or_else(|| run.execution(), ParentState::root),
        ),
        ..Default::default()
    }
}

/// The run as the list filter and the visibility index see it.
pub fn entry(run: &Execution) -> Entry {
    let start_time = time(&run.start_time).unwrap_or(SystemTime::UNIX_EPOCH);
    Entry {
        workflow_id: run.workflow_id.clone(),
        workflow_type: run.workflow_type.clone(),
        run_id: run.run_id.as_str().into(),
        status: usize::try_from(run.status - 1)
            .ok()
            .and_then(|i| STATUSES.get(i))
            .copied()
            .unwrap_or(""),
        task_queue: run.task_queue.clone(),
        start_time,
        close_time: time(&run.close_time),
        execution_time: time(&run.execution_time).unwrap_or(start_time),
        custom: run
            .search_attributes
            .iter()
            .flat_map(|a| a.indexed_fields.iter())
            .map(|(name, payload)| (name.clone(), payload_text(&payload.data)))
            .collect(),
    }
}

/// A search attribute's value as the filter compares it: JSON strings unquoted, other
/// JSON (numbers, booleans) as written.
fn payload_text(data: &[u8]) -> String {
    let text = String::from_utf8_lossy(data);
    let trimmed = text.trim();
    match trimmed.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) => inner.replace("\\\"", "\"").replace("\\\\", "\\"),
        None => trimmed.to_string(),
    }
}

/// Everything `DescribeWorkflowExecution` reports.
pub fn describe(run: &Execution) -> ws::DescribeWorkflowExecutionResponse {
    let pending_activities = run
        .activities
        .values()
        .map(|a| {
            let state = if a.cancel_requested {
                PendingActivityState::CancelRequested
            } else if a.started_time.is_some() {
                PendingActivityState::Started
            } else {
                PendingActivityState::Scheduled
            };
            PendingActivityInfo {
                activity_id: a.activity_id.clone(),
                activity_type: Some(ActivityType {
                    name: a.activity_type.clone(),
                }),
                state: state as i32,
                heartbeat_details: a.heartbeat_details.clone(),
                last_heartbeat_time: a.last_heartbeat_time,
                last_started_time: a.started_time,
                attempt: a.attempt,
                maximum_attempts: a.retry_policy.as_ref().map_or(0, |p| p.maximum_attempts),
                scheduled_time: a.current_attempt_scheduled_time,
                expiration_time: time(&a.scheduled_time)
                    .zip(crate::engine::record::duration(&a.schedule_to_close))
                    .map(|(t, d)| (t + d).into()),
                last_failure: a.last_failure.clone(),
                last_worker_identity: if a.started_identity.is_empty() {
                    a.last_worker_identity.clone()
                } else {
                    a.started_identity.clone()
                },
                ..Default::default()
            }
        })
        .collect();
    let pending_children = run
        .children
        .iter()
        .filter(|(_, c)| !c.run_id.is_empty())
        .map(|(initiated, c)| PendingChildExecutionInfo {
            workflow_id: c.workflow_id.clone(),
            run_id: c.run_id.clone(),
            workflow_type_name: c.workflow_type.clone(),
            initiated_id: *initiated,
            parent_close_policy: c.parent_close_policy,
        })
        .collect();
    let pending_workflow_task = run.workflow_task.as_ref().map(|t| PendingWorkflowTaskInfo {
        state: if t.started_event_id != 0 { 2 } else { 1 },
        scheduled_time: t.scheduled_time,
        original_scheduled_time: t.scheduled_time,
        started_time: t.started_time,
        attempt: t.attempt,
    });
    ws::DescribeWorkflowExecutionResponse {
        execution_config: Some(WorkflowExecutionConfig {
            task_queue: Some(TaskQueue {
                name: run.task_queue.clone(),
                ..Default::default()
            }),
            workflow_execution_timeout: run.execution_timeout,
            workflow_run_timeout: run.run_timeout,
            default_workflow_task_timeout: run.task_timeout,
            user_metadata: run.user_metadata.clone(),
        }),
        workflow_execution_info: Some(info(run)),
        workflow_extended_info: Some(WorkflowExecutionExtendedInfo {
            execution_expiration_time: run.execution_deadline,
            run_expiration_time: run.run_deadline,
            cancel_requested: run.cancel_requested,
            original_start_time: run.start_time,
            ..Default::default()
        }),
        pending_activities,
        pending_children,
        pending_workflow_task,
        ..Default::default()
    }
}
