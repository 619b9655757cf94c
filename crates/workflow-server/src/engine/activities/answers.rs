//! Workers' answers to activity tasks, by task token or by workflow and activity id:
//! completion, failure, cancellation, and heartbeats (which learn of cancel requests).

use temporalio_protos::temporal::api::common::v1::{Payloads, WorkflowExecution};
use temporalio_protos::temporal::api::failure::v1::Failure;
use temporalio_protos::temporal::api::history::v1::history_event::Attributes;
use temporalio_protos::temporal::api::history::v1::{self as h};

use super::timeouts::{attempt_failed, close_with};
use crate::engine::Engine;
use crate::engine::context::Context;
use crate::engine::error::EngineError;
use crate::engine::execution::Execution;
use crate::engine::record::{ActivityState, stamp};
use crate::engine::state::State;
use crate::engine::tokens::{TaskKind, TaskToken};

/// A worker's answer to an activity task.
pub(crate) enum ActivityAnswer {
    Completed(Option<Payloads>),
    Failed(Option<Box<Failure>>, Option<Payloads>),
    Canceled(Option<Payloads>),
}

fn lookup<'a>(
    state: &'a mut State,
    token: &TaskToken,
) -> Result<(&'a mut Execution, &'a mut Context, ActivityState), EngineError> {
    let (run, context) = state
        .run_mut(&token.key())
        .ok_or_else(|| EngineError::not_found("workflow execution not found"))?;
    let activity = run
        .activities
        .get(&token.scheduled_event_id)
        .filter(|a| a.attempt == token.attempt && a.retry_at.is_none())
        .cloned()
        .ok_or_else(|| {
            EngineError::not_found(
                "activity task not found (it completed, timed out or was retried)",
            )
        })?;
    Ok((run, context, activity))
}

fn token_by_id(
    state: &State,
    namespace: &str,
    workflow_id: &str,
    run_id: &str,
    activity_id: &str,
) -> Result<TaskToken, EngineError> {
    if activity_id.is_empty() {
        return Err(EngineError::invalid("activity_id is required"));
    }
    // Open runs are always in memory; a closed run has no activity to answer.
    let key = state.resolve_in_memory(
        namespace,
        &WorkflowExecution {
            workflow_id: workflow_id.to_string(),
            run_id: run_id.to_string(),
        },
    )?;
    let run = &state.runs[&key];
    run.activities
        .iter()
        .find(|(_, a)| a.activity_id == activity_id)
        .map(|(scheduled, a)| TaskToken {
            namespace: namespace.to_string(),
            run_id: key.1.clone(),
            scheduled_event_id: *scheduled,
            attempt: a.attempt,
        })
        .ok_or_else(|| EngineError::not_found(format!("activity {activity_id} not found")))
}

impl Engine {
    /// Records a worker's answer to an activity task of `namespace`, by token.
    pub async fn respond_activity(
        &self,
        namespace: &str,
        task_token: &[u8],
        answer: ActivityAnswer,
        identity: &str,
    ) -> Result<(), EngineError> {
        self.transact(|state| {
            let token =
                state
                    .context
                    .tokens
                    .open_task(TaskKind::Activity, task_token, namespace)?;
            respond_locked(state, &token, answer, identity)
        })
        .await
    }

    /// Records a worker's answer to an activity task, by workflow and activity id.
    pub async fn respond_activity_by_id(
        &self,
        namespace: &str,
        workflow_id: &str,
        run_id: &str,
        activity_id: &str,
        answer: ActivityAnswer,
        identity: &str,
    ) -> Result<(), EngineError> {
        self.transact(|state| {
            let token = token_by_id(state, namespace, workflow_id, run_id, activity_id)?;
            respond_locked(state, &token, answer, identity)
        })
        .await
    }

    /// Records a heartbeat of an activity task of `namespace`; answers whether cancellation
    /// was requested.
    pub async fn heartbeat(
        &self,
        namespace: &str,
        task_token: &[u8],
        details: Option<Payloads>,
    ) -> Result<bool, EngineError> {
        let token =
            self.lock()
                .context
                .tokens
                .open_task(TaskKind::Activity, task_token, namespace)?;
        self.heartbeat_token(token, details).await
    }

    /// Records a heartbeat by workflow and activity id.
    pub async fn heartbeat_by_id(
        &self,
        namespace: &str,
        workflow_id: &str,
        run_id: &str,
        activity_id: &str,
        details: Option<Payloads>,
    ) -> Result<bool, EngineError> {
        let token = {
            let state = self.lock();
            token_by_id(&state, namespace, workflow_id, run_id, activity_id)?
        };
        self.heartbeat_token(token, details).await
    }

    async fn heartbeat_token(
        &self,
        token: TaskToken,
        details: Option<Payloads>,
    ) -> Result<bool, EngineError> {
        self.transact(|state| {
            let (run, context, _) = lookup(state, &token)?;
            let now = context.clock.now();
            let activity = run
                .activities
                .get_mut(&token.scheduled_event_id)
                .expect("looked up");
            if activity.started_time.is_none() {
                activity.started_time = stamp(now);
            }
            activity.last_heartbeat_time = stamp(now);
            if details.is_some() {
                activity.heartbeat_details = details;
            }
            Ok(activity.cancel_requested)
        })
        .await
    }
}

fn respond_locked(
    state: &mut State,
    token: &TaskToken,
    answer: ActivityAnswer,
    identity: &str,
) -> Result<(), EngineError> {
    let (run, context, activity) = lookup(state, token)?;
    let scheduled = token.scheduled_event_id;
    match answer {
        ActivityAnswer::Completed(result) => {
            close_with(run, context, scheduled, &activity, identity, |started| {
                Attributes::ActivityTaskCompletedEventAttributes(
                    h::ActivityTaskCompletedEventAttributes {
                        result,
                        scheduled_event_id: scheduled,
                        started_event_id: started,
                        identity: identity.to_string(),
                        ..Default::default()
                    },
                )
            })
        }
        ActivityAnswer::Failed(failure, details) => {
            if details.is_some()
                && let Some(a) = run.activities.get_mut(&scheduled)
            {
                a.heartbeat_details = details;
            }
            let failure = failure.map(|f| *f).unwrap_or_else(|| Failure {
                message: "activity failed without a failure".into(),
                ..Default::default()
            });
            attempt_failed(run, context, scheduled, failure, identity);
        }
        ActivityAnswer::Canceled(details) => {
            if !activity.cancel_requested {
                return Err(EngineError::invalid(
                    "the activity was not asked to cancel; fail or complete it instead",
                ));
            }
            let requested = cancel_requested_event_id(run, scheduled);
            close_with(run, context, scheduled, &activity, identity, |started| {
                Attributes::ActivityTaskCanceledEventAttributes(
                    h::ActivityTaskCanceledEventAttributes {
                        details,
                        latest_cancel_requested_event_id: requested,
                        scheduled_event_id: scheduled,
                        started_event_id: started,
                        identity: identity.to_string(),
                        ..Default::default()
                    },
                )
            });
        }
    }
    Ok(())
}

fn cancel_requested_event_id(run: &Execution, scheduled: i64) -> i64 {
    run.history
        .newest_first()
        .find_map(|e| match &e.attributes {
            Some(Attributes::ActivityTaskCancelRequestedEventAttributes(a))
                if a.scheduled_event_id == scheduled =>
            {
                Some(e.event_id)
            }
            _ => None,
        })
        .unwrap_or_default()
}
