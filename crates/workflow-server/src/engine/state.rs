//! Every run the engine holds, the latest run of each workflow id, the context changes work
//! in, and the search attributes runs set: what the engine lock guards.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use temporalio_protos::temporal::api::common::v1::WorkflowExecution;

use super::context::Context;
use super::error::EngineError;
use super::execution::Execution;
use super::record::RunKey;
use crate::store::{BatchNumber, Store};

/// What the engine lock guards.
#[derive(Debug)]
pub(crate) struct State {
    /// Every open run, and the closed runs `closed` lists.
    pub(crate) runs: HashMap<RunKey, Execution>,
    /// The closed runs in memory, in the order they closed or were read back, with the
    /// batch that wrote each; the oldest leave once there are more than `cache` and that
    /// batch is durable.
    pub(crate) closed: VecDeque<(RunKey, BatchNumber)>,
    cache: usize,
    store: Arc<dyn Store>,
    /// The latest run of each workflow id whose latest run is in memory, by (namespace,
    /// workflow id); the store knows the others (`latest_run`).
    pub(crate) current: HashMap<(String, String), String>,
    pub(crate) context: Context,
    /// By namespace, the search attributes its runs have set since start-up (start-up reads
    /// every run's), which list filters may name.
    pub(crate) attribute_names: HashMap<String, HashSet<String>>,
}

impl State {
    pub(crate) fn new(store: Arc<dyn Store>, cache: usize) -> Self {
        Self {
            runs: HashMap::new(),
            closed: VecDeque::new(),
            cache,
            store,
            current: HashMap::new(),
            context: Context::default(),
            attribute_names: HashMap::new(),
        }
    }

    /// Brings the run `key` names into memory from the store if it is a run the store
    /// holds; answers whether it is in memory now.
    pub(crate) fn ensure(&mut self, key: &RunKey) -> Result<bool, EngineError> {
        if self.runs.contains_key(key) {
            return Ok(true);
        }
        let Some(run) = self.read_back(key)? else {
            return Ok(false);
        };
        self.closed.push_back((key.clone(), 0));
        self.runs.insert(key.clone(), run);
        Ok(true)
    }

    /// Reads a run out of memory back from the store, without keeping it.
    fn read_back(&self, key: &RunKey) -> Result<Option<Execution>, EngineError> {
        match self.store.read_run(&key.0, &key.1)? {
            Some(stored) => Ok(Some(Execution::decode(&key.0, stored)?)),
            None => Ok(None),
        }
    }

    /// Runs `read` on a run of `namespace` as it is now, from memory or read from the
    /// store without keeping it (as a list page reads runs, so one list does not empty the
    /// cache of the runs in use).
    pub(crate) fn peek<R>(
        &self,
        namespace: &str,
        run_id: &str,
        read: impl FnOnce(&Execution) -> R,
    ) -> Option<R> {
        let key = (namespace.to_string(), run_id.to_string());
        if let Some(run) = self.runs.get(&key) {
            return Some(read(run));
        }
        match self.read_back(&key) {
            Ok(run) => run.map(|run| read(&run)),
            Err(error) => {
                tracing::error!(%error, run_id, "a run could not be read back");
                None
            }
        }
    }

    /// Lets the oldest closed runs leave memory while there are more than the cache
    /// holds, each once the batch that last wrote it is durable; a run a query still
    /// waits on stays.
    pub(crate) fn trim_closed(&mut self) {
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
            if evictable && let Some(run) = self.runs.remove(&key) {
                let id = (key.0.clone(), run.workflow_id.clone());
                if self.current.get(&id) == Some(&key.1) {
                    self.current.remove(&id);
                }
            }
        }
    }

    pub(crate) fn run_mut(&mut self, key: &RunKey) -> Option<(&mut Execution, &mut Context)> {
        let run = self.runs.get_mut(key)?;
        self.context.dirty.insert(key.clone());
        Some((run, &mut self.context))
    }

    /// The run `execution` names (its latest run when the run id is empty), brought into
    /// memory when the store has it.
    pub(crate) fn resolve(
        &mut self,
        namespace: &str,
        execution: &WorkflowExecution,
    ) -> Result<RunKey, EngineError> {
        if let Some(key) = self.current_key(namespace, execution)? {
            self.ensure(&key)?;
        }
        self.resolve_in_memory(namespace, execution)
    }

    /// The latest run of a workflow id: from memory, or from the store when that run is
    /// out of memory.
    pub(crate) fn latest_run(
        &self,
        namespace: &str,
        workflow_id: &str,
    ) -> Result<Option<String>, EngineError> {
        match self
            .current
            .get(&(namespace.to_string(), workflow_id.to_string()))
        {
            Some(run_id) => Ok(Some(run_id.clone())),
            None => Ok(self.store.current_run(namespace, workflow_id)?),
        }
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
            self.latest_run(namespace, &execution.workflow_id)?
                .map(|id| (namespace.to_string(), id))
        } else {
            Some((namespace.to_string(), execution.run_id.clone()))
        })
    }

    /// `resolve` among the runs in memory only: every open run is there.
    pub(crate) fn resolve_in_memory(
        &self,
        namespace: &str,
        execution: &WorkflowExecution,
    ) -> Result<RunKey, EngineError> {
        self.current_key(namespace, execution)?
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

    /// The run `execution` names, marked changed, for a request that may change only a
    /// running run. A run out of memory is closed (open runs are always in memory), so it
    /// is refused without being read back.
    pub(crate) fn running_mut(
        &mut self,
        namespace: &str,
        execution: &WorkflowExecution,
    ) -> Result<(&mut Execution, &mut Context), EngineError> {
        let key = match self.resolve_in_memory(namespace, execution) {
            Ok(key) => key,
            Err(missing) => {
                let stored = match self.current_key(namespace, execution)? {
                    Some(key) => self
                        .store
                        .entry(&key.0, &key.1)?
                        .is_some_and(|entry| entry.workflow_id == execution.workflow_id),
                    None => false,
                };
                return Err(if stored {
                    EngineError::already_closed()
                } else {
                    missing
                });
            }
        };
        if !self.runs[&key].is_running() {
            return Err(EngineError::already_closed());
        }
        Ok(self.run_mut(&key).expect("in memory"))
    }

    /// Whether anything waits to be committed: a run, a namespace, a deletion or an effect.
    pub(crate) fn has_changes(&self) -> bool {
        !(self.context.dirty.is_empty()
            && self.context.namespaces.is_empty()
            && self.context.deleted.is_empty()
            && self.context.effects.is_empty())
    }
}

/// Notes the search attributes an entry sets in `names`, so list filters may name them.
pub(crate) fn note_attributes(
    names: &mut HashMap<String, HashSet<String>>,
    namespace: &str,
    entry: &crate::visibility::Entry,
) {
    if entry.custom.is_empty() {
        return;
    }
    let names = match names.get_mut(namespace) {
        Some(names) => names,
        None => names.entry(namespace.to_string()).or_default(),
    };
    for (name, _) in &entry.custom {
        if !names.contains(name) {
            names.insert(name.clone());
        }
    }
}
