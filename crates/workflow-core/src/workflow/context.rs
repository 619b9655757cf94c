//! The workflow context and the futures it hands out.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use temporalio_protos::temporal::api::command::v1 as command;
use temporalio_protos::temporal::api::common::v1::{self as common, ActivityType};
use temporalio_protos::temporal::api::common::v1::{WorkflowExecution, WorkflowType};
use temporalio_protos::temporal::api::taskqueue::v1::TaskQueue;

use super::info::WorkflowInfo;
use super::options::{ActivityOptions, ChildWorkflowOptions};
use super::runtime::{
    ActivityMeta, ChildMeta, CommandRequest, Marker, Shared, Slot, cancelled_failure, encode_args,
    payloads, poll_slot,
};
use super::{Workflow, WorkflowError, WorkflowResult};
use crate::definition::{ActivityDefinition, SignalDefinition, WorkflowDefinition};
use crate::failure::Failure;
use crate::options::{SearchAttributes, duration_to_proto};
use crate::payload::{Payload, PayloadError, PayloadValue, null_payload};

/// What a workflow's code uses to act: activities, timers, children, signals to other
/// workflows, deterministic time and randomness, and its own state.
///
/// Cloning is cheap; clones refer to the same run. The futures it returns own what they
/// need, so they can be stored, joined or selected freely.
pub struct WorkflowContext<W> {
    shared: Rc<RefCell<Shared>>,
    state: Rc<RefCell<W>>,
    info: Rc<WorkflowInfo>,
}

impl<W> Clone for WorkflowContext<W> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
            state: self.state.clone(),
            info: self.info.clone(),
        }
    }
}

impl<W> fmt::Debug for WorkflowContext<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkflowContext")
            .field("workflow_id", &self.info.workflow_id)
            .field("run_id", &self.info.run_id)
            .finish()
    }
}

fn payload_failure(error: PayloadError) -> Failure {
    Failure::application("PayloadError", error.to_string()).non_retryable()
}

impl<W: 'static> WorkflowContext<W> {
    pub(crate) fn new(
        shared: Rc<RefCell<Shared>>,
        state: Rc<RefCell<W>>,
        info: Rc<WorkflowInfo>,
    ) -> Self {
        Self {
            shared,
            state,
            info,
        }
    }

    pub(crate) fn state_cell(&self) -> &Rc<RefCell<W>> {
        &self.state
    }

    /// Waits until no update or async signal handler is running: await it before the run
    /// method returns (or continues as new), so accepted updates finish first.
    ///
    /// ```no_run
    /// # use workflow_core::prelude::*;
    /// # async fn run(ctx: WorkflowContext<()>) {
    /// ctx.all_handlers_finished().await;
    /// # }
    /// ```
    pub fn all_handlers_finished(&self) -> HandlersFinished {
        HandlersFinished {
            shared: self.shared.clone(),
        }
    }

    /// Facts about this run.
    pub fn info(&self) -> &WorkflowInfo {
        &self.info
    }

    /// Events in history so far (the event id of the current workflow task's start).
    pub fn history_length(&self) -> u32 {
        self.shared.borrow().history_length
    }

    /// Bytes of history so far, as the server counted them when the current workflow task
    /// started.
    pub fn history_size(&self) -> u64 {
        self.shared.borrow().history_size
    }

    /// Whether the server suggests continuing as new: the history has grown long or large
    /// (Temporal's defaults: 4,096 events or 4 MiB). Checked between steps of a long-lived
    /// workflow:
    ///
    /// ```no_run
    /// # use workflow_core::prelude::*;
    /// # async fn step(ctx: &WorkflowContext<()>) -> WorkflowResult<()> {
    /// if ctx.continue_as_new_suggested() {
    ///     // hand the state to a new run: `ctx.continue_as_new(..)`
    /// }
    /// # Ok(()) }
    /// ```
    pub fn continue_as_new_suggested(&self) -> bool {
        self.shared.borrow().continue_as_new_suggested
    }

    /// Whether the code is re-running history it already produced (after a worker restart or
    /// a cache eviction). Side effects outside the context must be skipped while replaying.
    pub fn is_replaying(&self) -> bool {
        self.shared.borrow().replaying
    }

    /// Workflow time: when the current workflow task started. The same on every replay.
    pub fn now(&self) -> SystemTime {
        self.shared.borrow().now
    }

    /// A random number, the same on every replay of this run.
    pub fn random_u64(&self) -> u64 {
        self.shared.borrow_mut().rng.next_u64()
    }

    /// A random number in `[0, 1)`, the same on every replay of this run.
    pub fn random_f64(&self) -> f64 {
        (self.random_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A random (version 4) UUID, the same on every replay of this run.
    pub fn uuid4(&self) -> uuid::Uuid {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.random_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.random_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// Reads the workflow's state.
    ///
    /// # Panics
    /// When called inside a [`state_mut`](Self::state_mut) closure.
    pub fn state<R>(&self, read: impl FnOnce(&W) -> R) -> R {
        let state = self
            .state
            .try_borrow()
            .expect("WorkflowContext::state called inside a state_mut closure");
        read(&state)
    }

    /// Changes the workflow's state; conditions waiting on it are checked again.
    ///
    /// # Panics
    /// When called inside another `state` or `state_mut` closure.
    pub fn state_mut<R>(&self, change: impl FnOnce(&mut W) -> R) -> R {
        let mut state = self
            .state
            .try_borrow_mut()
            .expect("WorkflowContext::state_mut called inside a state or state_mut closure");
        self.shared.borrow_mut().state_changed = true;
        change(&mut state)
    }

    /// Waits until `condition` holds for the state. It is checked now and after every change
    /// (a signal or a `state_mut` call).
    pub fn wait_condition(&self, condition: impl FnMut(&W) -> bool + 'static) -> Condition<W> {
        Condition {
            shared: self.shared.clone(),
            state: self.state.clone(),
            condition: Box::new(condition),
        }
    }

    /// Schedules an activity and returns a handle that is awaited for its result or
    /// cancelled. Dropping the handle does not cancel the activity.
    ///
    /// ```no_run
    /// # use workflow_core::prelude::*;
    /// # async fn example<W: 'static>(ctx: WorkflowContext<W>) -> WorkflowResult<()> {
    /// const CHARGE: ActivityRef<u64, String> = ActivityRef::new("charge");
    /// let receipt = ctx
    ///     .start_activity(CHARGE, 1250, ActivityOptions::start_to_close(Duration::from_secs(30)));
    /// let receipt: String = receipt.await?;
    /// # Ok(()) }
    /// ```
    pub fn start_activity<A: ActivityDefinition>(
        &self,
        activity: A,
        input: A::Input,
        options: ActivityOptions,
    ) -> ActivityHandle<A::Output> {
        let mut shared = self.shared.borrow_mut();
        shared.seq.activity += 1;
        let seq = shared.seq.activity;
        let activity_id = options
            .activity_id
            .clone()
            .unwrap_or_else(|| seq.to_string());
        shared.activity_meta.insert(
            seq,
            ActivityMeta {
                activity_type: activity.name().to_string(),
                activity_id: activity_id.clone(),
                cancellation_type: options.cancellation_type,
                cancel_sent: false,
            },
        );
        let mut slot = Slot::default();
        match encode_args(&shared, &input) {
            Ok(input) => shared.commands.push(CommandRequest::ScheduleActivity {
                seq,
                attributes: command::ScheduleActivityTaskCommandAttributes {
                    activity_id,
                    activity_type: Some(ActivityType {
                        name: activity.name().to_string(),
                    }),
                    task_queue: Some(TaskQueue {
                        name: options
                            .task_queue
                            .clone()
                            .unwrap_or_else(|| self.info.task_queue.clone()),
                        ..Default::default()
                    }),
                    input: payloads(input),
                    schedule_to_close_timeout: options
                        .schedule_to_close_timeout()
                        .and_then(duration_to_proto),
                    schedule_to_start_timeout: options
                        .schedule_to_start_timeout
                        .and_then(duration_to_proto),
                    start_to_close_timeout: options
                        .start_to_close_timeout()
                        .and_then(duration_to_proto),
                    heartbeat_timeout: options.heartbeat_timeout.and_then(duration_to_proto),
                    retry_policy: options.retry_policy.as_ref().map(|p| p.to_proto()),
                    ..Default::default()
                },
                // A string always encodes.
                user_metadata: crate::options::user_metadata(options.summary.as_deref(), None)
                    .ok()
                    .flatten(),
            }),
            // Nothing is scheduled: the call fails where it is awaited.
            Err(e) => slot.resolve(Err(payload_failure(e))),
        }
        shared.activities.insert(seq, slot);
        ActivityHandle {
            shared: self.shared.clone(),
            seq,
            _output: PhantomData,
        }
    }

    /// Runs an activity and waits for its result.
    pub fn execute_activity<A: ActivityDefinition>(
        &self,
        activity: A,
        input: A::Input,
        options: ActivityOptions,
    ) -> ActivityHandle<A::Output> {
        self.start_activity(activity, input, options)
    }

    /// Waits for `duration` of workflow time (a durable timer). Fails with a cancellation
    /// when the timer or the workflow is cancelled.
    #[must_use = "a timer does nothing unless awaited, and its result says whether it was cancelled"]
    pub fn sleep(&self, duration: Duration) -> Timer {
        let mut shared = self.shared.borrow_mut();
        shared.seq.timer += 1;
        let seq = shared.seq.timer;
        let mut slot = Slot::default();
        if duration.is_zero() {
            slot.resolve(Ok(()));
        } else {
            shared.commands.push(CommandRequest::StartTimer {
                seq,
                attributes: command::StartTimerCommandAttributes {
                    timer_id: seq.to_string(),
                    start_to_fire_timeout: duration_to_proto(duration),
                },
            });
        }
        shared.timers.insert(seq, slot);
        Timer {
            shared: self.shared.clone(),
            seq,
        }
    }

    /// Starts a child workflow; the future resolves once the server started it, with a
    /// handle to its result.
    pub fn start_child_workflow<D: WorkflowDefinition>(
        &self,
        workflow: D,
        input: D::Input,
        options: ChildWorkflowOptions,
    ) -> ChildWorkflowStart<D::Output> {
        let workflow_id = match options.id.clone() {
            Some(id) => id,
            None => self.uuid4().to_string(),
        };
        let mut shared = self.shared.borrow_mut();
        shared.seq.child += 1;
        let seq = shared.seq.child;
        shared.child_meta.insert(
            seq,
            ChildMeta {
                workflow_id: workflow_id.clone(),
                workflow_type: workflow.name().to_string(),
                namespace: self.info.namespace.clone(),
                cancellation_type: options.cancellation_type,
                cancel_sent: false,
            },
        );
        let mut start_slot = Slot::default();
        let mut result_slot = Slot::default();
        match encode_args(&shared, &input) {
            Ok(input) => shared.commands.push(CommandRequest::StartChildWorkflow {
                seq,
                attributes: command::StartChildWorkflowExecutionCommandAttributes {
                    workflow_id: workflow_id.clone(),
                    workflow_type: Some(WorkflowType {
                        name: workflow.name().to_string(),
                    }),
                    task_queue: Some(TaskQueue {
                        name: options
                            .task_queue
                            .clone()
                            .unwrap_or_else(|| self.info.task_queue.clone()),
                        ..Default::default()
                    }),
                    input: payloads(input),
                    workflow_execution_timeout: options
                        .execution_timeout
                        .and_then(duration_to_proto),
                    workflow_run_timeout: options.run_timeout.and_then(duration_to_proto),
                    workflow_task_timeout: options.task_timeout.and_then(duration_to_proto),
                    parent_close_policy: options.parent_close_policy.to_proto() as i32,
                    workflow_id_reuse_policy: options.id_reuse_policy.to_proto() as i32,
                    retry_policy: options.retry_policy.as_ref().map(|p| p.to_proto()),
                    cron_schedule: options.cron_schedule.clone().unwrap_or_default(),
                    ..Default::default()
                },
            }),
            Err(e) => {
                start_slot.resolve(Err(payload_failure(e.clone())));
                result_slot.resolve(Err(payload_failure(e)));
            }
        }
        shared.child_starts.insert(seq, start_slot);
        shared.child_results.insert(seq, result_slot);
        ChildWorkflowStart {
            shared: self.shared.clone(),
            seq,
            workflow_id,
            _output: PhantomData,
        }
    }

    /// Runs a child workflow and waits for its result.
    pub fn execute_child_workflow<D: WorkflowDefinition>(
        &self,
        workflow: D,
        input: D::Input,
        options: ChildWorkflowOptions,
    ) -> impl Future<Output = Result<D::Output, Failure>> + use<W, D> {
        let start = self.start_child_workflow(workflow, input, options);
        async move { start.await?.result().await }
    }

    /// A handle to another workflow, to signal or cancel it. Without a run id it targets the
    /// workflow's current run.
    pub fn external_workflow(
        &self,
        workflow_id: impl Into<String>,
        run_id: Option<String>,
    ) -> ExternalWorkflowHandle {
        ExternalWorkflowHandle {
            shared: self.shared.clone(),
            workflow_id: workflow_id.into(),
            run_id: run_id.unwrap_or_default(),
            child_workflow_only: false,
        }
    }

    /// Records the result of `compute` in history the first time and returns the recorded
    /// value on every replay, for a non-deterministic value (a generated id, a config read).
    pub fn side_effect<T: PayloadValue>(&self, compute: impl FnOnce() -> T) -> Result<T, Failure> {
        let (seq, recorded) = {
            let mut shared = self.shared.borrow_mut();
            shared.seq.side_effect += 1;
            let seq = shared.seq.side_effect;
            let recorded = if shared.replaying {
                shared.side_effects.remove(&seq)
            } else {
                None
            };
            (seq, recorded)
        };
        let (value, payload) = match recorded {
            Some(payload) => (T::from_payload(&payload).map_err(payload_failure)?, payload),
            None => {
                let value = compute();
                let payload = value.to_payload().map_err(payload_failure)?;
                (value, payload)
            }
        };
        let marker = Marker::SideEffect { seq };
        let attributes = marker.to_attributes(Some(payload));
        self.shared
            .borrow_mut()
            .commands
            .push(CommandRequest::RecordMarker { marker, attributes });
        Ok(value)
    }

    /// Sets search attributes of this run, so list filters find it by them; the other
    /// attributes keep their values. Recorded in history, so it replays like any command.
    ///
    /// ```no_run
    /// # use workflow_core::prelude::*;
    /// # use workflow_core::options::SearchAttributes;
    /// # fn tag(ctx: &WorkflowContext<()>) -> Result<(), workflow_core::payload::PayloadError> {
    /// ctx.upsert_search_attributes(SearchAttributes::new().keyword("CustomKeyword", "paid"))?;
    /// # Ok(()) }
    /// ```
    pub fn upsert_search_attributes(
        &self,
        attributes: SearchAttributes,
    ) -> Result<(), PayloadError> {
        self.upsert_search_fields(attributes.to_proto()?.indexed_fields);
        Ok(())
    }

    /// Removes search attributes of this run (Temporal removes an attribute set to null).
    pub fn remove_search_attributes<'a>(&self, names: impl IntoIterator<Item = &'a str>) {
        let indexed_fields = names
            .into_iter()
            .map(|name| (name.to_owned(), null_payload()))
            .collect();
        self.upsert_search_fields(indexed_fields);
    }

    fn upsert_search_fields(&self, indexed_fields: std::collections::HashMap<String, Payload>) {
        self.shared
            .borrow_mut()
            .commands
            .push(CommandRequest::UpsertSearchAttributes(
                command::UpsertWorkflowSearchAttributesCommandAttributes {
                    search_attributes: Some(common::SearchAttributes { indexed_fields }),
                },
            ));
    }

    /// Sets a memo field of this run (describe and list show it); the other fields keep
    /// their values.
    ///
    /// ```no_run
    /// # use workflow_core::prelude::*;
    /// # fn note(ctx: &WorkflowContext<()>) -> Result<(), workflow_core::payload::PayloadError> {
    /// ctx.upsert_memo("stage", &"shipping".to_string())?;
    /// ctx.remove_memo(["draft"]);
    /// # Ok(()) }
    /// ```
    pub fn upsert_memo<T: PayloadValue>(&self, key: &str, value: &T) -> Result<(), PayloadError> {
        let payload = value.to_payload()?;
        self.modify_memo([(key.to_owned(), payload)].into());
        Ok(())
    }

    /// Removes memo fields of this run (Temporal removes a field set to null).
    pub fn remove_memo<'a>(&self, keys: impl IntoIterator<Item = &'a str>) {
        let fields = keys
            .into_iter()
            .map(|key| (key.to_owned(), null_payload()))
            .collect();
        self.modify_memo(fields);
    }

    fn modify_memo(&self, fields: std::collections::HashMap<String, Payload>) {
        self.shared
            .borrow_mut()
            .commands
            .push(CommandRequest::ModifyProperties(
                command::ModifyWorkflowPropertiesCommandAttributes {
                    upserted_memo: Some(common::Memo { fields }),
                },
            ));
    }

    /// Versioning: `true` when this run takes the new code path named `patch_id`. New runs
    /// (and runs that already took it) do; runs replaying history from before the change do
    /// not. Once every such run is closed, replace the call with
    /// [`deprecate_patch`](Self::deprecate_patch).
    pub fn patched(&self, patch_id: &str) -> bool {
        let mut shared = self.shared.borrow_mut();
        if let Some(taken) = shared.patch_memo.get(patch_id) {
            return *taken;
        }
        let taken = !shared.replaying || shared.patches_in_history.contains(patch_id);
        shared.patch_memo.insert(patch_id.to_string(), taken);
        if taken {
            let marker = Marker::Patch {
                id: patch_id.to_string(),
                deprecated: false,
            };
            let attributes = marker.to_attributes(None);
            shared
                .commands
                .push(CommandRequest::RecordMarker { marker, attributes });
        }
        taken
    }

    /// Marks a patch whose old code path is gone: histories with or without its marker both
    /// replay.
    pub fn deprecate_patch(&self, patch_id: &str) {
        let mut shared = self.shared.borrow_mut();
        if shared.patch_memo.contains_key(patch_id) {
            return;
        }
        shared.patch_memo.insert(patch_id.to_string(), true);
        let marker = Marker::Patch {
            id: patch_id.to_string(),
            deprecated: true,
        };
        let attributes = marker.to_attributes(None);
        shared
            .commands
            .push(CommandRequest::RecordMarker { marker, attributes });
    }

    /// Whether cancellation of the workflow was requested.
    pub fn is_cancel_requested(&self) -> bool {
        self.shared.borrow().cancel_requested.is_some()
    }

    /// Resolves with the reason when cancellation of the workflow is requested. Activities,
    /// timers and children pending at that moment are cancelled too, so the code sees the
    /// cancellation where it awaits; steps started afterwards (clean-up) run normally.
    pub fn cancelled(&self) -> WorkflowCancelled {
        WorkflowCancelled {
            shared: self.shared.clone(),
        }
    }

    /// A logger that is silent while the code replays, so each line is written once.
    pub fn logger(&self) -> WorkflowLogger<'_> {
        WorkflowLogger {
            info: &self.info,
            shared: &self.shared,
        }
    }
}

impl<W: Workflow> WorkflowContext<W> {
    /// Ends this run and starts a new one of the same workflow with `input` and a fresh
    /// history. Return it from the run method: `return ctx.continue_as_new(&input);`.
    pub fn continue_as_new<T>(&self, input: &W::Input) -> WorkflowResult<T> {
        let input = {
            let shared = self.shared.borrow();
            encode_args(&shared, input)
                .map_err(|e| WorkflowError::Failed(Box::new(payload_failure(e))))?
        };
        Err(WorkflowError::ContinueAsNew(Box::new(
            command::ContinueAsNewWorkflowExecutionCommandAttributes {
                workflow_type: Some(WorkflowType {
                    name: W::NAME.to_string(),
                }),
                task_queue: Some(TaskQueue {
                    name: self.info.task_queue.clone(),
                    ..Default::default()
                }),
                input: payloads(input),
                workflow_run_timeout: self.info.run_timeout.and_then(duration_to_proto),
                workflow_task_timeout: self.info.task_timeout.and_then(duration_to_proto),
                ..Default::default()
            },
        )))
    }
}

/// Writes log lines from workflow code through `tracing`, except while replaying.
pub struct WorkflowLogger<'a> {
    info: &'a WorkflowInfo,
    shared: &'a Rc<RefCell<Shared>>,
}

impl fmt::Debug for WorkflowLogger<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkflowLogger").finish_non_exhaustive()
    }
}

macro_rules! log_method {
    ($name:ident, $level:ident) => {
        #[doc = concat!("Logs at `", stringify!($level), "` level unless replaying.")]
        pub fn $name(&self, message: impl fmt::Display) {
            if !self.shared.borrow().replaying {
                tracing::$name!(
                    workflow_id = %self.info.workflow_id,
                    run_id = %self.info.run_id,
                    workflow_type = %self.info.workflow_type,
                    "{message}"
                );
            }
        }
    };
}

impl WorkflowLogger<'_> {
    log_method!(debug, DEBUG);
    log_method!(info, INFO);
    log_method!(warn, WARN);
    log_method!(error, ERROR);
}

/// A scheduled activity: await it for the result, or cancel it.
#[must_use = "an activity handle does nothing unless awaited or cancelled"]
pub struct ActivityHandle<O> {
    shared: Rc<RefCell<Shared>>,
    seq: u32,
    _output: PhantomData<fn() -> O>,
}

impl<O> fmt::Debug for ActivityHandle<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActivityHandle")
            .field("seq", &self.seq)
            .finish()
    }
}

impl<O> ActivityHandle<O> {
    /// Asks for the activity to be cancelled; what the handle then resolves to depends on the
    /// options' cancellation type.
    pub fn cancel(&self) {
        self.shared.borrow_mut().cancel_activity(self.seq);
    }
}

impl<O: PayloadValue> Future for ActivityHandle<O> {
    type Output = Result<O, Failure>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut shared = self.shared.borrow_mut();
        match poll_slot(&mut shared.activities, self.seq, cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => Poll::Ready(Err(Failure::application(
                "ActivityHandleReused",
                "the activity's result was already taken",
            ))),
            Poll::Ready(Some(result)) => Poll::Ready(result.and_then(|payload| {
                let payload = payload.unwrap_or_else(crate::payload::null_payload);
                O::from_payload(&payload).map_err(payload_failure)
            })),
        }
    }
}

/// A durable timer: resolves `Ok` when it fires, or with a cancellation.
#[must_use = "a timer does nothing unless awaited, and its result says whether it was cancelled"]
pub struct Timer {
    shared: Rc<RefCell<Shared>>,
    seq: u32,
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer").field("seq", &self.seq).finish()
    }
}

impl Timer {
    /// Cancels the timer; awaiting it then gives a cancellation.
    pub fn cancel(&self) {
        self.shared.borrow_mut().cancel_timer(self.seq);
    }
}

impl Future for Timer {
    type Output = Result<(), Failure>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut shared = self.shared.borrow_mut();
        poll_slot(&mut shared.timers, self.seq, cx)
            .map(|r| r.unwrap_or_else(|| Err(cancelled_failure("Timer already awaited"))))
    }
}

/// Waits for a condition on the workflow's state.
#[must_use = "a condition does nothing unless awaited"]
pub struct Condition<W> {
    shared: Rc<RefCell<Shared>>,
    state: Rc<RefCell<W>>,
    condition: Box<dyn FnMut(&W) -> bool>,
}

impl<W> fmt::Debug for Condition<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition").finish_non_exhaustive()
    }
}

impl<W> Future for Condition<W> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let holds = {
            let state = this
                .state
                .try_borrow()
                .expect("wait_condition polled inside a state_mut closure");
            (this.condition)(&state)
        };
        if holds {
            Poll::Ready(())
        } else {
            this.shared
                .borrow_mut()
                .condition_waiters
                .push(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// Resolves once no update or async signal handler is running; see
/// [`WorkflowContext::all_handlers_finished`].
#[must_use = "does nothing unless awaited"]
pub struct HandlersFinished {
    shared: Rc<RefCell<Shared>>,
}

impl fmt::Debug for HandlersFinished {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlersFinished").finish_non_exhaustive()
    }
}

impl Future for HandlersFinished {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut shared = self.shared.borrow_mut();
        if shared.running_handlers == 0 {
            Poll::Ready(())
        } else {
            shared.condition_waiters.push(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// Resolves with the reason when the workflow's cancellation is requested.
#[must_use = "does nothing unless awaited"]
pub struct WorkflowCancelled {
    shared: Rc<RefCell<Shared>>,
}

impl fmt::Debug for WorkflowCancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkflowCancelled").finish()
    }
}

impl Future for WorkflowCancelled {
    type Output = String;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<String> {
        let mut shared = self.shared.borrow_mut();
        match &shared.cancel_requested {
            Some(reason) => Poll::Ready(reason.clone()),
            None => {
                shared.cancel_waiters.push(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// A child workflow being started; resolves to its handle once it runs.
#[must_use = "a child workflow start does nothing unless awaited"]
pub struct ChildWorkflowStart<O> {
    shared: Rc<RefCell<Shared>>,
    seq: u32,
    workflow_id: String,
    _output: PhantomData<fn() -> O>,
}

impl<O> fmt::Debug for ChildWorkflowStart<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildWorkflowStart")
            .field("workflow_id", &self.workflow_id)
            .finish()
    }
}

impl<O> ChildWorkflowStart<O> {
    /// Cancels the child (before or after it started).
    pub fn cancel(&self) {
        self.shared.borrow_mut().cancel_child(self.seq);
    }
}

impl<O> Future for ChildWorkflowStart<O> {
    type Output = Result<ChildWorkflowHandle<O>, Failure>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut shared = this.shared.borrow_mut();
        poll_slot(&mut shared.child_starts, this.seq, cx).map(|r| {
            let run_id = r.unwrap_or_else(|| {
                Err(Failure::application(
                    "ChildStartReused",
                    "the child's start was already awaited",
                ))
            })?;
            Ok(ChildWorkflowHandle {
                shared: this.shared.clone(),
                seq: this.seq,
                workflow_id: this.workflow_id.clone(),
                run_id,
                _output: PhantomData,
            })
        })
    }
}

/// A started child workflow: its ids, result, signals and cancellation.
pub struct ChildWorkflowHandle<O> {
    shared: Rc<RefCell<Shared>>,
    seq: u32,
    workflow_id: String,
    run_id: String,
    _output: PhantomData<fn() -> O>,
}

impl<O> fmt::Debug for ChildWorkflowHandle<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildWorkflowHandle")
            .field("workflow_id", &self.workflow_id)
            .field("run_id", &self.run_id)
            .finish()
    }
}

impl<O: PayloadValue> ChildWorkflowHandle<O> {
    /// The child's workflow id.
    pub fn workflow_id(&self) -> &str {
        &self.workflow_id
    }

    /// The child's first run id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Waits for the child's result.
    pub fn result(&self) -> impl Future<Output = Result<O, Failure>> + use<O> {
        let shared = self.shared.clone();
        let seq = self.seq;
        std::future::poll_fn(move |cx| {
            let mut guard = shared.borrow_mut();
            poll_slot(&mut guard.child_results, seq, cx).map(|r| match r {
                None => Err(Failure::application(
                    "ChildResultReused",
                    "the child's result was already taken",
                )),
                Some(result) => result.and_then(|payload| {
                    let payload = payload.unwrap_or_else(crate::payload::null_payload);
                    O::from_payload(&payload).map_err(payload_failure)
                }),
            })
        })
    }

    /// Signals the child.
    pub fn signal<S>(
        &self,
        signal: S,
        input: S::Input,
    ) -> impl Future<Output = Result<(), Failure>> + use<O, S>
    where
        S: SignalDefinition,
    {
        ExternalWorkflowHandle {
            shared: self.shared.clone(),
            workflow_id: self.workflow_id.clone(),
            run_id: self.run_id.clone(),
            child_workflow_only: true,
        }
        .signal_by_name(signal.name(), &input)
    }

    /// Asks the child to cancel; its result then reports the cancellation.
    pub fn cancel(&self) {
        self.shared.borrow_mut().cancel_child(self.seq);
    }
}

/// Another workflow, to signal or cancel from workflow code.
pub struct ExternalWorkflowHandle {
    shared: Rc<RefCell<Shared>>,
    workflow_id: String,
    run_id: String,
    child_workflow_only: bool,
}

impl fmt::Debug for ExternalWorkflowHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExternalWorkflowHandle")
            .field("workflow_id", &self.workflow_id)
            .field("run_id", &self.run_id)
            .finish()
    }
}

type DeliverySlots = std::collections::HashMap<u32, Slot<Result<(), Failure>>>;

fn await_slot(
    shared: Rc<RefCell<Shared>>,
    seq: u32,
    pick: fn(&mut Shared) -> &mut DeliverySlots,
) -> impl Future<Output = Result<(), Failure>> + 'static {
    std::future::poll_fn(move |cx| {
        let mut guard = shared.borrow_mut();
        poll_slot(pick(&mut guard), seq, cx).map(|r| r.unwrap_or(Ok(())))
    })
}

impl ExternalWorkflowHandle {
    /// Sends a typed signal; resolves when the server delivered it.
    pub fn signal<S: SignalDefinition>(
        &self,
        signal: S,
        input: S::Input,
    ) -> impl Future<Output = Result<(), Failure>> + use<S> {
        self.signal_by_name(signal.name(), &input)
    }

    /// Sends a signal by name.
    pub fn signal_by_name<A: crate::payload::PayloadArgs>(
        &self,
        name: &str,
        input: &A,
    ) -> impl Future<Output = Result<(), Failure>> + use<A> {
        let mut shared = self.shared.borrow_mut();
        shared.seq.signal += 1;
        let seq = shared.seq.signal;
        let mut slot = Slot::default();
        match encode_args(&shared, input) {
            Ok(input) => shared.commands.push(CommandRequest::SignalExternal {
                seq,
                attributes: command::SignalExternalWorkflowExecutionCommandAttributes {
                    execution: Some(WorkflowExecution {
                        workflow_id: self.workflow_id.clone(),
                        run_id: self.run_id.clone(),
                    }),
                    signal_name: name.to_string(),
                    input: payloads(input),
                    child_workflow_only: self.child_workflow_only,
                    ..Default::default()
                },
            }),
            Err(e) => slot.resolve(Err(payload_failure(e))),
        }
        shared.signals.insert(seq, slot);
        drop(shared);
        await_slot(self.shared.clone(), seq, |s| &mut s.signals)
    }

    /// Asks the workflow to cancel; resolves when the server delivered the request.
    pub fn cancel(&self) -> impl Future<Output = Result<(), Failure>> + use<> {
        let mut shared = self.shared.borrow_mut();
        shared.seq.cancel += 1;
        let seq = shared.seq.cancel;
        shared.commands.push(CommandRequest::CancelExternal {
            seq,
            attributes: command::RequestCancelExternalWorkflowExecutionCommandAttributes {
                workflow_id: self.workflow_id.clone(),
                run_id: self.run_id.clone(),
                child_workflow_only: self.child_workflow_only,
                ..Default::default()
            },
        });
        shared.cancels.insert(seq, Slot::default());
        drop(shared);
        await_slot(self.shared.clone(), seq, |s| &mut s.cancels)
    }
}
