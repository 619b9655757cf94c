//! Every run the engine holds, the latest run of each workflow id, the context changes work
//! in, and the visibility index: what the engine lock guards.

use std::collections::HashMap;

use temporalio_protos::temporal::api::common::v1::WorkflowExecution;

use super::context::Context;
use super::error::EngineError;
use super::execution::Execution;
use super::record::RunKey;
use crate::visibility;

/// What the engine lock guards.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) runs: HashMap<RunKey, Execution>,
    /// The latest run of each workflow id, by (namespace, workflow id).
    pub(crate) current: HashMap<(String, String), String>,
    pub(crate) context: Context,
    /// Every run as list and count filter it, kept current by `commit_quietly`.
    pub(crate) visibility: visibility::Index,
}

impl State {
    pub(crate) fn run_mut(&mut self, key: &RunKey) -> Option<(&mut Execution, &mut Context)> {
        let run = self.runs.get_mut(key)?;
        self.context.dirty.insert(key.clone());
        Some((run, &mut self.context))
    }

    pub(crate) fn resolve(
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
    pub(crate) fn has_changes(&self) -> bool {
        !(self.context.dirty.is_empty()
            && self.context.namespaces.is_empty()
            && self.context.deleted.is_empty()
            && self.context.effects.is_empty())
    }
}
