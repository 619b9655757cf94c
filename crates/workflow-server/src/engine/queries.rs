//! Queries. A query rides on the run's scheduled workflow task when there is one (the
//! worker answers it with the task), waits while a task runs, and otherwise goes out as a
//! query task of its own, answered with `RespondQueryTaskCompleted`.

use std::collections::HashMap;
use std::time::Duration;

use temporalio_protos::temporal::api::common::v1::{WorkflowExecution, WorkflowType};
use temporalio_protos::temporal::api::enums::v1::{
    QueryRejectCondition, QueryResultType, WorkflowExecutionStatus,
};
use temporalio_protos::temporal::api::history::v1::History;
use temporalio_protos::temporal::api::query::v1::{WorkflowQuery, WorkflowQueryResult};
use temporalio_protos::temporal::api::workflowservice::v1 as ws;
use tokio::sync::oneshot;

use super::Engine;
use super::context::Context;
use super::error::EngineError;
use super::events::normal_queue;
use super::execution::Execution;
use super::pending_queries::{PendingQuery, QueryReply};
use super::state::State;

/// Where a query waits: on the scheduled task, behind the running one, or on its own.
fn place(run: &mut Execution, context: &mut Context, id: String) {
    match &run.workflow_task {
        Some(t) if t.started_event_id == 0 && t.not_before.is_none() => {
            run.attached_queries.push(id)
        }
        Some(t) if t.started_event_id != 0 => run.waiting_queries.push(id),
        _ => {
            context
                .matching
                .offer_query_task(&run.namespace, &run.state.task_queue, id);
        }
    }
}

/// The task that carried queries ended without answering them: they go out again.
pub(crate) fn redispatch_attached(run: &mut Execution, context: &mut Context) {
    for id in std::mem::take(&mut run.attached_queries) {
        place(run, context, id);
    }
}

/// A workflow task completed: queries it did not answer, and those waiting behind it, go out.
pub(crate) fn after_task(run: &mut Execution, context: &mut Context) {
    let pending: Vec<String> = std::mem::take(&mut run.attached_queries)
        .into_iter()
        .chain(std::mem::take(&mut run.waiting_queries))
        .collect();
    for id in pending {
        place(run, context, id);
    }
}

/// The run closed: waiting queries go out as query tasks (a closed run can be queried).
pub(crate) fn flush_waiting(run: &mut Execution, context: &mut Context) {
    after_task(run, context);
}

/// Answers the queries a completed workflow task carried.
pub(crate) fn answer(
    run: &mut Execution,
    context: &mut Context,
    results: &HashMap<String, WorkflowQueryResult>,
) {
    for (id, result) in results {
        run.attached_queries.retain(|q| q != id);
        let Some(pending) = context.queries.remove(id) else {
            continue;
        };
        let reply = if result.result_type() == QueryResultType::Answered {
            QueryReply::Answered(result.answer.clone())
        } else {
            QueryReply::Failed {
                message: result.error_message.clone(),
                failure: result.failure.clone().map(Box::new),
            }
        };
        let _ = pending.reply.send(reply);
    }
}

/// The query task for a legacy query, if it is still wanted.
pub(crate) fn query_task(state: &State, id: &str) -> Option<ws::PollWorkflowTaskQueueResponse> {
    let pending = state.context.queries.get(id)?;
    if pending.reply.is_closed() {
        return None;
    }
    let run = state
        .runs
        .get(&(pending.namespace.clone(), pending.run_id.clone()))?;
    Some(ws::PollWorkflowTaskQueueResponse {
        task_token: state.context.tokens.seal_query(&pending.namespace, id),
        workflow_execution: Some(run.execution()),
        workflow_type: Some(WorkflowType {
            name: run.workflow_type.clone(),
        }),
        previous_started_event_id: run.previous_started_event_id,
        started_event_id: run.previous_started_event_id,
        attempt: 1,
        history: Some(History {
            events: run.history.decode_all(),
        }),
        query: Some(pending.query.clone()),
        workflow_execution_task_queue: Some(normal_queue(&run.state.task_queue)),
        ..Default::default()
    })
}

fn rejected(condition: QueryRejectCondition, status: WorkflowExecutionStatus) -> bool {
    match condition {
        QueryRejectCondition::NotOpen => status != WorkflowExecutionStatus::Running,
        QueryRejectCondition::NotCompletedCleanly => !matches!(
            status,
            WorkflowExecutionStatus::Running | WorkflowExecutionStatus::Completed
        ),
        _ => false,
    }
}

impl Engine {
    /// Asks the run's worker a query and waits up to `budget` for the answer.
    pub async fn query(
        &self,
        namespace: &str,
        execution: &WorkflowExecution,
        query: WorkflowQuery,
        condition: QueryRejectCondition,
        budget: Duration,
    ) -> Result<QueryReply, EngineError> {
        if query.query_type.is_empty() {
            return Err(EngineError::invalid(
                "QueryWorkflowRequest.query.query_type is required",
            ));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let answer = {
            let mut state = self.lock();
            let key = state.resolve(namespace, execution)?;
            let run_status = state.runs[&key].status();
            if rejected(condition, run_status) {
                return Ok(QueryReply::Rejected(run_status));
            }
            let (reply, answer) = oneshot::channel();
            state.context.queries.insert(
                id.clone(),
                PendingQuery {
                    namespace: key.0.clone(),
                    run_id: key.1.clone(),
                    query,
                    reply,
                },
            );
            let State { runs, context, .. } = &mut *state;
            let run = runs.get_mut(&key).expect("resolved");
            place(run, context, id.clone());
            answer
        };
        let reply = tokio::time::timeout(budget, answer).await;
        self.lock().context.queries.remove(&id);
        match reply {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(_)) => Err(EngineError::QueryDropped),
            Err(_) => Err(EngineError::QueryTimedOut),
        }
    }

    /// A worker's answer to a query task.
    pub fn respond_query(
        &self,
        request: ws::RespondQueryTaskCompletedRequest,
    ) -> Result<(), EngineError> {
        let pending = {
            let mut state = self.lock();
            let id = state
                .context
                .tokens
                .open_query(&request.task_token, &request.namespace)?;
            state.context.queries.remove(&id).ok_or_else(|| {
                EngineError::not_found("query not found (it timed out or was answered)")
            })?
        };
        let reply = if request.completed_type() == QueryResultType::Answered {
            QueryReply::Answered(request.query_result)
        } else {
            QueryReply::Failed {
                message: request.error_message,
                failure: request.failure.map(Box::new),
            }
        };
        let _ = pending.reply.send(reply);
        Ok(())
    }
}
