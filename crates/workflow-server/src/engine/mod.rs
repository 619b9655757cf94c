//! The history engine: each workflow execution's state and event history, and the changes
//! requests, workers and deadlines make to them.
//!
//! The store is the source of truth. Open runs live in memory behind one lock, with the
//! closed runs most recently closed or read (a bounded cache); any other run is read back
//! from the store when a request names it. A change marks its runs dirty; before the lock
//! is released the dirty runs (state record plus new events) go to the store as one batch,
//! and the request is answered once that batch is durable. A closed run leaves memory only
//! once its last batch is durable, so a read never misses a write.

mod activities;
mod commands;
mod cron;
mod deadlines;
mod error;
mod events;
mod history;
mod queries;
pub(crate) mod record;
mod runs;
mod tasks;
mod tokens;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use prost::Message;
use temporalio_protos::temporal::api::common::v1::WorkflowExecution;
use temporalio_protos::temporal::api::enums::v1::WorkflowExecutionStatus;
use temporalio_protos::temporal::api::history::v1::HistoryEvent;
use temporalio_protos::temporal::api::history::v1::history_event::Attributes;
use temporalio_protos::temporal::api::workflow::v1::WorkflowExecutionInfo;
use tokio::sync::{Notify, watch};

use crate::matching::Matching;
pub(crate) use crate::store::Ticket;
use crate::store::{Batch, BatchNumber, RunDelete, RunWrite, Store, StoreError, StoredRun};
use crate::visibility;
pub(crate) use activities::ActivityAnswer;
pub(crate) use error::EngineError;
use events::EventBuilder;
pub(crate) use history::HistoryRequest;
pub(crate) use queries::QueryReply;
use record::{NamespaceRecord, RunState};

/// How many closed runs stay in memory by default.
pub const DEFAULT_RUN_CACHE: usize = 1_000;

/// Temporal's default workflow task timeout.
const DEFAULT_TASK_TIMEOUT: Duration = Duration::from_secs(10);

/// `(namespace, run id)`.
pub(crate) type RunKey = (String, String);

/// One run of a workflow: its state record, its history, and who waits on it.
#[derive(Debug)]
pub struct Execution {
    pub namespace: String,
    state: RunState,
    pub history: Vec<HistoryEvent>,
    /// Announces the id of the last event to long polls.
    changed: watch::Sender<i64>,
    /// How many events the store has.
    persisted: usize,
    /// Queries handed out with the current workflow task.
    attached_queries: Vec<String>,
    /// Queries waiting for the running workflow task to end.
    waiting_queries: Vec<String>,
    /// The batch that last wrote this run; 0 when it is as the store has it.
    written: BatchNumber,
}

impl Deref for Execution {
    type Target = RunState;
    fn deref(&self) -> &RunState {
        &self.state
    }
}

impl DerefMut for Execution {
    fn deref_mut(&mut self) -> &mut RunState {
        &mut self.state
    }
}

impl Execution {
    fn new(namespace: &str, state: RunState, history: Vec<HistoryEvent>) -> Self {
        let last = history.len() as i64;
        let persisted = history.len();
        Self {
            namespace: namespace.to_string(),
            state,
            history,
            changed: watch::channel(last).0,
            persisted,
            attached_queries: Vec::new(),
            waiting_queries: Vec::new(),
            written: 0,
        }
    }

    /// A run as the store holds it.
    fn decode(namespace: &str, stored: StoredRun) -> Result<Self, StoreError> {
        let corrupt = |what| move |source| StoreError::Corrupt { what, source };
        let state = RunState::decode(stored.state.as_slice()).map_err(corrupt("run state"))?;
        let history = stored
            .events
            .iter()
            .map(|bytes| HistoryEvent::decode(bytes.as_slice()).map_err(corrupt("event")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(namespace, state, history))
    }

    pub fn is_running(&self) -> bool {
        self.status() == WorkflowExecutionStatus::Running
    }

    pub fn key(&self) -> RunKey {
        (self.namespace.clone(), self.run_id.clone())
    }

    pub fn execution(&self) -> WorkflowExecution {
        WorkflowExecution {
            workflow_id: self.workflow_id.clone(),
            run_id: self.run_id.clone(),
        }
    }

    /// Appends an event now.
    fn append(&mut self, context: &mut Context, attributes: Attributes) -> i64 {
        let id = self.history.len() as i64 + 1;
        if let Attributes::ChildWorkflowExecutionStartedEventAttributes(a) = &attributes
            && let Some(child) = self.state.children.get_mut(&a.initiated_event_id)
        {
            // A child's close event names the event that announced its start.
            child.started_event_id = id;
        }
        let event = context.events.event(id, context.clock.now(), attributes);
        self.state.last_task_id = event.task_id;
        self.history.push(event);
        self.changed.send_replace(id);
        context.dirty.insert(self.key());
        id
    }

    /// Whether a worker holds this run's workflow task.
    fn task_running(&self) -> bool {
        self.workflow_task
            .as_ref()
            .is_some_and(|t| t.started_event_id != 0)
    }

    /// Writes events and schedules a workflow task to see them, or keeps them until the
    /// running workflow task ends, as Temporal does.
    fn deliver(&mut self, context: &mut Context, attributes: Vec<Attributes>) {
        if !self.is_running() {
            return;
        }
        context.dirty.insert(self.key());
        if self.task_running() {
            for a in attributes {
                self.state.buffered.push(HistoryEvent {
                    attributes: Some(a),
                    ..Default::default()
                });
            }
        } else {
            for a in attributes {
                self.append(context, a);
            }
            tasks::schedule_workflow_task(self, context, 1);
        }
    }

    /// Writes the events that arrived while a workflow task ran.
    fn flush_buffered(&mut self, context: &mut Context) {
        let mut last = 0;
        for event in std::mem::take(&mut self.state.buffered) {
            if let Some(mut a) = event.attributes {
                // An activity's close names its started event, buffered right before it.
                match &mut a {
                    Attributes::ActivityTaskCompletedEventAttributes(x)
                        if x.started_event_id < 0 =>
                    {
                        x.started_event_id = last
                    }
                    Attributes::ActivityTaskFailedEventAttributes(x) if x.started_event_id < 0 => {
                        x.started_event_id = last
                    }
                    Attributes::ActivityTaskTimedOutEventAttributes(x)
                        if x.started_event_id < 0 =>
                    {
                        x.started_event_id = last
                    }
                    Attributes::ActivityTaskCanceledEventAttributes(x)
                        if x.started_event_id < 0 =>
                    {
                        x.started_event_id = last
                    }
                    _ => {}
                }
                last = self.append(context, a);
            }
        }
    }

    /// Waits until history has more than `after` events or the run closed.
    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.changed.subscribe()
    }

    fn write(&mut self, current: bool) -> RunWrite {
        let events = self.history[self.persisted..]
            .iter()
            .map(|e| (e.event_id, e.encode_to_vec()))
            .collect();
        self.persisted = self.history.len();
        RunWrite {
            namespace: self.namespace.clone(),
            run_id: self.run_id.clone(),
            workflow_id: self.workflow_id.clone(),
            state: self.state.encode_to_vec(),
            events,
            current,
        }
    }
}

/// The server's clock: the wall clock, plus what time skipping has skipped.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    skipped: Duration,
    skipping: bool,
}

impl Clock {
    pub fn now(&self) -> SystemTime {
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
        parent: record::ParentState,
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
    events: EventBuilder,
    /// The task queues tasks wait on for workers.
    matching: Matching,
    clock: Clock,
    /// When each run next needs attention: `(time, run)`.
    deadlines: BTreeSet<(SystemTime, RunKey)>,
    /// Runs changed since the last commit.
    dirty: BTreeSet<RunKey>,
    /// Namespaces changed since the last commit.
    namespaces: Vec<NamespaceRecord>,
    /// Runs deleted since the last commit.
    deleted: Vec<RunDelete>,
    effects: VecDeque<Effect>,
    queries: queries::Queries,
    /// Seals the task tokens handed to workers and opens the ones they hand back.
    tokens: tokens::TokenSigner,
}

#[derive(Debug)]
pub(crate) struct State {
    /// Every open run, and the closed runs `closed` lists.
    runs: HashMap<RunKey, Execution>,
    /// The closed runs in memory, in the order they closed or were read back, with the
    /// batch that wrote each; the oldest leave once there are more than `cache` and that
    /// batch is durable.
    closed: VecDeque<(RunKey, BatchNumber)>,
    cache: usize,
    store: Arc<dyn Store>,
    /// The latest run of each workflow id, by (namespace, workflow id).
    current: HashMap<(String, String), String>,
    context: Context,
    /// Every run as list and count filter it, kept current by `commit_quietly`.
    visibility: visibility::Index,
}

impl State {
    fn new(store: Arc<dyn Store>, cache: usize) -> Self {
        Self {
            runs: HashMap::new(),
            closed: VecDeque::new(),
            cache,
            store,
            current: HashMap::new(),
            context: Context::default(),
            visibility: visibility::Index::default(),
        }
    }

    /// Brings the run `key` names into memory from the store if it is a run the store
    /// holds; answers whether it is in memory now.
    fn ensure(&mut self, key: &RunKey) -> Result<bool, EngineError> {
        if self.runs.contains_key(key) {
            return Ok(true);
        }
        // The index knows every run; asking it first keeps made-up ids off the store.
        if !self.visibility.contains(&key.0, &key.1) {
            return Ok(false);
        }
        let Some(stored) = self.store.read_run(&key.0, &key.1)? else {
            return Ok(false);
        };
        let run = Execution::decode(&key.0, stored)?;
        self.closed.push_back((key.clone(), 0));
        self.runs.insert(key.clone(), run);
        Ok(true)
    }

    /// Runs `read` on a run of `namespace` as it is now, from memory or read from the
    /// store without keeping it (as a list page reads runs, so one list does not empty the
    /// cache of the runs in use).
    fn peek<R>(
        &self,
        namespace: &str,
        run_id: &str,
        read: impl FnOnce(&Execution) -> R,
    ) -> Option<R> {
        let key = (namespace.to_string(), run_id.to_string());
        if let Some(run) = self.runs.get(&key) {
            return Some(read(run));
        }
        let stored = self
            .store
            .read_run(namespace, run_id)
            .map_err(|error| tracing::error!(%error, run_id, "a run could not be read back"))
            .ok()??;
        let run = Execution::decode(namespace, stored)
            .map_err(|error| tracing::error!(%error, run_id, "a stored run does not decode"))
            .ok()?;
        Some(read(&run))
    }

    /// Lets the oldest closed runs leave memory while there are more than the cache
    /// holds, each once the batch that last wrote it is durable; a run a query still
    /// waits on stays.
    fn trim_closed(&mut self) {
        let durable = self.store.durable();
        while self.closed.len() > self.cache {
            let Some((key, batch)) = self.closed.front().cloned() else {
                break;
            };
            if batch > durable {
                break;
            }
            self.closed.pop_front();
            let evictable = self.runs.get(&key).is_some_and(|run| {
                !run.is_running() && run.written <= durable && !self.context.queries.waits_on(&key)
            });
            if evictable {
                self.runs.remove(&key);
            }
        }
    }

    fn run_mut(&mut self, key: &RunKey) -> Option<(&mut Execution, &mut Context)> {
        let run = self.runs.get_mut(key)?;
        self.context.dirty.insert(key.clone());
        Some((run, &mut self.context))
    }

    /// The run `execution` names (its latest run when the run id is empty), brought into
    /// memory when the store has it.
    fn resolve(
        &mut self,
        namespace: &str,
        execution: &WorkflowExecution,
    ) -> Result<RunKey, EngineError> {
        if let Some(key) = self.current_key(namespace, execution)? {
            self.ensure(&key)?;
        }
        self.resolve_in_memory(namespace, execution)
    }

    fn current_key(
        &self,
        namespace: &str,
        execution: &WorkflowExecution,
    ) -> Result<Option<RunKey>, EngineError> {
        if execution.workflow_id.is_empty() {
            return Err(EngineError::invalid(
                "WorkflowExecution.workflow_id is required",
            ));
        }
        Ok(if execution.run_id.is_empty() {
            self.current
                .get(&(namespace.to_string(), execution.workflow_id.clone()))
                .map(|id| (namespace.to_string(), id.clone()))
        } else {
            Some((namespace.to_string(), execution.run_id.clone()))
        })
    }

    /// `resolve` among the runs in memory only: every open run is there.
    fn resolve_in_memory(
        &self,
        namespace: &str,
        execution: &WorkflowExecution,
    ) -> Result<RunKey, EngineError> {
        if execution.workflow_id.is_empty() {
            return Err(EngineError::invalid(
                "WorkflowExecution.workflow_id is required",
            ));
        }
        let run_id = if execution.run_id.is_empty() {
            self.current
                .get(&(namespace.to_string(), execution.workflow_id.clone()))
                .cloned()
        } else {
            Some(execution.run_id.clone())
        };
        run_id
            .map(|id| (namespace.to_string(), id))
            .filter(|key| {
                self.runs
                    .get(key)
                    .is_some_and(|r| r.workflow_id == execution.workflow_id)
            })
            .ok_or_else(|| {
                EngineError::not_found(format!(
                    "workflow execution not found for workflow id {} and run id {}",
                    execution.workflow_id, execution.run_id
                ))
            })
    }

    /// Whether anything waits to be committed: a run, a namespace, a deletion or an effect.
    fn has_changes(&self) -> bool {
        !(self.context.dirty.is_empty()
            && self.context.namespaces.is_empty()
            && self.context.deleted.is_empty()
            && self.context.effects.is_empty())
    }

    /// Carries out the effects changes queued, and the ones those queue.
    fn drain_effects(&mut self) {
        while let Some(effect) = self.context.effects.pop_front() {
            runs::apply_effect(self, effect);
        }
    }
}

/// How many runs the engine holds in memory.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunsInMemory {
    pub open: usize,
    pub closed: usize,
}

/// All executions of the server.
pub struct Engine {
    state: Mutex<State>,
    store: Arc<dyn Store>,
    /// Wakes the deadline loop when deadlines or idleness may have changed.
    deadline_changed: Notify,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine over `store`, with its open runs loaded and every run indexed, keeping
    /// at most `cache` closed runs in memory. Returns the stored namespaces.
    pub fn open(
        store: Box<dyn Store>,
        time_skipping: bool,
        cache: usize,
    ) -> Result<(Self, Vec<NamespaceRecord>), StoreError> {
        let store: Arc<dyn Store> = Arc::from(store);
        let loaded = store.load()?;
        let mut state = State::new(Arc::clone(&store), cache);
        state.context.clock.skipping = time_skipping;
        state.context.tokens = tokens::TokenSigner::new(&store.token_secret()?);
        let corrupt = |what| move |source| StoreError::Corrupt { what, source };
        let namespaces = loaded
            .namespaces
            .iter()
            .map(|bytes| NamespaceRecord::decode(bytes.as_slice()).map_err(corrupt("namespace")))
            .collect::<Result<Vec<_>, _>>()?;
        let mut max_task_id = 0;
        for stored in loaded.runs {
            let run_state =
                RunState::decode(stored.state.as_slice()).map_err(corrupt("run state"))?;
            let open = run_state.status() == WorkflowExecutionStatus::Running;
            // Files written before runs recorded their last task id tell it by their events.
            let run = if open || run_state.last_task_id == 0 {
                let whole = store
                    .read_run(&stored.namespace, &stored.run_id)?
                    .unwrap_or_default();
                Execution::decode(
                    &stored.namespace,
                    StoredRun {
                        state: stored.state,
                        ..whole
                    },
                )?
            } else {
                Execution::new(&stored.namespace, run_state, Vec::new())
            };
            max_task_id = run
                .history
                .iter()
                .map(|e| e.task_id)
                .fold(max_task_id.max(run.last_task_id), i64::max);
            state
                .visibility
                .upsert(&run.namespace, crate::describe::entry(&run));
            if open {
                state.runs.insert(run.key(), run);
            }
        }
        state.context.events = EventBuilder::after(max_task_id);
        for (namespace, workflow_id, run_id) in loaded.current {
            state.current.insert((namespace, workflow_id), run_id);
        }
        // Hand out again what was waiting; a task a worker held times out as it would have.
        let keys: Vec<RunKey> = state.runs.keys().cloned().collect();
        for key in keys {
            let State { runs, context, .. } = &mut state;
            let run = runs.get_mut(&key).expect("listed");
            tasks::requeue_after_restart(run, context);
            deadlines::arm(run, context);
        }
        let engine = Self {
            state: Mutex::new(state),
            store,
            deadline_changed: Notify::new(),
        };
        Ok((engine, namespaces))
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `change` under the engine lock, sends what it changed to the store as one batch
    /// before the lock is released (so batches queue in the order changes were made), and
    /// answers the change's result once that batch is durable.
    ///
    /// A change that fails is answered at once and commits nothing; runs it marked dirty go
    /// with the next batch. A change that left nothing to write has nothing to wait for and
    /// does not wake the deadline loop.
    pub(crate) async fn transact<R>(
        &self,
        change: impl FnOnce(&mut State) -> Result<R, EngineError>,
    ) -> Result<R, EngineError> {
        let (result, ticket) = {
            let mut state = self.lock();
            let result = change(&mut state)?;
            let ticket = if state.has_changes() {
                self.commit(&mut state)
            } else {
                Ticket::done()
            };
            (result, ticket)
        };
        ticket.wait().await?;
        Ok(result)
    }

    /// Sends what changed under `state` to the store and re-arms the changed runs'
    /// deadlines. Called before the lock is released, so batches queue in order.
    fn commit(&self, state: &mut State) -> Ticket {
        let ticket = self.commit_quietly(state);
        self.deadline_changed.notify_one();
        ticket
    }

    /// `commit`, without waking the deadline loop (which calls it).
    fn commit_quietly(&self, state: &mut State) -> Ticket {
        state.drain_effects();
        let State {
            runs,
            current,
            context,
            visibility,
            ..
        } = &mut *state;
        let mut batch = Batch::default();
        let mut written = Vec::new();
        for key in std::mem::take(&mut context.dirty) {
            let Some(run) = runs.get_mut(&key) else {
                continue;
            };
            deadlines::arm(run, context);
            visibility.upsert(&key.0, crate::describe::entry(run));
            let is_current = current
                .get(&(key.0.clone(), run.workflow_id.clone()))
                .is_some_and(|id| *id == key.1);
            batch.runs.push(run.write(is_current));
            written.push(key);
        }
        for namespace in std::mem::take(&mut context.namespaces) {
            batch
                .namespaces
                .push((namespace.name.clone(), namespace.encode_to_vec()));
        }
        batch.deleted = std::mem::take(&mut context.deleted);
        let ticket = self.store.commit(batch);
        for key in written {
            let Some(run) = state.runs.get_mut(&key) else {
                continue;
            };
            run.written = ticket.batch();
            if !run.is_running() {
                state.closed.push_back((key, ticket.batch()));
            }
        }
        state.trim_closed();
        ticket
    }

    /// Writes what is queued and releases the store (a SQLite file is checkpointed and
    /// closed). Changes after this fail as UNAVAILABLE.
    pub async fn close(&self) -> Result<(), crate::store::StoreFailure> {
        let ticket = {
            // Under the lock, so no batch is queued behind the close.
            let _state = self.lock();
            self.store.close()
        };
        ticket.wait().await
    }

    /// Stores a namespace.
    pub async fn store_namespace(&self, namespace: NamespaceRecord) -> Result<(), EngineError> {
        self.transact(|state| {
            state.context.namespaces.push(namespace);
            Ok(())
        })
        .await
    }

    /// Deletes the closed runs whose namespace's retention (`retention` answers it, `None`
    /// for a namespace gone) has passed since they closed, as Temporal does, from memory
    /// and the store. Answers how many went.
    pub async fn expire_closed_runs(
        &self,
        retention: impl Fn(&str) -> Option<Duration>,
    ) -> Result<usize, EngineError> {
        self.transact(|state| {
            let now = state.context.clock.now();
            // The index knows every closed run, in memory or not.
            let expired: Vec<(RunKey, String)> = state
                .visibility
                .closed()
                .filter(
                    |(namespace, entry)| match (entry.close_time, retention(namespace)) {
                        (Some(closed), Some(keep)) => closed + keep <= now,
                        _ => false,
                    },
                )
                .map(|(namespace, entry)| {
                    let key = (namespace.to_string(), entry.run_id.to_string());
                    (key, entry.workflow_id.clone())
                })
                .collect();
            for (key, workflow_id) in &expired {
                state.runs.remove(key);
                state.visibility.remove(&key.0, &key.1);
                let current = (key.0.clone(), workflow_id.clone());
                if state.current.get(&current) == Some(&key.1) {
                    state.current.remove(&current);
                }
                state.context.deleted.push(RunDelete {
                    namespace: key.0.clone(),
                    run_id: key.1.clone(),
                    workflow_id: workflow_id.clone(),
                });
            }
            if !expired.is_empty() {
                tracing::debug!(count = expired.len(), "closed runs past retention deleted");
            }
            Ok(expired.len())
        })
        .await
    }

    /// Runs `read` on the run `execution` names (its latest run when the run id is empty).
    pub fn with_run<R>(
        &self,
        namespace: &str,
        execution: &WorkflowExecution,
        read: impl FnOnce(&Execution) -> R,
    ) -> Result<R, EngineError> {
        let mut state = self.lock();
        let key = state.resolve(namespace, execution)?;
        Ok(read(&state.runs[&key]))
    }

    /// How many runs are in memory now.
    pub fn runs_in_memory(&self) -> RunsInMemory {
        let state = self.lock();
        let open = state.runs.values().filter(|r| r.is_running()).count();
        RunsInMemory {
            open,
            closed: state.runs.len() - open,
        }
    }

    /// The search attributes runs of `namespace` set.
    pub fn search_attribute_names(&self, namespace: &str) -> std::collections::HashSet<String> {
        self.lock().visibility.attribute_names(namespace)
    }

    /// The runs of `namespace` that `query` selects, in its order, `skip` of them skipped
    /// and at most `limit` returned, and whether more follow. The visibility index picks
    /// them; only the page's runs are described in full.
    pub fn list(
        &self,
        namespace: &str,
        query: &visibility::Query,
        skip: usize,
        limit: usize,
    ) -> (Vec<WorkflowExecutionInfo>, bool) {
        let state = self.lock();
        let page = state.visibility.page(namespace, query, skip, limit);
        let infos = page
            .run_ids
            .iter()
            .filter_map(|id| state.peek(namespace, id, crate::describe::info))
            .collect();
        (infos, page.more)
    }

    /// How many runs of `namespace` `filter` selects, from the visibility index.
    pub fn count(&self, namespace: &str, filter: &visibility::Filter) -> usize {
        self.lock().visibility.count(namespace, filter).count
    }

    /// Runs `read` on every run of `namespace` the store holds, as memory has it or read
    /// back: the brute-force reference the visibility index is tested against.
    #[cfg(test)]
    pub fn scan<R>(
        &self,
        namespace: &str,
        mut read: impl FnMut(&Execution) -> Option<R>,
    ) -> Vec<R> {
        let state = self.lock();
        let stored = self.store.load().expect("the store loads");
        stored
            .runs
            .iter()
            .filter(|r| r.namespace == namespace)
            .filter_map(|r| state.peek(namespace, &r.run_id, &mut read).flatten())
            .collect()
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
