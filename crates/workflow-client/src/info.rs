//! What the server tells about a workflow execution: status, times, memo, search attributes.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use temporalio_protos::temporal::api::enums::v1 as enums;
use temporalio_protos::temporal::api::workflow::v1 as workflow;
use temporalio_protos::temporal::api::workflowservice::v1::DescribeWorkflowExecutionResponse;
use workflow_core::options::{SearchAttributes, duration_from_proto, time_from_proto};
use workflow_core::payload::{Payload, PayloadError, PayloadValue};

/// The status of a workflow execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WorkflowExecutionStatus {
    /// Still running.
    Running,
    /// Returned a result.
    Completed,
    /// Failed.
    Failed,
    /// Cancelled.
    Canceled,
    /// Terminated.
    Terminated,
    /// Continued as a new run.
    ContinuedAsNew,
    /// Timed out.
    TimedOut,
    /// Paused.
    Paused,
    /// The server sent no status.
    Unspecified,
}

impl WorkflowExecutionStatus {
    /// Reads the proto enum value.
    pub fn from_proto(value: i32) -> Self {
        use enums::WorkflowExecutionStatus as P;
        match P::try_from(value).unwrap_or(P::Unspecified) {
            P::Running => Self::Running,
            P::Completed => Self::Completed,
            P::Failed => Self::Failed,
            P::Canceled => Self::Canceled,
            P::Terminated => Self::Terminated,
            P::ContinuedAsNew => Self::ContinuedAsNew,
            P::TimedOut => Self::TimedOut,
            P::Paused => Self::Paused,
            P::Unspecified => Self::Unspecified,
        }
    }

    /// Whether the execution is closed.
    pub fn is_closed(self) -> bool {
        !matches!(self, Self::Running | Self::Paused | Self::Unspecified)
    }
}

/// A workflow execution as listed or described.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowExecutionInfo {
    /// Workflow id.
    pub workflow_id: String,
    /// Run id.
    pub run_id: String,
    /// Workflow type name.
    pub workflow_type: String,
    /// Task queue.
    pub task_queue: String,
    /// Status.
    pub status: WorkflowExecutionStatus,
    /// When the run started.
    pub start_time: Option<SystemTime>,
    /// When the first workflow task was (or will be) dispatched (start delay, cron).
    pub execution_time: Option<SystemTime>,
    /// When the run closed.
    pub close_time: Option<SystemTime>,
    /// Events in the history.
    pub history_length: i64,
    /// Run id of the first run of the chain.
    pub first_run_id: String,
    /// Parent workflow id and run id, for child workflows.
    pub parent: Option<(String, String)>,
    /// Memo entries, still encoded; see [`memo_value`](Self::memo_value).
    pub memo: HashMap<String, Payload>,
    /// Search attributes.
    pub search_attributes: SearchAttributes,
}

impl WorkflowExecutionInfo {
    /// Reads the proto form. Search attributes that cannot be decoded are left out.
    pub fn from_proto(info: workflow::WorkflowExecutionInfo) -> Self {
        let execution = info.execution.unwrap_or_default();
        Self {
            status: WorkflowExecutionStatus::from_proto(info.status),
            workflow_id: execution.workflow_id,
            run_id: execution.run_id,
            workflow_type: info.r#type.map(|t| t.name).unwrap_or_default(),
            task_queue: info.task_queue,
            start_time: info.start_time.as_ref().and_then(time_from_proto),
            execution_time: info.execution_time.as_ref().and_then(time_from_proto),
            close_time: info.close_time.as_ref().and_then(time_from_proto),
            history_length: info.history_length,
            first_run_id: info.first_run_id,
            parent: info.parent_execution.map(|p| (p.workflow_id, p.run_id)),
            memo: info.memo.map(|m| m.fields).unwrap_or_default(),
            search_attributes: info
                .search_attributes
                .map(|sa| {
                    let mut decoded = SearchAttributes::new();
                    for (name, payload) in &sa.indexed_fields {
                        if let Ok(value) =
                            workflow_core::options::SearchAttributeValue::from_payload(payload)
                        {
                            decoded = decoded.insert(name.clone(), value);
                        }
                    }
                    decoded
                })
                .unwrap_or_default(),
        }
    }

    /// Decodes a memo entry.
    pub fn memo_value<T: PayloadValue>(&self, key: &str) -> Option<Result<T, PayloadError>> {
        self.memo.get(key).map(T::from_payload)
    }
}

/// The answer to [`describe`](crate::WorkflowHandle::describe): the execution's info plus its
/// configuration and pending work.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowDescription {
    /// Status, ids, times, memo, search attributes.
    pub info: WorkflowExecutionInfo,
    /// The run's execution timeout.
    pub execution_timeout: Option<Duration>,
    /// The run timeout.
    pub run_timeout: Option<Duration>,
    /// The workflow task timeout.
    pub task_timeout: Option<Duration>,
    /// Activities scheduled and not yet finished.
    pub pending_activity_count: usize,
    /// Child workflows started and not yet closed.
    pub pending_children_count: usize,
    /// The summary the workflow was started with ([`WorkflowOptions::summary`]).
    ///
    /// [`WorkflowOptions::summary`]: workflow_core::options::WorkflowOptions::summary
    pub summary: Option<String>,
    /// The details it was started with.
    pub details: Option<String>,
    /// The full server response.
    pub raw: DescribeWorkflowExecutionResponse,
}

impl WorkflowDescription {
    pub(crate) fn from_proto(response: DescribeWorkflowExecutionResponse) -> Self {
        let config = response.execution_config.clone().unwrap_or_default();
        Self {
            info: WorkflowExecutionInfo::from_proto(
                response.workflow_execution_info.clone().unwrap_or_default(),
            ),
            execution_timeout: config
                .workflow_execution_timeout
                .as_ref()
                .and_then(duration_from_proto),
            run_timeout: config
                .workflow_run_timeout
                .as_ref()
                .and_then(duration_from_proto),
            task_timeout: config
                .default_workflow_task_timeout
                .as_ref()
                .and_then(duration_from_proto),
            pending_activity_count: response.pending_activities.len(),
            pending_children_count: response.pending_children.len(),
            summary: metadata_text(
                config
                    .user_metadata
                    .as_ref()
                    .and_then(|m| m.summary.as_ref()),
            ),
            details: metadata_text(
                config
                    .user_metadata
                    .as_ref()
                    .and_then(|m| m.details.as_ref()),
            ),
            raw: response,
        }
    }
}

/// A summary or details payload as text: a JSON string as the SDKs write it, or, from an
/// SDK that wrote something else, the payload's bytes.
fn metadata_text(payload: Option<&Payload>) -> Option<String> {
    let payload = payload?;
    Some(
        String::from_payload(payload)
            .unwrap_or_else(|_| String::from_utf8_lossy(&payload.data).into_owned()),
    )
}

impl std::ops::Deref for WorkflowDescription {
    type Target = WorkflowExecutionInfo;
    fn deref(&self) -> &WorkflowExecutionInfo {
        &self.info
    }
}
