//! What a change to a run works in besides the run itself: the clock, event ids, the task
//! queues, the deadline index, what to commit, the effects on other runs it causes, pending
//! queries and task tokens.

use std::collections::{BTreeSet, VecDeque};
use std::time::{Duration, SystemTime};
use temporalio_protos::temporal::api::sdk::v1::UserMetadata;

use temporalio_protos::temporal::api::common::v1::WorkflowExecution;
use temporalio_protos::temporal::api::history::v1::history_event::Attributes;

use super::events::EventBuilder;
use super::pending_queries::Queries;
use super::record::{NamespaceRecord, ParentState, RunKey};
use super::tokens::TokenSigner;
use crate::matching::Matching;
use crate::store::RunDelete;

/// When the clock may jump to the next deadline.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeSkipping {
    /// Never: the wall clock alone.
    #[default]
    Off,
    /// Whenever no task is waiting or running.
    WhenIdle,
    /// When idle while a client awaits a workflow's result, as Temporal's test server does.
    WhileResultsAwaited,
}

/// The server's clock: the wall clock, plus what time skipping has skipped.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    pub(crate) skipped: Duration,
    pub(crate) skipping: TimeSkipping,
    /// Where the engine's unit tests stop the wall clock, so only `skipped` moves time.
    #[cfg(test)]
    pub(crate) frozen: Option<SystemTime>,
}

impl Clock {
    pub fn now(&self) -> SystemTime {
        #[cfg(test)]
        if let Some(frozen) = self.frozen {
            return frozen + self.skipped;
        }
        SystemTime::now() + self.skipped
    }
}

/// A change to another run that a change to one run causes, carried out after it.
#[derive(Debug)]
pub(crate) enum Effect {
    StartChild {
        parent: RunKey,
        initiated_event_id: i64,
        command: Box<
            temporalio_protos::temporal::api::command::v1::StartChildWorkflowExecutionCommandAttributes,
        >,
    },
    ChildClosed {
        parent: ParentState,
        child: WorkflowExecution,
        workflow_type: String,
        close: Box<Attributes>,
    },
    SignalExternal {
        source: RunKey,
        initiated_event_id: i64,
        target_namespace: String,
        target: WorkflowExecution,
        signal: Box<temporalio_protos::temporal::api::command::v1::SignalExternalWorkflowExecutionCommandAttributes>,
    },
    CancelExternal {
        source: RunKey,
        initiated_event_id: i64,
        target_namespace: String,
        target: WorkflowExecution,
        reason: String,
    },
    /// A parent closed: its child is terminated or asked to cancel.
    ParentClosed {
        namespace: String,
        child: WorkflowExecution,
        terminate: bool,
    },
}

/// The context a change to a run works in: everything it may touch besides the run
/// itself (event ids, the clock, the task queues, deadlines, what to commit, effects on
/// other runs, pending queries, task tokens).
#[derive(Debug, Default)]
pub(crate) struct Context {
    pub(crate) events: EventBuilder,
    /// The task queues tasks wait on for workers.
    pub(crate) matching: Matching,
    pub(crate) clock: Clock,
    /// When each run next needs attention: `(time, run)`.
    pub(crate) deadlines: BTreeSet<(SystemTime, RunKey)>,
    /// Runs changed since the last commit.
    pub(crate) dirty: BTreeSet<RunKey>,
    /// Namespaces changed since the last commit.
    pub(crate) namespaces: Vec<NamespaceRecord>,
    /// Runs deleted since the last commit.
    pub(crate) deleted: Vec<RunDelete>,
    pub(crate) effects: VecDeque<Effect>,
    pub(crate) queries: Queries,
    /// Seals the task tokens handed to workers and opens the ones they hand back.
    pub(crate) tokens: TokenSigner,
    /// The user metadata (summary, details) of the start or command being applied: the next
    /// event appended carries it, as Temporal's event does its command's.
    pub(crate) user_metadata: Option<UserMetadata>,
}
