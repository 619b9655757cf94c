//! A run ends, or is asked to: the close itself (its close event, what it drops, what it
//! tells its parent and children), termination and cancel requests.

use temporalio_protos::temporal::api::common::v1::{Payloads, WorkflowExecution};
use temporalio_protos::temporal::api::enums::v1::{ParentClosePolicy, WorkflowExecutionStatus};
use temporalio_protos::temporal::api::history::v1::{self as h, history_event::Attributes};

use super::Engine;
use super::context::{Context, Effect};
use super::error::EngineError;
use super::execution::Execution;
use super::record::stamp;
use super::{queries, updates};

/// Ends a run with `close` (its close event) and `status`, and tells its parent and
/// children.
pub(crate) fn close_run(
    run: &mut Execution,
    context: &mut Context,
    status: WorkflowExecutionStatus,
    close: Attributes,
) {
    run.append(context, close.clone());
    run.status = status as i32;
    run.close_time = stamp(context.clock.now());
    run.workflow_task = None;
    run.activities.clear();
    run.timers.clear();
    run.buffered.clear();
    run.sticky = None;
    run.run_deadline = None;
    run.first_task_at = None;
    updates::abort_all(run, status == WorkflowExecutionStatus::ContinuedAsNew);
    if let Some(parent) = run.parent.clone()
        && status != WorkflowExecutionStatus::ContinuedAsNew
    {
        context.effects.push_back(Effect::ChildClosed {
            parent,
            child: run.execution(),
            workflow_type: run.workflow_type.clone(),
            close: Box::new(close),
        });
    }
    for child in std::mem::take(&mut run.children).into_values() {
        let terminate = match child.parent_close_policy() {
            ParentClosePolicy::Abandon => continue,
            ParentClosePolicy::RequestCancel => false,
            _ => true,
        };
        if child.run_id.is_empty() {
            continue;
        }
        context.effects.push_back(Effect::ParentClosed {
            namespace: child.namespace,
            child: WorkflowExecution {
                workflow_id: child.workflow_id,
                run_id: String::new(),
            },
            terminate,
        });
    }
    queries::flush_waiting(run, context);
}

pub(crate) fn terminate_run(
    run: &mut Execution,
    context: &mut Context,
    reason: &str,
    details: Option<Payloads>,
    identity: &str,
) {
    close_run(
        run,
        context,
        WorkflowExecutionStatus::Terminated,
        Attributes::WorkflowExecutionTerminatedEventAttributes(
            h::WorkflowExecutionTerminatedEventAttributes {
                reason: reason.to_string(),
                details,
                identity: identity.to_string(),
            },
        ),
    );
}

pub(crate) fn request_cancel(
    run: &mut Execution,
    context: &mut Context,
    reason: &str,
    identity: &str,
    external: Option<(i64, WorkflowExecution)>,
) {
    if run.cancel_requested {
        return;
    }
    run.cancel_requested = true;
    let (external_initiated_event_id, external_workflow_execution) = match external {
        Some((id, execution)) => (id, Some(execution)),
        None => (0, None),
    };
    run.deliver(
        context,
        vec![Attributes::WorkflowExecutionCancelRequestedEventAttributes(
            h::WorkflowExecutionCancelRequestedEventAttributes {
                cause: reason.to_string(),
                identity: identity.to_string(),
                external_initiated_event_id,
                external_workflow_execution,
            },
        )],
    );
}

impl Engine {
    /// Terminates a running run; its terminated event keeps the reason and the details.
    pub async fn terminate(
        &self,
        namespace: &str,
        execution: &WorkflowExecution,
        reason: &str,
        details: Option<Payloads>,
        identity: &str,
    ) -> Result<(), EngineError> {
        self.transact(|state| {
            let (run, context) = state.running_mut(namespace, execution)?;
            terminate_run(run, context, reason, details, identity);
            Ok(())
        })
        .await
    }

    /// Asks a running run to cancel.
    pub async fn request_cancel(
        &self,
        namespace: &str,
        execution: &WorkflowExecution,
        reason: &str,
        identity: &str,
    ) -> Result<(), EngineError> {
        self.transact(|state| {
            let (run, context) = state.running_mut(namespace, execution)?;
            request_cancel(run, context, reason, identity, None);
            Ok(())
        })
        .await
    }
}
