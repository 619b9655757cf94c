//! The history engine: each workflow execution's state and event history, and the changes
//! requests, workers and deadlines make to them.
//!
//! The store is the source of truth. Open runs live in memory behind one lock, with the
//! closed runs most recently closed or read (a bounded cache); any other run is read back
//! from the store when a request names it. A change marks its runs dirty; before the lock
//! is released the dirty runs (state record plus new events) go to the store as one batch,
//! and the request is answered once that batch is durable. A closed run leaves memory only
//! once its last batch is durable, so a read never misses a write. `Engine::transact` is
//! the one helper that does lock, change, commit and wait.
//!
//! The modules follow a run's lifecycle. Each lifecycle step adds its requests to
//! [`Engine`] in an `impl Engine` block; besides that a module names only modules below it
//! in this order, lowest first (the `layers` test checks it):
//!
//! 1. `record`, `event_log`, `events`, `cron`, `retry`: stored records, a run's encoded
//!    events, event building, cron and retry policy math
//! 2. `tokens`, `error`: task tokens, the engine's error
//! 3. `pending_queries`, `update_registry`, `context`: queries awaiting answers; updates
//!    in flight; what a change works in (clock, queues, deadline index, effects)
//! 4. `execution`: one run and its primitives (append, deliver, schedule a workflow task)
//! 5. `state`: every run, under the engine lock
//! 6. `deadlines`: when each run next needs attention
//! 7. `queries`: where a query waits for its answer
//! 8. `activities`: activity tasks
//! 9. `updates`: workflow updates admitted, sent, accepted, rejected, completed, waited on
//! 10. `close`: a run ends (close, terminate, cancel request)
//! 11. `signals`: signals to a run
//! 12. `start`: a run begins (admission by the id policies, creation)
//! 13. `successors`: continue-as-new, completion, failure and timeout with their retry and
//!     cron successors
//! 14. `commands`: a workflow task's commands checked and carried out
//! 15. `workflow_tasks`: workflow tasks handed out, completed, failed, timed out
//! 16. `effects`: the interpreter of the effects changes have on other runs
//! 17. `deadline_loop`: carries out what comes due
//! 18. `history`: history reads and long polls
//! 19. this module: `Engine`, its transaction helper, open and close, reads

mod activities;
mod close;
mod commands;
mod context;
mod cron;
mod deadline_loop;
mod deadlines;
mod effects;
mod error;
mod event_log;
mod events;
mod execution;
mod history;
mod pending_queries;
mod queries;
pub(crate) mod record;
mod retry;
mod signals;
mod start;
mod state;
mod successors;
mod tokens;
mod update_registry;
mod updates;
mod workflow_tasks;

#[cfg(test)]
mod layers;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use prost::Message;
use temporalio_protos::temporal::api::common::v1::WorkflowExecution;
use temporalio_protos::temporal::api::enums::v1::WorkflowExecutionStatus;
use temporalio_protos::temporal::api::workflow::v1::WorkflowExecutionInfo;
use tokio::sync::Notify;

pub(crate) use crate::store::Ticket;
use crate::store::{Batch, RunDelete, Store, StoreError, StoreFailure};
use crate::visibility;
pub(crate) use activities::ActivityAnswer;
pub(crate) use context::TimeSkipping;
pub(crate) use error::EngineError;
use event_log::EventLog;
use events::EventBuilder;
pub use execution::Execution;
pub(crate) use history::HistoryRequest;
pub(crate) use pending_queries::QueryReply;
use record::{NamespaceRecord, RunKey, RunState};
use state::State;

/// How many closed runs stay in memory by default.
pub const DEFAULT_RUN_CACHE: usize = 1_000;

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
    /// Open long polls for a run's close event: clients awaiting a result.
    result_waiters: std::sync::atomic::AtomicUsize,
}

/// A client awaiting a result, counted while it waits.
pub(crate) struct ResultWaiter<'a>(&'a Engine);

impl Drop for ResultWaiter<'_> {
    fn drop(&mut self) {
        self.0
            .result_waiters
            .fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
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
        time_skipping: TimeSkipping,
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
        let mut reindex = Vec::new();
        for stored in loaded.runs {
            let run_state =
                RunState::decode(stored.state.as_slice()).map_err(corrupt("run state"))?;
            let open = run_state.status() == WorkflowExecutionStatus::Running;
            // Files written before runs recorded their last task id tell it by their events.
            let history = if open || run_state.last_task_id == 0 {
                let whole = store
                    .read_run(&stored.namespace, &stored.run_id)?
                    .unwrap_or_default();
                EventLog::from_stored(whole.events)?
            } else {
                EventLog::default()
            };
            let mut run = Execution::new(&stored.namespace, run_state, history);
            // Task ids grow with each event, so the last event has the run's highest.
            let last_event = run.history.last().map_or(0, |e| e.task_id);
            max_task_id = max_task_id.max(run.last_task_id).max(last_event);
            let entry = crate::describe::entry(&run);
            state::note_attributes(&mut state.attribute_names, &run.namespace, &entry);
            if loaded.reindex {
                reindex.push((run.namespace.clone(), entry));
            } else if open {
                run.indexed = Some(entry);
            }
            if open {
                state.runs.insert(run.key(), run);
            }
        }
        if !reindex.is_empty() {
            tracing::info!(
                runs = reindex.len(),
                "writing the visibility entries of a file that predates them"
            );
            store.reindex(reindex)?;
        }
        state.context.events = EventBuilder::after(max_task_id);
        // The latest runs in memory (the open ones); the store answers for the others.
        for (namespace, workflow_id, run_id) in loaded.current {
            let key = (namespace, run_id);
            if state.runs.contains_key(&key) {
                state.current.insert((key.0, workflow_id), key.1);
            }
        }
        // Hand out again what was waiting; a task a worker held times out as it would have.
        let keys: Vec<RunKey> = state.runs.keys().cloned().collect();
        for key in keys {
            let State { runs, context, .. } = &mut state;
            let run = runs.get_mut(&key).expect("listed");
            workflow_tasks::requeue_after_restart(run, context);
            deadlines::arm(run, context);
        }
        let engine = Self {
            state: Mutex::new(state),
            store,
            deadline_changed: Notify::new(),
            result_waiters: Default::default(),
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
        effects::drain(state);
        let State {
            runs,
            current,
            context,
            attribute_names,
            ..
        } = &mut *state;
        let mut batch = Batch::default();
        let mut written = Vec::new();
        for key in std::mem::take(&mut context.dirty) {
            let Some(run) = runs.get_mut(&key) else {
                continue;
            };
            deadlines::arm(run, context);
            let entry = crate::describe::entry(run);
            if run.indexed.as_ref() != Some(&entry) {
                state::note_attributes(attribute_names, &key.0, &entry);
                batch.entries.push((key.0.clone(), entry.clone()));
                run.indexed = Some(entry);
            }
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
            // The store knows every closed run, in memory or not.
            let expired: Vec<(RunKey, String)> = self
                .store
                .closed_before(&|namespace| {
                    retention(namespace).and_then(|keep| now.checked_sub(keep))
                })?
                .into_iter()
                .map(|gone| ((gone.namespace, gone.run_id), gone.workflow_id))
                .collect();
            for (key, workflow_id) in &expired {
                state.runs.remove(key);
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

    /// Counts a client awaiting a result until the guard drops; time may skip meanwhile.
    pub(crate) fn awaiting_result(&self) -> ResultWaiter<'_> {
        use std::sync::atomic::Ordering;
        self.result_waiters.fetch_add(1, Ordering::AcqRel);
        self.deadline_changed.notify_one();
        ResultWaiter(self)
    }

    fn results_awaited(&self) -> bool {
        self.result_waiters
            .load(std::sync::atomic::Ordering::Acquire)
            > 0
    }

    /// The server's clock: the wall clock plus what time skipping has skipped.
    pub fn now(&self) -> SystemTime {
        self.lock().context.clock.now()
    }

    /// Moves the clock forward by `by` and carries out the deadlines it passes (timers fire,
    /// timeouts and retries come due), stored before this returns.
    pub async fn skip_time(&self, by: Duration) -> Result<SystemTime, StoreFailure> {
        let (ticket, now) = {
            let mut state = self.lock();
            state.context.clock.skipped += by;
            self.carry_out_due(&mut state)
        };
        self.deadline_changed.notify_one();
        ticket.wait().await?;
        Ok(now)
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

    /// The search attributes runs of `namespace` have set.
    pub fn search_attribute_names(&self, namespace: &str) -> std::collections::HashSet<String> {
        self.lock()
            .attribute_names
            .get(namespace)
            .cloned()
            .unwrap_or_default()
    }

    /// The runs of `namespace` that `query` selects, in its order, `skip` of them skipped
    /// and at most `limit` returned, and whether more follow. The store picks them from
    /// its visibility entries; only the page's runs are described in full.
    pub fn list(
        &self,
        namespace: &str,
        query: &visibility::Query,
        skip: usize,
        limit: usize,
    ) -> Result<(Vec<WorkflowExecutionInfo>, bool), EngineError> {
        let state = self.lock();
        let page = self.store.page(namespace, query, skip, limit)?;
        let infos = page
            .run_ids
            .iter()
            .filter_map(|id| state.peek(namespace, id, crate::describe::info))
            .collect();
        Ok((infos, page.more))
    }

    /// How many runs of `namespace` `filter` selects, from the store's visibility entries.
    pub fn count(
        &self,
        namespace: &str,
        filter: &visibility::Filter,
    ) -> Result<usize, EngineError> {
        Ok(self.store.count(namespace, filter)?.count)
    }

    /// How many runs of `namespace` `filter` selects in each execution status (as the filter
    /// language spells it), for the statuses that have any, in the statuses' order: a count
    /// `GROUP BY ExecutionStatus`.
    pub fn count_by_status(
        &self,
        namespace: &str,
        filter: &visibility::Filter,
    ) -> Result<Vec<(&'static str, usize)>, EngineError> {
        let mut groups = Vec::new();
        for status in visibility::STATUSES {
            let in_status = filter.clone().and(visibility::Filter::Compare(
                visibility::Field::ExecutionStatus,
                std::cmp::Ordering::Equal,
                false,
                visibility::Value::Text(status.to_owned()),
            ));
            let count = self.store.count(namespace, &in_status)?.count;
            if count > 0 {
                groups.push((status, count));
            }
        }
        Ok(groups)
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
