//! The state of a run besides its history, as one protobuf record: what the store keeps
//! and what a restarted server reads back. Deadlines are wall-clock times, so they survive a
//! restart.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use prost_types::Timestamp;
use temporalio_protos::temporal::api::common::v1::{
    Header, Memo, Payloads, RetryPolicy, SearchAttributes,
};
use temporalio_protos::temporal::api::enums::v1::{ParentClosePolicy, WorkflowExecutionStatus};
use temporalio_protos::temporal::api::failure::v1::Failure;
use temporalio_protos::temporal::api::history::v1::HistoryEvent;
use temporalio_protos::temporal::api::sdk::v1::UserMetadata;

/// A run's key: `(namespace, run id)`.
pub(crate) type RunKey = (String, String);

/// A run's state.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RunState {
    #[prost(string, tag = "1")]
    pub workflow_id: String,
    #[prost(string, tag = "2")]
    pub run_id: String,
    #[prost(string, tag = "3")]
    pub workflow_type: String,
    #[prost(string, tag = "4")]
    pub task_queue: String,
    #[prost(enumeration = "WorkflowExecutionStatus", tag = "5")]
    pub status: i32,
    #[prost(message, optional, tag = "6")]
    pub start_time: Option<Timestamp>,
    #[prost(message, optional, tag = "7")]
    pub close_time: Option<Timestamp>,
    #[prost(string, tag = "8")]
    pub request_id: String,
    #[prost(message, optional, tag = "9")]
    pub execution_timeout: Option<prost_types::Duration>,
    #[prost(message, optional, tag = "10")]
    pub run_timeout: Option<prost_types::Duration>,
    #[prost(message, optional, tag = "11")]
    pub task_timeout: Option<prost_types::Duration>,
    /// The workflow task scheduled or running, if any.
    #[prost(message, optional, tag = "12")]
    pub workflow_task: Option<WorkflowTaskState>,
    /// Event id of the last completed workflow task's start.
    #[prost(int64, tag = "13")]
    pub previous_started_event_id: i64,
    /// Activities scheduled and not closed, by scheduled event id.
    #[prost(btree_map = "int64, message", tag = "14")]
    pub activities: BTreeMap<i64, ActivityState>,
    /// Events that arrived while a workflow task ran, written after it (ids unset).
    #[prost(message, repeated, tag = "15")]
    pub buffered: Vec<HistoryEvent>,
    /// Running timers by timer id.
    #[prost(btree_map = "string, message", tag = "16")]
    pub timers: BTreeMap<String, TimerState>,
    /// When the run times out (its run timeout, or what is left of the execution timeout).
    #[prost(message, optional, tag = "17")]
    pub run_deadline: Option<Timestamp>,
    /// The worker's own queue that gets this run's next workflow tasks.
    #[prost(message, optional, tag = "18")]
    pub sticky: Option<StickyState>,
    /// Children started and not closed, by initiated event id.
    #[prost(btree_map = "int64, message", tag = "19")]
    pub children: BTreeMap<i64, ChildState>,
    /// The parent, when a workflow started this run as its child.
    #[prost(message, optional, tag = "20")]
    pub parent: Option<ParentState>,
    #[prost(string, tag = "21")]
    pub first_execution_run_id: String,
    #[prost(message, optional, tag = "22")]
    pub search_attributes: Option<SearchAttributes>,
    #[prost(message, optional, tag = "23")]
    pub memo: Option<Memo>,
    /// Whether cancellation was requested.
    #[prost(bool, tag = "24")]
    pub cancel_requested: bool,
    /// With a start delay: when the first workflow task is scheduled.
    #[prost(message, optional, tag = "25")]
    pub first_task_at: Option<Timestamp>,
    /// When the whole chain of runs times out (execution timeout).
    #[prost(message, optional, tag = "26")]
    pub execution_deadline: Option<Timestamp>,
    /// The request ids of signals already taken, so a retried signal is written once.
    #[prost(string, repeated, tag = "27")]
    pub signal_request_ids: Vec<String>,
    #[prost(message, optional, tag = "28")]
    pub retry_policy: Option<RetryPolicy>,
    #[prost(int32, tag = "29")]
    pub attempt: i32,
    /// Run id of the run this one continued, if any.
    #[prost(string, tag = "30")]
    pub continued_from: String,
    /// When the first workflow task is due: the start time plus any start delay.
    #[prost(message, optional, tag = "31")]
    pub execution_time: Option<Timestamp>,
    /// The cron schedule; a closing run then starts the next at the next scheduled time.
    #[prost(string, tag = "32")]
    pub cron_schedule: String,
    /// The task id of the run's last event, so start-up can continue task ids without
    /// reading the events of closed runs.
    #[prost(int64, tag = "33")]
    pub last_task_id: i64,
    /// Updates accepted (and completed), by update id: where their events are, so a
    /// repeated update id is answered from history, as Temporal keeps it.
    #[prost(btree_map = "string, message", tag = "34")]
    pub updates: BTreeMap<String, UpdateRecord>,
    /// The workflow's summary and details, as its start gave them.
    #[prost(message, optional, tag = "35")]
    pub user_metadata: Option<UserMetadata>,
}

/// Where an accepted update's events are.
#[derive(Clone, PartialEq, prost::Message)]
pub struct UpdateRecord {
    #[prost(int64, tag = "1")]
    pub accepted_event_id: i64,
    /// 0 until the update completes.
    #[prost(int64, tag = "2")]
    pub completed_event_id: i64,
}

/// A workflow task scheduled, and started once a poller took it.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WorkflowTaskState {
    #[prost(int64, tag = "1")]
    pub scheduled_event_id: i64,
    /// 0 until started.
    #[prost(int64, tag = "2")]
    pub started_event_id: i64,
    #[prost(int32, tag = "3")]
    pub attempt: i32,
    /// The queue it waits on: the run's queue or a worker's sticky queue.
    #[prost(string, tag = "4")]
    pub queue: String,
    /// Started: when it times out. On a sticky queue: when it moves to the normal queue.
    #[prost(message, optional, tag = "5")]
    pub deadline: Option<Timestamp>,
    #[prost(message, optional, tag = "6")]
    pub scheduled_time: Option<Timestamp>,
    #[prost(message, optional, tag = "7")]
    pub started_time: Option<Timestamp>,
    /// A failed attempt waits until then before it is offered again.
    #[prost(message, optional, tag = "8")]
    pub not_before: Option<Timestamp>,
}

/// An activity scheduled and not closed.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ActivityState {
    #[prost(string, tag = "1")]
    pub activity_id: String,
    #[prost(string, tag = "2")]
    pub activity_type: String,
    #[prost(message, optional, tag = "3")]
    pub input: Option<Payloads>,
    #[prost(message, optional, tag = "4")]
    pub header: Option<Header>,
    #[prost(string, tag = "5")]
    pub task_queue: String,
    #[prost(message, optional, tag = "6")]
    pub scheduled_time: Option<Timestamp>,
    #[prost(message, optional, tag = "7")]
    pub current_attempt_scheduled_time: Option<Timestamp>,
    #[prost(message, optional, tag = "8")]
    pub schedule_to_close: Option<prost_types::Duration>,
    #[prost(message, optional, tag = "9")]
    pub schedule_to_start: Option<prost_types::Duration>,
    #[prost(message, optional, tag = "10")]
    pub start_to_close: Option<prost_types::Duration>,
    #[prost(message, optional, tag = "11")]
    pub heartbeat: Option<prost_types::Duration>,
    #[prost(message, optional, tag = "12")]
    pub retry_policy: Option<RetryPolicy>,
    #[prost(int32, tag = "13")]
    pub attempt: i32,
    /// Set while a worker holds the current attempt.
    #[prost(message, optional, tag = "14")]
    pub started_time: Option<Timestamp>,
    #[prost(string, tag = "15")]
    pub started_identity: String,
    #[prost(message, optional, tag = "16")]
    pub last_heartbeat_time: Option<Timestamp>,
    #[prost(message, optional, tag = "17")]
    pub heartbeat_details: Option<Payloads>,
    #[prost(message, optional, tag = "18")]
    pub last_failure: Option<Failure>,
    #[prost(bool, tag = "19")]
    pub cancel_requested: bool,
    /// Waiting out a retry's backoff: when it is offered again.
    #[prost(message, optional, tag = "20")]
    pub retry_at: Option<Timestamp>,
    #[prost(string, tag = "21")]
    pub last_worker_identity: String,
}

/// A running timer.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimerState {
    #[prost(int64, tag = "1")]
    pub started_event_id: i64,
    #[prost(message, optional, tag = "2")]
    pub fire_at: Option<Timestamp>,
}

/// A worker's sticky queue for a run.
#[derive(Clone, PartialEq, prost::Message)]
pub struct StickyState {
    #[prost(string, tag = "1")]
    pub queue: String,
    #[prost(message, optional, tag = "2")]
    pub schedule_to_start: Option<prost_types::Duration>,
}

/// A child workflow started by a run.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ChildState {
    #[prost(string, tag = "1")]
    pub namespace: String,
    #[prost(string, tag = "2")]
    pub workflow_id: String,
    /// Empty until the child started.
    #[prost(string, tag = "3")]
    pub run_id: String,
    #[prost(string, tag = "4")]
    pub workflow_type: String,
    #[prost(enumeration = "ParentClosePolicy", tag = "5")]
    pub parent_close_policy: i32,
    #[prost(int64, tag = "6")]
    pub started_event_id: i64,
}

/// The parent of a child run.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ParentState {
    #[prost(string, tag = "1")]
    pub namespace: String,
    #[prost(string, tag = "2")]
    pub workflow_id: String,
    #[prost(string, tag = "3")]
    pub run_id: String,
    #[prost(int64, tag = "4")]
    pub initiated_event_id: i64,
    /// The root of the parent's tree: the run no workflow started as its child.
    #[prost(string, tag = "5")]
    pub root_workflow_id: String,
    #[prost(string, tag = "6")]
    pub root_run_id: String,
}

impl ParentState {
    /// The root execution of every run below this parent.
    pub fn root(&self) -> temporalio_protos::temporal::api::common::v1::WorkflowExecution {
        temporalio_protos::temporal::api::common::v1::WorkflowExecution {
            workflow_id: self.root_workflow_id.clone(),
            run_id: self.root_run_id.clone(),
        }
    }
}

/// A namespace as stored.
#[derive(Clone, PartialEq, prost::Message)]
pub struct NamespaceRecord {
    #[prost(string, tag = "1")]
    pub id: String,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(string, tag = "3")]
    pub description: String,
    #[prost(string, tag = "4")]
    pub owner_email: String,
    #[prost(message, optional, tag = "5")]
    pub retention: Option<prost_types::Duration>,
}

/// A wall-clock time as a protobuf timestamp.
pub fn stamp(time: SystemTime) -> Option<Timestamp> {
    Some(time.into())
}

/// A protobuf timestamp as a wall-clock time.
pub fn time(stamp: &Option<Timestamp>) -> Option<SystemTime> {
    stamp.and_then(|t| SystemTime::try_from(t).ok())
}

/// A protobuf duration as a `Duration`; zero and negative ones count as unset, and longer
/// ones than Temporal allows are cut to its maximum, so adding one to a time cannot overflow.
pub fn duration(value: &Option<prost_types::Duration>) -> Option<Duration> {
    value
        .and_then(|d| Duration::try_from(d).ok())
        .filter(|d| !d.is_zero())
        .map(|d| d.min(crate::limits::MAX_DURATION))
}

/// A `Duration` as a protobuf duration.
pub fn proto_duration(value: Duration) -> Option<prost_types::Duration> {
    value.try_into().ok()
}
