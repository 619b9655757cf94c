//! Queries waiting for a worker's answer, by id, with where their reply goes.

use std::collections::HashMap;

use temporalio_protos::temporal::api::common::v1::Payloads;
use temporalio_protos::temporal::api::enums::v1::WorkflowExecutionStatus;
use temporalio_protos::temporal::api::failure::v1::Failure;
use temporalio_protos::temporal::api::query::v1::WorkflowQuery;
use tokio::sync::oneshot;

/// The reply to a query: the worker's answer or failure, or a rejection by run status.
#[derive(Debug)]
pub(crate) enum QueryReply {
    Answered(Option<Payloads>),
    Failed {
        message: String,
        failure: Option<Box<Failure>>,
    },
    /// The reject condition held: the run's status.
    Rejected(WorkflowExecutionStatus),
}

#[derive(Debug)]
pub(crate) struct PendingQuery {
    pub namespace: String,
    pub run_id: String,
    pub query: WorkflowQuery,
    pub reply: oneshot::Sender<QueryReply>,
}

/// Queries not answered yet, by id.
#[derive(Debug, Default)]
pub(crate) struct Queries(HashMap<String, PendingQuery>);

impl Queries {
    pub fn get(&self, id: &str) -> Option<&PendingQuery> {
        self.0.get(id)
    }

    pub fn insert(&mut self, id: String, query: PendingQuery) {
        self.0.insert(id, query);
    }

    pub fn remove(&mut self, id: &str) -> Option<PendingQuery> {
        self.0.remove(id)
    }

    /// Whether a query waits on the run `key` names.
    pub fn waits_on(&self, key: &super::record::RunKey) -> bool {
        self.0
            .values()
            .any(|q| q.namespace == key.0 && q.run_id == key.1)
    }
}
