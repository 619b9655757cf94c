//! The interface between workflow code and a worker: jobs go in, commands come out.
//!
//! A worker reads the history of a run, turns events into [`Job`]s, and calls
//! [`WorkflowInstance::activate`] once per workflow task. The instance applies the jobs, polls
//! the workflow's futures on the calling thread until none can progress, and returns the
//! [`CommandRequest`]s the code issued, each with the sequence number the worker uses to
//! route the matching events back. Nothing here touches the network or the clock, which is
//! what makes a run deterministic.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::SystemTime;

use temporalio_protos::temporal::api::command::v1 as command;
use temporalio_protos::temporal::api::common::v1::{Payload, Payloads};
use temporalio_protos::temporal::api::history::v1::MarkerRecordedEventAttributes;
use temporalio_protos::temporal::api::sdk::v1::UserMetadata;

use super::error::{WorkflowError, is_cancellation};
use super::info::WorkflowInfo;
use super::{HandlerError, HandlerFuture, Invocation, Workflow, WorkflowContext};
use crate::failure::{Failure, FailureInfo};
use crate::payload::{PayloadArgs, PayloadConverter, PayloadError, PayloadValue};

/// Marker name of `patched` / `deprecate_patch` (the name Temporal's core SDK uses).
pub const PATCH_MARKER_NAME: &str = "core_patch";
/// Marker name of `side_effect`.
pub const SIDE_EFFECT_MARKER_NAME: &str = "SideEffect";
const PATCH_DETAILS_KEY: &str = "patch_data";
const SIDE_EFFECT_DATA_KEY: &str = "data";
const SIDE_EFFECT_ID_KEY: &str = "side-effect-id";

/// What a recorded marker is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Marker {
    /// A `patched` (or `deprecate_patch`) call.
    Patch {
        /// Patch id.
        id: String,
        /// Whether it came from `deprecate_patch`.
        deprecated: bool,
    },
    /// A `side_effect` call.
    SideEffect {
        /// Sequence number of the call.
        seq: u32,
    },
}

#[derive(serde::Serialize, serde::Deserialize)]
struct PatchData {
    id: String,
    deprecated: bool,
}

impl Marker {
    /// Reads a marker event; `None` for markers this SDK does not write.
    pub fn from_event(attrs: &MarkerRecordedEventAttributes) -> Option<(Marker, Option<Payload>)> {
        let first = |key: &str| {
            attrs
                .details
                .get(key)
                .and_then(|p| p.payloads.first().cloned())
        };
        match attrs.marker_name.as_str() {
            PATCH_MARKER_NAME => {
                let data: PatchData = PatchData::from_payload(&first(PATCH_DETAILS_KEY)?).ok()?;
                Some((
                    Marker::Patch {
                        id: data.id,
                        deprecated: data.deprecated,
                    },
                    None,
                ))
            }
            SIDE_EFFECT_MARKER_NAME => {
                let seq = u32::from_payload(&first(SIDE_EFFECT_ID_KEY)?).ok()?;
                Some((Marker::SideEffect { seq }, first(SIDE_EFFECT_DATA_KEY)))
            }
            _ => None,
        }
    }

    pub(crate) fn to_attributes(
        &self,
        data: Option<Payload>,
    ) -> command::RecordMarkerCommandAttributes {
        let mut details = HashMap::new();
        let one = |p: Payload| Payloads { payloads: vec![p] };
        let name = match self {
            Marker::Patch { id, deprecated } => {
                let data = PatchData {
                    id: id.clone(),
                    deprecated: *deprecated,
                };
                if let Ok(p) = data.to_payload() {
                    details.insert(PATCH_DETAILS_KEY.to_string(), one(p));
                }
                PATCH_MARKER_NAME
            }
            Marker::SideEffect { seq } => {
                if let Ok(p) = seq.to_payload() {
                    details.insert(SIDE_EFFECT_ID_KEY.to_string(), one(p));
                }
                if let Some(p) = data {
                    details.insert(SIDE_EFFECT_DATA_KEY.to_string(), one(p));
                }
                SIDE_EFFECT_MARKER_NAME
            }
        };
        command::RecordMarkerCommandAttributes {
            marker_name: name.to_string(),
            details,
            ..Default::default()
        }
    }
}

/// Something that happened to a run, in history order, for the workflow code to see.
#[derive(Debug, Clone, PartialEq)]
pub enum Job {
    /// The workflow task being replayed recorded this patch marker.
    NotifyPatch {
        /// Patch id.
        id: String,
    },
    /// The workflow task being replayed recorded this side effect's value.
    SideEffectResult {
        /// Sequence number of the `side_effect` call.
        seq: u32,
        /// The recorded value.
        value: Payload,
    },
    /// An activity completed (`Ok`, with its result) or failed, timed out or was cancelled.
    ResolveActivity {
        /// Sequence number of the activity call.
        seq: u32,
        /// Result payload, or the activity failure (with the reason as its cause).
        result: Result<Option<Payload>, Failure>,
    },
    /// A timer fired.
    FireTimer {
        /// Sequence number of the timer.
        seq: u32,
    },
    /// A child workflow started.
    ChildStarted {
        /// Sequence number of the child call.
        seq: u32,
        /// Run id of the child.
        run_id: String,
    },
    /// A child workflow could not be started.
    ChildStartFailed {
        /// Sequence number of the child call.
        seq: u32,
        /// Why.
        failure: Failure,
    },
    /// A child workflow closed.
    ResolveChild {
        /// Sequence number of the child call.
        seq: u32,
        /// Result payload, or the child workflow failure.
        result: Result<Option<Payload>, Failure>,
    },
    /// A signal to an external workflow was delivered or failed.
    ResolveSignalExternal {
        /// Sequence number of the signal call.
        seq: u32,
        /// Whether it was delivered.
        result: Result<(), Failure>,
    },
    /// A cancellation request to an external workflow was delivered or failed.
    ResolveCancelExternal {
        /// Sequence number of the cancel call.
        seq: u32,
        /// Whether it was delivered.
        result: Result<(), Failure>,
    },
    /// A signal arrived.
    Signal {
        /// Signal name.
        name: String,
        /// Signal arguments.
        input: Vec<Payload>,
    },
    /// Cancellation of the workflow was requested.
    CancelWorkflow {
        /// The reason given.
        reason: String,
    },
    /// An update arrived (or, replaying, was accepted by this task).
    Update {
        /// The update id.
        id: String,
        /// The update name.
        name: String,
        /// The update's arguments.
        input: Vec<Payload>,
        /// Whether to run the validator: not when replaying an update history accepted.
        run_validator: bool,
    },
}

/// A command issued by workflow code; `seq` links it to the events that resolve it.
#[derive(Debug, Clone, PartialEq)]
pub enum CommandRequest {
    /// Schedule an activity.
    ScheduleActivity {
        /// Sequence number of the call.
        seq: u32,
        /// The command.
        attributes: command::ScheduleActivityTaskCommandAttributes,
        /// Its summary, for the UI.
        user_metadata: Option<UserMetadata>,
    },
    /// Ask to cancel a scheduled activity.
    RequestCancelActivity {
        /// Sequence number of the activity call.
        seq: u32,
    },
    /// Start a timer.
    StartTimer {
        /// Sequence number of the timer.
        seq: u32,
        /// The command.
        attributes: command::StartTimerCommandAttributes,
    },
    /// Cancel a started timer.
    CancelTimer {
        /// Sequence number of the timer.
        seq: u32,
    },
    /// Start a child workflow.
    StartChildWorkflow {
        /// Sequence number of the child call.
        seq: u32,
        /// The command.
        attributes: command::StartChildWorkflowExecutionCommandAttributes,
    },
    /// Signal another workflow.
    SignalExternal {
        /// Sequence number of the signal call.
        seq: u32,
        /// The command.
        attributes: command::SignalExternalWorkflowExecutionCommandAttributes,
    },
    /// Ask another workflow (or a child) to cancel.
    CancelExternal {
        /// Sequence number of the cancel call.
        seq: u32,
        /// The command.
        attributes: command::RequestCancelExternalWorkflowExecutionCommandAttributes,
    },
    /// Record a marker.
    RecordMarker {
        /// What the marker is.
        marker: Marker,
        /// The command.
        attributes: command::RecordMarkerCommandAttributes,
    },
    /// Set search attributes (a null value removes one).
    UpsertSearchAttributes(command::UpsertWorkflowSearchAttributesCommandAttributes),
    /// Set memo fields (a null value removes one).
    ModifyProperties(command::ModifyWorkflowPropertiesCommandAttributes),
    /// Complete the workflow.
    CompleteWorkflow(command::CompleteWorkflowExecutionCommandAttributes),
    /// Fail the workflow.
    FailWorkflow(command::FailWorkflowExecutionCommandAttributes),
    /// Close the workflow as cancelled.
    CancelWorkflow(command::CancelWorkflowExecutionCommandAttributes),
    /// Continue as a new run.
    ContinueAsNew(command::ContinueAsNewWorkflowExecutionCommandAttributes),
    /// Accept an update: its handler runs.
    AcceptUpdate {
        /// The update id.
        id: String,
    },
    /// Reject an update (unknown, undecodable, or refused by its validator): no event.
    RejectUpdate {
        /// The update id.
        id: String,
        /// Why.
        failure: Failure,
    },
    /// An accepted update's handler returned.
    CompleteUpdate {
        /// The update id.
        id: String,
        /// The handler's result, or its failure.
        result: Result<Payload, Failure>,
    },
}

impl CommandRequest {
    /// Whether this command closes the run.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::CompleteWorkflow(_)
                | Self::FailWorkflow(_)
                | Self::CancelWorkflow(_)
                | Self::ContinueAsNew(_)
        )
    }
}

/// One workflow task's worth of input.
#[derive(Debug, Clone)]
pub struct Activation {
    /// Workflow time: the start time of the workflow task.
    pub time: SystemTime,
    /// Whether this task was already completed once (its commands are in history).
    pub replaying: bool,
    /// Event id of the task's `WorkflowTaskStarted`.
    pub history_length: u32,
    /// Bytes of history before the task, as its `WorkflowTaskStarted` reports them.
    pub history_size: u64,
    /// Whether the server suggests continuing as new (history too long or too large).
    pub continue_as_new_suggested: bool,
    /// What happened since the previous task, in history order.
    pub jobs: Vec<Job>,
}

/// A workflow task that cannot complete: the task fails and is retried, the workflow stays
/// open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActivationError {
    /// Workflow code panicked.
    #[error("workflow code panicked: {0}")]
    Panic(String),
    /// The workflow's input could not be decoded.
    #[error("cannot decode the input of workflow {workflow_type}: {message}")]
    Input {
        /// Workflow type.
        workflow_type: String,
        /// What went wrong.
        message: String,
    },
    /// The workflow's result could not be encoded.
    #[error("cannot encode the result of workflow {workflow_type}: {message}")]
    Output {
        /// Workflow type.
        workflow_type: String,
        /// What went wrong.
        message: String,
    },
    /// Something other than the workflow runtime woke the code (debug builds): a channel fed
    /// from outside the workflow, a timer of another runtime. A replay would not wake it the
    /// same way.
    #[error(
        "workflow {workflow_type} was woken by something other than the workflow runtime \
         ({woken_by}); workflow code may wait only on what `ctx` gives (timers, activities, \
         child workflows, `wait_condition`), since nothing else is replayed from history: \
         send data in with a signal, do outside work in an activity"
    )]
    ForeignWake {
        /// Workflow type.
        workflow_type: String,
        /// Where the wake came from, with the first calls that made it.
        woken_by: String,
    },
    /// The code waits, but on nothing the workflow runtime drives (debug builds): no timer,
    /// activity, child workflow, external signal or cancellation, or condition is pending.
    #[error(
        "workflow {workflow_type} is waiting on something the workflow runtime does not drive: \
         no timer, activity, child workflow or condition is pending, so nothing in its history \
         can wake it; await `ctx.sleep(..)` instead of another runtime's timer, and a \
         `#[signal]` with `ctx.wait_condition(..)` instead of a channel"
    )]
    Blocked {
        /// Workflow type.
        workflow_type: String,
    },
}

/// How a worker starts a run.
#[derive(Debug, Clone)]
pub struct WorkflowStart {
    /// Facts about the run.
    pub info: WorkflowInfo,
    /// The run's input payloads.
    pub input: Vec<Payload>,
    /// Seed of the run's deterministic random numbers.
    pub randomness_seed: u64,
}

/// Starts runs of one workflow type; what a worker registers.
#[derive(Clone, Copy)]
pub struct WorkflowFactory {
    name: &'static str,
    signals: &'static [&'static str],
    queries: &'static [&'static str],
    start: fn(WorkflowStart) -> Result<WorkflowInstance, ActivationError>,
}

impl std::fmt::Debug for WorkflowFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkflowFactory")
            .field("name", &self.name)
            .finish()
    }
}

impl WorkflowFactory {
    /// The factory of `W`.
    pub fn of<W: Workflow>() -> Self {
        Self {
            name: W::NAME,
            signals: W::SIGNALS,
            queries: W::QUERIES,
            start: WorkflowInstance::start::<W>,
        }
    }

    /// The workflow type name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The signal names the workflow handles.
    pub fn signals(&self) -> &'static [&'static str] {
        self.signals
    }

    /// The query names the workflow answers.
    pub fn queries(&self) -> &'static [&'static str] {
        self.queries
    }

    /// Creates a run: decodes its input and builds the workflow's state. The code does not
    /// run until the first [`WorkflowInstance::activate`].
    pub fn start(&self, start: WorkflowStart) -> Result<WorkflowInstance, ActivationError> {
        (self.start)(start)
    }
}

pub(crate) struct Slot<T> {
    pub result: Option<T>,
    pub waker: Option<Waker>,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Self {
            result: None,
            waker: None,
        }
    }
}

impl<T> Slot<T> {
    pub fn resolve(&mut self, value: T) {
        if self.result.is_none() {
            self.result = Some(value);
            if let Some(w) = self.waker.take() {
                w.wake();
            }
        }
    }
}

/// Polls a slot in `map`: ready (and removed) when resolved.
pub(crate) fn poll_slot<T>(
    map: &mut HashMap<u32, Slot<T>>,
    seq: u32,
    cx: &Context<'_>,
) -> Poll<Option<T>> {
    match map.get_mut(&seq) {
        None => Poll::Ready(None),
        Some(slot) => match slot.result.take() {
            Some(v) => {
                map.remove(&seq);
                Poll::Ready(Some(v))
            }
            None => {
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        },
    }
}

pub(crate) struct ActivityMeta {
    pub activity_type: String,
    pub activity_id: String,
    pub cancellation_type: super::ActivityCancellationType,
    pub cancel_sent: bool,
}

pub(crate) struct ChildMeta {
    pub workflow_id: String,
    pub workflow_type: String,
    pub namespace: String,
    pub cancellation_type: super::ChildCancellationType,
    pub cancel_sent: bool,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub activity: u32,
    pub timer: u32,
    pub child: u32,
    pub signal: u32,
    pub cancel: u32,
    pub side_effect: u32,
}

/// A deterministic random source whose sequence never changes between versions: replays of
/// old histories depend on it, so it is not delegated to a crate that may change algorithm.
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The built-in query the Temporal UI and CLI send for a running workflow's call stack.
pub const STACK_TRACE_QUERY: &str = "__stack_trace";

/// The run's state shared by the context, the futures it hands out and the instance.
pub(crate) struct Shared {
    pub now: SystemTime,
    pub replaying: bool,
    pub history_length: u32,
    pub history_size: u64,
    pub continue_as_new_suggested: bool,
    pub rng: SplitMix64,
    pub seq: Counters,
    pub commands: Vec<CommandRequest>,
    pub activities: HashMap<u32, Slot<Result<Option<Payload>, Failure>>>,
    pub activity_meta: HashMap<u32, ActivityMeta>,
    pub timers: HashMap<u32, Slot<Result<(), Failure>>>,
    pub child_starts: HashMap<u32, Slot<Result<String, Failure>>>,
    pub child_results: HashMap<u32, Slot<Result<Option<Payload>, Failure>>>,
    pub child_meta: HashMap<u32, ChildMeta>,
    pub signals: HashMap<u32, Slot<Result<(), Failure>>>,
    pub cancels: HashMap<u32, Slot<Result<(), Failure>>>,
    pub cancel_requested: Option<String>,
    pub cancel_waiters: Vec<Waker>,
    pub condition_waiters: Vec<Waker>,
    pub state_changed: bool,
    pub patches_in_history: HashSet<String>,
    pub patch_memo: HashMap<String, bool>,
    pub side_effects: HashMap<u32, Payload>,
    pub converter: PayloadConverter,
    /// Update handlers accepted and still running.
    pub running_handlers: usize,
}

impl Shared {
    fn new(start_time: SystemTime, seed: u64) -> Self {
        Self {
            now: start_time,
            replaying: false,
            history_length: 0,
            history_size: 0,
            continue_as_new_suggested: false,
            rng: SplitMix64(seed),
            seq: Counters::default(),
            commands: Vec::new(),
            activities: HashMap::new(),
            activity_meta: HashMap::new(),
            timers: HashMap::new(),
            child_starts: HashMap::new(),
            child_results: HashMap::new(),
            child_meta: HashMap::new(),
            signals: HashMap::new(),
            cancels: HashMap::new(),
            cancel_requested: None,
            cancel_waiters: Vec::new(),
            condition_waiters: Vec::new(),
            state_changed: false,
            patches_in_history: HashSet::new(),
            patch_memo: HashMap::new(),
            side_effects: HashMap::new(),
            converter: PayloadConverter::default(),
            running_handlers: 0,
        }
    }

    /// Whether the code waits on something its history will resolve: an unresolved timer,
    /// activity, child, external signal or cancellation, a condition, or the run's
    /// cancellation.
    fn waits_on_history(&self) -> bool {
        fn unresolved<T>(slots: &HashMap<u32, Slot<T>>) -> bool {
            slots.values().any(|slot| slot.result.is_none())
        }
        unresolved(&self.activities)
            || unresolved(&self.timers)
            || unresolved(&self.child_starts)
            || unresolved(&self.child_results)
            || unresolved(&self.signals)
            || unresolved(&self.cancels)
            || !self.condition_waiters.is_empty()
            || !self.cancel_waiters.is_empty()
    }

    /// What the workflow code waits on, one line each, in the order it asked: the answer to
    /// `__stack_trace`. Async Rust keeps no call stack for a suspended future, so this names
    /// the durable operations the run is blocked on instead.
    fn awaiting(&self, workflow_type: &str) -> String {
        fn pending<T, M>(slots: &HashMap<u32, Slot<T>>, describe: M) -> Vec<(u32, String)>
        where
            M: Fn(u32) -> String,
        {
            let mut lines: Vec<(u32, String)> = slots
                .iter()
                .filter(|(_, slot)| slot.result.is_none())
                .map(|(seq, _)| (*seq, describe(*seq)))
                .collect();
            lines.sort_unstable();
            lines
        }
        let mut lines = Vec::new();
        lines.extend(pending(&self.activities, |seq| {
            match self.activity_meta.get(&seq) {
                Some(meta) => format!(
                    "activity {} (activity id {})",
                    meta.activity_type, meta.activity_id
                ),
                None => format!("activity #{seq}"),
            }
        }));
        lines.extend(pending(&self.timers, |seq| format!("timer {seq}")));
        lines.extend(pending(&self.child_starts, |seq| {
            child_line("the start of child workflow", self.child_meta.get(&seq))
        }));
        lines.extend(pending(&self.child_results, |seq| {
            child_line("child workflow", self.child_meta.get(&seq))
        }));
        lines.extend(pending(&self.signals, |seq| {
            format!("signal #{seq} to an external workflow")
        }));
        lines.extend(pending(&self.cancels, |seq| {
            format!("cancellation #{seq} of an external workflow")
        }));
        let mut text = format!("workflow {workflow_type} is waiting on:\n");
        for (_, line) in &lines {
            text.push_str(&format!("  {line}\n"));
        }
        match self.condition_waiters.len() {
            0 if lines.is_empty() => text.push_str("  nothing (it is between tasks)\n"),
            0 => {}
            n => text.push_str(&format!(
                "  {n} wait_condition(s), until the state changes\n"
            )),
        }
        text
    }

    /// Removes a command that has not been sent yet; true if it was there.
    fn unsend(&mut self, matches: impl Fn(&CommandRequest) -> bool) -> bool {
        let before = self.commands.len();
        self.commands.retain(|c| !matches(c));
        self.commands.len() != before
    }

    pub fn cancel_activity(&mut self, seq: u32) {
        let pending = self
            .activities
            .get(&seq)
            .is_some_and(|s| s.result.is_none());
        let Some(meta) = self.activity_meta.get_mut(&seq) else {
            return;
        };
        if !pending || meta.cancel_sent {
            return;
        }
        meta.cancel_sent = true;
        let failure = activity_cancelled(meta);
        let kind = meta.cancellation_type;
        let unsent = self
            .unsend(|c| matches!(c, CommandRequest::ScheduleActivity { seq: s, .. } if *s == seq));
        use super::ActivityCancellationType as T;
        if !unsent && kind != T::Abandon {
            self.commands
                .push(CommandRequest::RequestCancelActivity { seq });
        }
        if (unsent || kind != T::WaitCancellationCompleted)
            && let Some(slot) = self.activities.get_mut(&seq)
        {
            slot.resolve(Err(failure));
        }
    }

    pub fn cancel_timer(&mut self, seq: u32) {
        let Some(slot) = self.timers.get_mut(&seq) else {
            return;
        };
        if slot.result.is_some() {
            return;
        }
        slot.resolve(Err(cancelled_failure("Timer cancelled")));
        let unsent =
            self.unsend(|c| matches!(c, CommandRequest::StartTimer { seq: s, .. } if *s == seq));
        if !unsent {
            self.commands.push(CommandRequest::CancelTimer { seq });
        }
    }

    pub fn cancel_child(&mut self, seq: u32) {
        let Some(meta) = self.child_meta.get_mut(&seq) else {
            return;
        };
        let pending = self
            .child_results
            .get(&seq)
            .is_some_and(|s| s.result.is_none());
        if !pending || meta.cancel_sent {
            return;
        }
        meta.cancel_sent = true;
        let failure = child_cancelled(meta);
        let kind = meta.cancellation_type;
        let attributes = command::RequestCancelExternalWorkflowExecutionCommandAttributes {
            workflow_id: meta.workflow_id.clone(),
            child_workflow_only: true,
            reason: "cancelled by the parent workflow".to_string(),
            ..Default::default()
        };
        let unsent = self.unsend(
            |c| matches!(c, CommandRequest::StartChildWorkflow { seq: s, .. } if *s == seq),
        );
        use super::ChildCancellationType as T;
        if !unsent && kind != T::Abandon {
            self.seq.cancel += 1;
            // Not tracked: nothing waits on the delivery of this request.
            let cancel_seq = self.seq.cancel;
            self.commands.push(CommandRequest::CancelExternal {
                seq: cancel_seq,
                attributes,
            });
        }
        if unsent || kind != T::WaitCancellationCompleted {
            if let Some(slot) = self.child_starts.get_mut(&seq) {
                slot.resolve(Err(failure.clone()));
            }
            if let Some(slot) = self.child_results.get_mut(&seq) {
                slot.resolve(Err(failure));
            }
        }
    }

    /// Applies a job; a signal or an update comes back for its handler.
    fn apply(&mut self, job: Job) -> Option<Delivery> {
        match job {
            Job::NotifyPatch { id } => {
                self.patches_in_history.insert(id);
            }
            Job::SideEffectResult { seq, value } => {
                self.side_effects.insert(seq, value);
            }
            Job::ResolveActivity { seq, result } => {
                if let Some(slot) = self.activities.get_mut(&seq) {
                    slot.resolve(result);
                }
            }
            Job::FireTimer { seq } => {
                if let Some(slot) = self.timers.get_mut(&seq) {
                    slot.resolve(Ok(()));
                }
            }
            Job::ChildStarted { seq, run_id } => {
                if let Some(slot) = self.child_starts.get_mut(&seq) {
                    slot.resolve(Ok(run_id));
                }
            }
            Job::ChildStartFailed { seq, failure } => {
                if let Some(slot) = self.child_starts.get_mut(&seq) {
                    slot.resolve(Err(failure.clone()));
                }
                if let Some(slot) = self.child_results.get_mut(&seq) {
                    slot.resolve(Err(failure));
                }
            }
            Job::ResolveChild { seq, result } => {
                if let Some(slot) = self.child_results.get_mut(&seq) {
                    slot.resolve(result);
                }
            }
            Job::ResolveSignalExternal { seq, result } => {
                if let Some(slot) = self.signals.get_mut(&seq) {
                    slot.resolve(result);
                }
            }
            Job::ResolveCancelExternal { seq, result } => {
                if let Some(slot) = self.cancels.get_mut(&seq) {
                    slot.resolve(result);
                }
            }
            Job::Signal { name, input } => {
                return Some(Delivery::Signal(Invocation { name, input }));
            }
            Job::Update {
                id,
                name,
                input,
                run_validator,
            } => {
                return Some(Delivery::Update {
                    id,
                    invocation: Invocation { name, input },
                    run_validator,
                });
            }
            Job::CancelWorkflow { reason } => {
                if self.cancel_requested.is_none() {
                    self.cancel_requested = Some(reason);
                    for w in self.cancel_waiters.drain(..) {
                        w.wake();
                    }
                    // Everything the code is waiting on is cancelled, as a cancelled task
                    // would be: the code sees the cancellation where it awaits.
                    let mut activities: Vec<u32> = self.activities.keys().copied().collect();
                    activities.sort_unstable();
                    for seq in activities {
                        self.cancel_activity(seq);
                    }
                    let mut timers: Vec<u32> = self.timers.keys().copied().collect();
                    timers.sort_unstable();
                    for seq in timers {
                        self.cancel_timer(seq);
                    }
                    let mut children: Vec<u32> = self.child_meta.keys().copied().collect();
                    children.sort_unstable();
                    for seq in children {
                        self.cancel_child(seq);
                    }
                }
            }
        }
        None
    }
}

/// A job for a handler of the workflow's code.
enum Delivery {
    Signal(Invocation),
    Update {
        id: String,
        invocation: Invocation,
        run_validator: bool,
    },
}

pub(crate) fn cancelled_failure(message: &str) -> Failure {
    Failure {
        message: message.to_string(),
        source: String::new(),
        stack_trace: String::new(),
        info: FailureInfo::Canceled {
            details: Vec::new(),
            identity: String::new(),
        },
        cause: None,
    }
}

fn activity_cancelled(meta: &ActivityMeta) -> Failure {
    Failure {
        message: "Activity cancelled".to_string(),
        source: String::new(),
        stack_trace: String::new(),
        info: FailureInfo::Activity(crate::failure::ActivityFailure {
            activity_type: meta.activity_type.clone(),
            activity_id: meta.activity_id.clone(),
            ..Default::default()
        }),
        cause: Some(Box::new(cancelled_failure("Activity cancelled"))),
    }
}

fn child_cancelled(meta: &ChildMeta) -> Failure {
    Failure {
        message: "Child workflow cancelled".to_string(),
        source: String::new(),
        stack_trace: String::new(),
        info: FailureInfo::ChildWorkflow(crate::failure::ChildWorkflowFailure {
            namespace: meta.namespace.clone(),
            workflow_id: meta.workflow_id.clone(),
            workflow_type: meta.workflow_type.clone(),
            ..Default::default()
        }),
        cause: Some(Box::new(cancelled_failure("Child workflow cancelled"))),
    }
}

/// Whether runs watch what wakes them (debug builds): a wake outside an activation, or from
/// another thread, comes from something the history does not drive.
const WATCH_WAKES: bool = cfg!(debug_assertions);

/// The waker of a run's code: a flag the activation loop reads, and in debug builds a record
/// of the first wake that came from outside the workflow runtime.
struct RunWaker {
    woken: AtomicBool,
    /// True while an activation runs on `owner`: the only time the runtime wakes the code.
    delivering: AtomicBool,
    owner: std::thread::ThreadId,
    foreign: std::sync::Mutex<Option<String>>,
}

impl RunWaker {
    fn new() -> Self {
        Self {
            woken: AtomicBool::new(true),
            delivering: AtomicBool::new(false),
            owner: std::thread::current().id(),
            foreign: std::sync::Mutex::new(None),
        }
    }

    fn woke(&self) {
        self.woken.store(true, Ordering::Release);
        if WATCH_WAKES {
            let on_owner = std::thread::current().id() == self.owner;
            if !(on_owner && self.delivering.load(Ordering::Acquire)) {
                let mut foreign = self.foreign.lock().unwrap_or_else(|e| e.into_inner());
                if foreign.is_none() {
                    *foreign = Some(describe_foreign_wake(on_owner));
                }
            }
        }
    }

    fn take_foreign(&self) -> Option<String> {
        self.foreign
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }
}

impl Wake for RunWaker {
    fn wake(self: Arc<Self>) {
        self.woke();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.woke();
    }
}

/// Names what woke a run from outside: the thread, and the first frames of the call that
/// woke it that are not the standard library's or this runtime's.
fn describe_foreign_wake(on_owner: bool) -> String {
    let thread = std::thread::current();
    let place = if on_owner {
        "between workflow tasks".to_string()
    } else {
        format!("from thread {:?}", thread.name().unwrap_or("unnamed"))
    };
    let trace = std::backtrace::Backtrace::force_capture().to_string();
    let callers: Vec<&str> = trace
        .lines()
        .filter_map(|line| {
            let (index, symbol) = line.trim_start().split_once(": ")?;
            index.parse::<u32>().ok().map(|_| symbol.trim())
        })
        .filter(|symbol| {
            ![
                "std::", "core::", "alloc::", "<alloc::", "<core::", "<std::", "__rust",
            ]
            .iter()
            .any(|prefix| symbol.starts_with(prefix))
                && ![
                    "describe_foreign_wake",
                    "RunWaker",
                    "workflow_core::workflow::runtime::",
                ]
                .iter()
                .any(|ours| symbol.contains(ours))
        })
        .take(4)
        .collect();
    if callers.is_empty() {
        place
    } else {
        format!("{place}, by {}", callers.join(" <- "))
    }
}

enum RunOutcome {
    Completed(Result<Payload, PayloadError>),
    Error(WorkflowError),
}

trait Handlers {
    fn signal(&self, invocation: &Invocation) -> Result<(), HandlerError>;
    fn query(&self, invocation: &Invocation) -> Result<Vec<Payload>, HandlerError>;
    fn validate_update(&self, invocation: &Invocation) -> Result<(), HandlerError>;
    fn start_update(&self, invocation: &Invocation) -> Result<HandlerFuture, HandlerError>;
    fn start_signal(&self, invocation: &Invocation) -> Result<HandlerFuture, HandlerError>;
}

struct StateHandlers<W>(WorkflowContext<W>);

impl<W: Workflow> Handlers for StateHandlers<W> {
    fn signal(&self, invocation: &Invocation) -> Result<(), HandlerError> {
        self.0.state_cell().borrow_mut().handle_signal(invocation)
    }
    fn query(&self, invocation: &Invocation) -> Result<Vec<Payload>, HandlerError> {
        self.0.state_cell().borrow().handle_query(invocation)
    }
    fn validate_update(&self, invocation: &Invocation) -> Result<(), HandlerError> {
        self.0.state_cell().borrow().validate_update(invocation)
    }
    fn start_update(&self, invocation: &Invocation) -> Result<HandlerFuture, HandlerError> {
        W::handle_update(self.0.clone(), invocation)
    }
    fn start_signal(&self, invocation: &Invocation) -> Result<HandlerFuture, HandlerError> {
        W::handle_async_signal(self.0.clone(), invocation)
    }
}

/// One run of a workflow, driven by a worker. Not `Send`: a run lives on one thread.
pub struct WorkflowInstance {
    shared: Rc<RefCell<Shared>>,
    root: Option<Pin<Box<dyn Future<Output = RunOutcome>>>>,
    handlers: Box<dyn Handlers>,
    /// Async handlers running, in the order started: an update's (with its id) or a
    /// signal's.
    running: Vec<(Option<String>, HandlerFuture)>,
    woken: Arc<RunWaker>,
    info: Rc<WorkflowInfo>,
    signals: &'static [&'static str],
    queries: &'static [&'static str],
    update_names: &'static [&'static str],
    poisoned: bool,
}

impl std::fmt::Debug for WorkflowInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkflowInstance")
            .field("workflow_type", &self.info.workflow_type)
            .field("run_id", &self.info.run_id)
            .field("finished", &self.root.is_none())
            .finish()
    }
}

impl WorkflowInstance {
    fn start<W: Workflow>(start: WorkflowStart) -> Result<Self, ActivationError> {
        let input = W::Input::from_payloads(&start.input).map_err(|e| ActivationError::Input {
            workflow_type: start.info.workflow_type.clone(),
            message: e.to_string(),
        })?;
        let info = Rc::new(start.info);
        let shared = Rc::new(RefCell::new(Shared::new(
            info.start_time,
            start.randomness_seed,
        )));
        let state = Rc::new(RefCell::new(W::new(&info, &input)));
        let ctx = WorkflowContext::new(shared.clone(), state, info.clone());
        let handlers = StateHandlers(ctx.clone());
        let root = Box::pin(async move {
            match W::run(ctx, input).await {
                Ok(output) => RunOutcome::Completed(output.to_payload()),
                Err(e) => RunOutcome::Error(e),
            }
        });
        Ok(Self {
            shared,
            root: Some(root),
            handlers: Box::new(handlers),
            running: Vec::new(),
            woken: Arc::new(RunWaker::new()),
            info,
            signals: W::SIGNALS,
            queries: W::QUERIES,
            update_names: W::UPDATES,
            poisoned: false,
        })
    }

    /// Facts about the run.
    pub fn info(&self) -> &WorkflowInfo {
        &self.info
    }

    /// Whether the run's code has returned.
    pub fn is_finished(&self) -> bool {
        self.root.is_none()
    }

    /// Applies one workflow task's jobs, runs the code until it waits, and returns the
    /// commands it issued. After an error the instance must be dropped.
    pub fn activate(
        &mut self,
        activation: Activation,
    ) -> Result<Vec<CommandRequest>, ActivationError> {
        if self.poisoned {
            return Err(ActivationError::Panic(
                "the run was poisoned by an earlier panic".into(),
            ));
        }
        self.foreign_wake()?;
        {
            let mut shared = self.shared.borrow_mut();
            shared.now = activation.time;
            shared.replaying = activation.replaying;
            shared.history_length = activation.history_length;
            shared.history_size = activation.history_size;
            shared.continue_as_new_suggested = activation.continue_as_new_suggested;
        }
        self.woken.delivering.store(true, Ordering::Release);
        let ran = self.deliver(activation.jobs);
        self.woken.delivering.store(false, Ordering::Release);
        ran?;
        self.foreign_wake()?;
        let commands = std::mem::take(&mut self.shared.borrow_mut().commands);
        if WATCH_WAKES && self.root.is_some() && !self.shared.borrow().waits_on_history() {
            self.poisoned = true;
            return Err(ActivationError::Blocked {
                workflow_type: self.info.workflow_type.clone(),
            });
        }
        Ok(commands)
    }

    fn deliver(&mut self, jobs: Vec<Job>) -> Result<(), ActivationError> {
        for job in jobs {
            let delivery = self.shared.borrow_mut().apply(job);
            match delivery {
                Some(Delivery::Signal(invocation)) => self.deliver_signal(invocation)?,
                Some(Delivery::Update {
                    id,
                    invocation,
                    run_validator,
                }) => self.deliver_update(id, invocation, run_validator),
                None => {}
            }
        }
        self.run_until_blocked()
    }

    /// Fails the activation when something outside the runtime woke the code (debug builds).
    fn foreign_wake(&mut self) -> Result<(), ActivationError> {
        match self.woken.take_foreign() {
            Some(woken_by) => {
                self.poisoned = true;
                Err(ActivationError::ForeignWake {
                    workflow_type: self.info.workflow_type.clone(),
                    woken_by,
                })
            }
            None => Ok(()),
        }
    }

    fn deliver_signal(&mut self, invocation: Invocation) -> Result<(), ActivationError> {
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
            match self.handlers.signal(&invocation) {
                // Not a synchronous handler: perhaps an async one, which runs with the code.
                Err(HandlerError::Unknown) => self.handlers.start_signal(&invocation).map(Some),
                other => other.map(|()| None),
            }
        }));
        match result {
            Ok(Ok(started)) => {
                if let Some(handler) = started {
                    self.shared.borrow_mut().running_handlers += 1;
                    self.running.push((None, handler));
                    self.woken.woken.store(true, Ordering::Release);
                }
                self.shared.borrow_mut().state_changed = true;
            }
            Ok(Err(HandlerError::Unknown)) => tracing::warn!(
                workflow_id = %self.info.workflow_id,
                signal = %invocation.name,
                known = ?self.signals,
                "dropping a signal the workflow has no handler for"
            ),
            Ok(Err(e)) => tracing::warn!(
                workflow_id = %self.info.workflow_id,
                signal = %invocation.name,
                error = %e,
                "dropping a signal whose handler failed"
            ),
            Err(panic) => {
                self.poisoned = true;
                return Err(ActivationError::Panic(panic_message(&panic)));
            }
        }
        Ok(())
    }

    /// Rejects an update the workflow has no handler for, or whose validator refuses it;
    /// otherwise accepts it and starts its handler, which runs with the rest of the code.
    fn deliver_update(&mut self, id: String, invocation: Invocation, run_validator: bool) {
        let reject = |shared: &RefCell<Shared>, failure: Failure| {
            shared
                .borrow_mut()
                .commands
                .push(CommandRequest::RejectUpdate {
                    id: id.clone(),
                    failure,
                });
        };
        if !self.update_names.contains(&invocation.name.as_str()) {
            let failure = Failure::application(
                "UpdateNotFound",
                format!(
                    "workflow type {} has no update {:?}; known updates: [{}]",
                    self.info.workflow_type,
                    invocation.name,
                    self.update_names.join(", ")
                ),
            );
            return reject(&self.shared, failure);
        }
        if run_validator {
            let validated = std::panic::catch_unwind(AssertUnwindSafe(|| {
                self.handlers.validate_update(&invocation)
            }));
            let refused = match validated {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(handler_failure(e)),
                Err(panic) => Some(Failure::application("Panic", panic_message(&panic))),
            };
            if let Some(failure) = refused {
                return reject(&self.shared, failure);
            }
        }
        let mut shared = self.shared.borrow_mut();
        shared
            .commands
            .push(CommandRequest::AcceptUpdate { id: id.clone() });
        match self.handlers.start_update(&invocation) {
            Ok(handler) => {
                shared.running_handlers += 1;
                self.running.push((Some(id), handler));
                self.woken.woken.store(true, Ordering::Release);
            }
            Err(e) => shared.commands.push(CommandRequest::CompleteUpdate {
                id,
                result: Err(handler_failure(e)),
            }),
        }
    }

    /// Polls the running async handlers once; an update's that returned completes it.
    fn poll_handlers(&mut self, cx: &mut Context<'_>) -> Result<(), ActivationError> {
        let mut index = 0;
        while index < self.running.len() {
            let handler = &mut self.running[index].1;
            match std::panic::catch_unwind(AssertUnwindSafe(|| handler.as_mut().poll(cx))) {
                Ok(Poll::Pending) => index += 1,
                Ok(Poll::Ready(result)) => {
                    let (update, _) = self.running.remove(index);
                    let mut shared = self.shared.borrow_mut();
                    shared.running_handlers -= 1;
                    shared.state_changed = true;
                    match (update, result) {
                        (Some(id), result) => shared
                            .commands
                            .push(CommandRequest::CompleteUpdate { id, result }),
                        (None, Ok(_)) => {}
                        (None, Err(failure)) => tracing::warn!(
                            workflow_id = %self.info.workflow_id,
                            error = %failure.message,
                            "an async signal handler failed"
                        ),
                    }
                }
                Err(panic) => {
                    self.poisoned = true;
                    return Err(ActivationError::Panic(panic_message(&panic)));
                }
            }
        }
        Ok(())
    }

    fn run_until_blocked(&mut self) -> Result<(), ActivationError> {
        let waker = Waker::from(self.woken.clone());
        let mut cx = Context::from_waker(&waker);
        loop {
            let woken = self.woken.woken.swap(false, Ordering::AcqRel);
            // Handlers first: an update that returns as the run does completes before it.
            if woken && self.root.is_some() {
                self.poll_handlers(&mut cx)?;
            }
            if woken && let Some(root) = self.root.as_mut() {
                {
                    match std::panic::catch_unwind(AssertUnwindSafe(|| root.as_mut().poll(&mut cx)))
                    {
                        Ok(Poll::Pending) => {}
                        Ok(Poll::Ready(outcome)) => {
                            self.root = None;
                            self.finish(outcome)?;
                        }
                        Err(panic) => {
                            self.poisoned = true;
                            return Err(ActivationError::Panic(panic_message(&panic)));
                        }
                    }
                }
            }
            let mut shared = self.shared.borrow_mut();
            if shared.state_changed {
                shared.state_changed = false;
                for w in shared.condition_waiters.drain(..) {
                    w.wake();
                }
            }
            drop(shared);
            if !self.woken.woken.load(Ordering::Acquire) || self.root.is_none() {
                return Ok(());
            }
        }
    }

    fn finish(&mut self, outcome: RunOutcome) -> Result<(), ActivationError> {
        if !self.running.is_empty() {
            let updates: Vec<&str> = self
                .running
                .iter()
                .filter_map(|(id, _)| id.as_deref())
                .collect();
            tracing::warn!(
                workflow_id = %self.info.workflow_id,
                run_id = %self.info.run_id,
                handlers = self.running.len(),
                ?updates,
                "the workflow finished while signal or update handlers were still running; \
                 await `ctx.all_handlers_finished()` before returning"
            );
            self.running.clear();
        }
        let mut shared = self.shared.borrow_mut();
        let command = match outcome {
            RunOutcome::Completed(Ok(result)) => CommandRequest::CompleteWorkflow(
                command::CompleteWorkflowExecutionCommandAttributes {
                    result: Some(Payloads {
                        payloads: vec![result],
                    }),
                },
            ),
            RunOutcome::Completed(Err(e)) => {
                return Err(ActivationError::Output {
                    workflow_type: self.info.workflow_type.clone(),
                    message: e.to_string(),
                });
            }
            RunOutcome::Error(WorkflowError::ContinueAsNew(attrs)) => {
                CommandRequest::ContinueAsNew(*attrs)
            }
            RunOutcome::Error(WorkflowError::Failed(failure)) => {
                if shared.cancel_requested.is_some() && is_cancellation(&failure) {
                    CommandRequest::CancelWorkflow(Default::default())
                } else {
                    CommandRequest::FailWorkflow(command::FailWorkflowExecutionCommandAttributes {
                        failure: Some(failure.to_proto()),
                    })
                }
            }
        };
        shared.commands.push(command);
        Ok(())
    }

    /// Answers a query from the current state.
    pub fn query(&self, name: &str, input: Vec<Payload>) -> Result<Vec<Payload>, Failure> {
        if name == STACK_TRACE_QUERY && !self.queries.contains(&name) {
            let shared = self.shared.borrow();
            return shared
                .converter
                .to_payload(&shared.awaiting(&self.info.workflow_type))
                .map(|payload| vec![payload])
                .map_err(|e| Failure::application("PayloadError", e.to_string()));
        }
        let invocation = Invocation {
            name: name.to_string(),
            input,
        };
        match std::panic::catch_unwind(AssertUnwindSafe(|| self.handlers.query(&invocation))) {
            Ok(Ok(payloads)) => Ok(payloads),
            Ok(Err(HandlerError::Unknown)) => Err(Failure::application(
                "QueryNotFound",
                format!(
                    "workflow type {} has no query {name:?}; known queries: [{}]",
                    self.info.workflow_type,
                    self.queries.join(", ")
                ),
            )),
            Ok(Err(HandlerError::Payload(e))) => {
                Err(Failure::application("PayloadError", e.to_string()))
            }
            Ok(Err(HandlerError::Failed(f))) => Err(*f),
            Err(panic) => Err(Failure::application("Panic", panic_message(&panic))),
        }
    }
}

/// The failure a handler's error reports.
fn handler_failure(error: HandlerError) -> Failure {
    match error {
        HandlerError::Failed(failure) => *failure,
        HandlerError::Payload(e) => Failure::application("PayloadError", e.to_string()),
        HandlerError::Unknown => Failure::application("UpdateNotFound", error.to_string()),
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_string()
    }
}

fn child_line(what: &str, meta: Option<&ChildMeta>) -> String {
    match meta {
        Some(meta) => format!(
            "{what} {} (workflow id {})",
            meta.workflow_type, meta.workflow_id
        ),
        None => what.to_owned(),
    }
}

/// Encodes a list of payloads as the proto wrapper.
pub(crate) fn payloads(list: Vec<Payload>) -> Option<Payloads> {
    Some(Payloads { payloads: list })
}

/// Encodes arguments with the run's converter, for commands.
pub(crate) fn encode_args<A: PayloadArgs>(
    shared: &Shared,
    args: &A,
) -> Result<Vec<Payload>, PayloadError> {
    shared.converter.to_payloads(args)
}
