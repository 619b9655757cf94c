//! Facts about the running workflow.

use std::time::{Duration, SystemTime};

/// Facts about a workflow run, as recorded when it started.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowInfo {
    /// Workflow id.
    pub workflow_id: String,
    /// Run id of this run.
    pub run_id: String,
    /// Workflow type name.
    pub workflow_type: String,
    /// Task queue of the workflow.
    pub task_queue: String,
    /// Namespace of the workflow.
    pub namespace: String,
    /// Attempt of this run under the workflow's retry policy, starting at 1.
    pub attempt: u32,
    /// Run id of the first run of this execution chain.
    pub first_execution_run_id: String,
    /// Run this one continued from, after continue-as-new.
    pub continued_run_id: Option<String>,
    /// The parent, for a child workflow.
    pub parent: Option<ParentInfo>,
    /// Limit of the whole execution.
    pub execution_timeout: Option<Duration>,
    /// Limit of this run.
    pub run_timeout: Option<Duration>,
    /// Limit of one workflow task.
    pub task_timeout: Option<Duration>,
    /// Cron schedule, if the workflow has one.
    pub cron_schedule: Option<String>,
    /// When this run started.
    pub start_time: SystemTime,
}

/// The parent of a child workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentInfo {
    /// Namespace of the parent.
    pub namespace: String,
    /// Workflow id of the parent.
    pub workflow_id: String,
    /// Run id of the parent.
    pub run_id: String,
}
