//! Options of the steps a workflow takes: activities and child workflows.

use std::time::Duration;

use temporalio_protos::temporal::api::enums::v1 as enums;

use crate::options::{RetryPolicy, WorkflowIdReusePolicy};

/// How an activity is scheduled. An activity must have a schedule-to-close or a
/// start-to-close timeout, so the only constructors take one of them: options without a
/// timeout cannot be written.
///
/// ```
/// use std::time::Duration;
/// use workflow_core::workflow::ActivityOptions;
/// use workflow_core::options::RetryPolicy;
///
/// let options = ActivityOptions::start_to_close(Duration::from_secs(10))
///     .heartbeat_timeout(Duration::from_secs(2))
///     .retry_policy(RetryPolicy::default().maximum_attempts(3));
/// assert_eq!(options.start_to_close_timeout(), Some(Duration::from_secs(10)));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityOptions {
    // Private, so a value without either timeout cannot be written.
    schedule_to_close_timeout: Option<Duration>,
    start_to_close_timeout: Option<Duration>,
    /// Limit of the time in the task queue before a worker picks an attempt up.
    pub schedule_to_start_timeout: Option<Duration>,
    /// Longest gap between heartbeats before the attempt times out.
    pub heartbeat_timeout: Option<Duration>,
    /// Retry policy; `None` takes the server's default (unlimited attempts, 1 s doubling).
    pub retry_policy: Option<RetryPolicy>,
    /// Task queue of the activity; the workflow's own by default.
    pub task_queue: Option<String>,
    /// Activity id; by default the sequence number of the call within the workflow.
    pub activity_id: Option<String>,
    /// What cancelling the activity waits for.
    pub cancellation_type: ActivityCancellationType,
    /// A one-line summary the Web UI shows for this call (kept on its scheduled event).
    pub summary: Option<String>,
}

impl ActivityOptions {
    fn with_timeouts(
        schedule_to_close: Option<Duration>,
        start_to_close: Option<Duration>,
    ) -> Self {
        Self {
            schedule_to_close_timeout: schedule_to_close,
            start_to_close_timeout: start_to_close,
            schedule_to_start_timeout: None,
            heartbeat_timeout: None,
            retry_policy: None,
            task_queue: None,
            activity_id: None,
            cancellation_type: ActivityCancellationType::default(),
            summary: None,
        }
    }

    /// Options limiting each attempt to `timeout`.
    pub fn start_to_close(timeout: Duration) -> Self {
        Self::with_timeouts(None, Some(timeout))
    }

    /// Options limiting the whole activity, retries included, to `timeout`.
    pub fn schedule_to_close(timeout: Duration) -> Self {
        Self::with_timeouts(Some(timeout), None)
    }

    /// Also limits each attempt.
    pub fn with_start_to_close_timeout(mut self, timeout: Duration) -> Self {
        self.start_to_close_timeout = Some(timeout);
        self
    }

    /// Also limits the whole activity.
    pub fn with_schedule_to_close_timeout(mut self, timeout: Duration) -> Self {
        self.schedule_to_close_timeout = Some(timeout);
        self
    }

    /// Limit of the whole activity, retries included.
    pub fn schedule_to_close_timeout(&self) -> Option<Duration> {
        self.schedule_to_close_timeout
    }

    /// Limit of one attempt.
    pub fn start_to_close_timeout(&self) -> Option<Duration> {
        self.start_to_close_timeout
    }

    /// Limits the time an attempt waits in the task queue.
    pub fn schedule_to_start_timeout(mut self, timeout: Duration) -> Self {
        self.schedule_to_start_timeout = Some(timeout);
        self
    }

    /// Requires a heartbeat at least this often.
    pub fn heartbeat_timeout(mut self, timeout: Duration) -> Self {
        self.heartbeat_timeout = Some(timeout);
        self
    }

    /// Sets the retry policy.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = Some(policy);
        self
    }

    /// Runs the activity on another task queue (e.g. one served by a worker in another
    /// language).
    pub fn task_queue(mut self, task_queue: impl Into<String>) -> Self {
        self.task_queue = Some(task_queue.into());
        self
    }

    /// Sets the activity id.
    pub fn activity_id(mut self, id: impl Into<String>) -> Self {
        self.activity_id = Some(id.into());
        self
    }

    /// Sets what cancelling the activity waits for.
    pub fn cancellation_type(mut self, kind: ActivityCancellationType) -> Self {
        self.cancellation_type = kind;
        self
    }

    /// Sets the summary the Web UI shows for this call.
    ///
    /// ```
    /// # use std::time::Duration;
    /// use workflow_core::workflow::ActivityOptions;
    /// let options = ActivityOptions::start_to_close(Duration::from_secs(10)).summary("charge the card");
    /// assert_eq!(options.summary.as_deref(), Some("charge the card"));
    /// ```
    pub fn summary(mut self, summary: impl Into<String>) -> Self {
        self.summary = Some(summary.into());
        self
    }
}

/// What cancelling an activity (or a child workflow) waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ActivityCancellationType {
    /// Ask the server to cancel and report the step cancelled at once (Temporal's default).
    #[default]
    TryCancel,
    /// Ask the server to cancel and wait until the step confirms it stopped.
    WaitCancellationCompleted,
    /// Report the step cancelled without telling the server; it runs on.
    Abandon,
}

/// What happens to a child workflow when its parent closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParentClosePolicy {
    /// The child is terminated (Temporal's default).
    #[default]
    Terminate,
    /// The child is left running.
    Abandon,
    /// The child is asked to cancel.
    RequestCancel,
}

impl ParentClosePolicy {
    pub(crate) fn to_proto(self) -> enums::ParentClosePolicy {
        match self {
            Self::Terminate => enums::ParentClosePolicy::Terminate,
            Self::Abandon => enums::ParentClosePolicy::Abandon,
            Self::RequestCancel => enums::ParentClosePolicy::RequestCancel,
        }
    }
}

/// How a child workflow is started. Everything is optional: the id defaults to a
/// deterministic random UUID and the task queue to the parent's.
///
/// ```
/// use std::time::Duration;
/// use workflow_core::workflow::{ChildWorkflowOptions, ParentClosePolicy};
///
/// let options = ChildWorkflowOptions::new()
///     .id("invoice-7")
///     .execution_timeout(Duration::from_secs(600))
///     .parent_close_policy(ParentClosePolicy::Abandon);
/// assert_eq!(options.id.as_deref(), Some("invoice-7"));
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChildWorkflowOptions {
    /// Workflow id of the child.
    pub id: Option<String>,
    /// Task queue of the child; the parent's by default.
    pub task_queue: Option<String>,
    /// Limit of the child's whole execution.
    pub execution_timeout: Option<Duration>,
    /// Limit of one run of the child.
    pub run_timeout: Option<Duration>,
    /// Limit of one workflow task of the child.
    pub task_timeout: Option<Duration>,
    /// Retry policy of the child.
    pub retry_policy: Option<RetryPolicy>,
    /// Policy for ids of closed workflows.
    pub id_reuse_policy: WorkflowIdReusePolicy,
    /// What happens to the child when the parent closes.
    pub parent_close_policy: ParentClosePolicy,
    /// Cron schedule of the child.
    pub cron_schedule: Option<String>,
    /// What cancelling the child waits for; by default its confirmation.
    pub cancellation_type: ChildCancellationType,
}

/// What cancelling a child workflow waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChildCancellationType {
    /// Wait until the child closes (Temporal's default for children).
    #[default]
    WaitCancellationCompleted,
    /// Ask the child to cancel and report it cancelled at once.
    TryCancel,
    /// Report the child cancelled without asking it.
    Abandon,
}

impl ChildWorkflowOptions {
    /// Options with every value at its default.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the child's workflow id.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Sets the child's task queue.
    pub fn task_queue(mut self, task_queue: impl Into<String>) -> Self {
        self.task_queue = Some(task_queue.into());
        self
    }

    /// Sets the execution timeout.
    pub fn execution_timeout(mut self, timeout: Duration) -> Self {
        self.execution_timeout = Some(timeout);
        self
    }

    /// Sets the run timeout.
    pub fn run_timeout(mut self, timeout: Duration) -> Self {
        self.run_timeout = Some(timeout);
        self
    }

    /// Sets the workflow task timeout.
    pub fn task_timeout(mut self, timeout: Duration) -> Self {
        self.task_timeout = Some(timeout);
        self
    }

    /// Sets the retry policy.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = Some(policy);
        self
    }

    /// Sets the id reuse policy.
    pub fn id_reuse_policy(mut self, policy: WorkflowIdReusePolicy) -> Self {
        self.id_reuse_policy = policy;
        self
    }

    /// Sets the parent close policy.
    pub fn parent_close_policy(mut self, policy: ParentClosePolicy) -> Self {
        self.parent_close_policy = policy;
        self
    }

    /// Sets a cron schedule.
    pub fn cron_schedule(mut self, schedule: impl Into<String>) -> Self {
        self.cron_schedule = Some(schedule.into());
        self
    }

    /// Sets what cancelling the child waits for.
    pub fn cancellation_type(mut self, kind: ChildCancellationType) -> Self {
        self.cancellation_type = kind;
        self
    }
}
