//! The one effect interpreter: carries out, after the change that queued them, the changes
//! one run causes in others (children started and closed, external signals and cancel
//! requests, parent close policies). Called only from the commit path.

use temporalio_protos::temporal::api::command::v1::StartChildWorkflowExecutionCommandAttributes;
use temporalio_protos::temporal::api::common::v1::{WorkflowExecution, WorkflowType};
use temporalio_protos::temporal::api::enums::v1::{
    CancelExternalWorkflowExecutionFailedCause, SignalExternalWorkflowExecutionFailedCause,
    StartChildWorkflowExecutionFailedCause, WorkflowIdConflictPolicy,
};
use temporalio_protos::temporal::api::history::v1::{self as h, history_event::Attributes};

use super::close::{request_cancel, terminate_run};
use super::context::{Context, Effect};
use super::execution::Execution;
use super::record::{ParentState, RunKey, duration};
use super::signals::signaled;
use super::start::{Admission, NewRun, admit, create_run};
use super::state::State;

/// Carries out the effects changes queued, and the ones those queue.
pub(crate) fn drain(state: &mut State) {
    while let Some(effect) = state.context.effects.pop_front() {
        apply(state, effect);
    }
}

/// Runs `act` on the run `target` names if it is running; returns whether it did.
fn on_running(
    state: &mut State,
    namespace: &str,
    target: &WorkflowExecution,
    act: impl FnOnce(&mut Execution, &mut Context),
) -> bool {
    // Open runs are always in memory: one that is not is not running.
    let Ok(key) = state.resolve_in_memory(namespace, target) else {
        return false;
    };
    let (run, context) = state.run_mut(&key).expect("resolved");
    if !run.is_running() {
        return false;
    }
    act(run, context);
    true
}

/// Carries out one effect.
fn apply(state: &mut State, effect: Effect) {
    match effect {
        Effect::StartChild {
            parent,
            initiated_event_id,
            command,
        } => start_child(state, parent, initiated_event_id, *command),
        Effect::ChildClosed {
            parent,
            child,
            workflow_type,
            close,
        } => {
            let key = (parent.namespace.clone(), parent.run_id.clone());
            let Some((run, context)) = state.run_mut(&key) else {
                return;
            };
            let Some(entry) = run.children.remove(&parent.initiated_event_id) else {
                return;
            };
            let common = (
                entry.namespace.clone(),
                Some(child),
                Some(WorkflowType {
                    name: workflow_type,
                }),
                parent.initiated_event_id,
                entry.started_event_id,
            );
            let (
                namespace,
                workflow_execution,
                workflow_type,
                initiated_event_id,
                started_event_id,
            ) = common;
            let event = match *close {
                Attributes::WorkflowExecutionCompletedEventAttributes(a) => {
                    Attributes::ChildWorkflowExecutionCompletedEventAttributes(
                        h::ChildWorkflowExecutionCompletedEventAttributes {
                            result: a.result,
                            namespace,
                            workflow_execution,
                            workflow_type,
                            initiated_event_id,
                            started_event_id,
                            ..Default::default()
                        },
                    )
                }
                Attributes::WorkflowExecutionFailedEventAttributes(a) => {
                    Attributes::ChildWorkflowExecutionFailedEventAttributes(
                        h::ChildWorkflowExecutionFailedEventAttributes {
                            failure: a.failure,
                            namespace,
                            workflow_execution,
                            workflow_type,
                            initiated_event_id,
                            started_event_id,
                            retry_state: a.retry_state,
                            ..Default::default()
                        },
                    )
                }
                Attributes::WorkflowExecutionCanceledEventAttributes(a) => {
                    Attributes::ChildWorkflowExecutionCanceledEventAttributes(
                        h::ChildWorkflowExecutionCanceledEventAttributes {
                            details: a.details,
                            namespace,
                            workflow_execution,
                            workflow_type,
                            initiated_event_id,
                            started_event_id,
                            ..Default::default()
                        },
                    )
                }
                Attributes::WorkflowExecutionTimedOutEventAttributes(a) => {
                    Attributes::ChildWorkflowExecutionTimedOutEventAttributes(
                        h::ChildWorkflowExecutionTimedOutEventAttributes {
                            namespace,
                            workflow_execution,
                            workflow_type,
                            initiated_event_id,
                            started_event_id,
                            retry_state: a.retry_state,
                            ..Default::default()
                        },
                    )
                }
                _ => Attributes::ChildWorkflowExecutionTerminatedEventAttributes(
                    h::ChildWorkflowExecutionTerminatedEventAttributes {
                        namespace,
                        workflow_execution,
                        workflow_type,
                        initiated_event_id,
                        started_event_id,
                        ..Default::default()
                    },
                ),
            };
            run.deliver(context, vec![event]);
        }
        Effect::SignalExternal {
            source,
            initiated_event_id,
            target_namespace,
            target,
            signal,
        } => {
            let source_execution = state.runs.get(&source).map(|r| r.execution());
            let delivered = on_running(state, &target_namespace, &target, |run, context| {
                run.deliver(
                    context,
                    vec![signaled(
                        signal.signal_name.clone(),
                        signal.input.clone(),
                        "",
                        signal.header.clone(),
                        source_execution,
                    )],
                );
            });
            let Some((run, context)) = state.run_mut(&source) else {
                return;
            };
            let event = if delivered {
                Attributes::ExternalWorkflowExecutionSignaledEventAttributes(
                    h::ExternalWorkflowExecutionSignaledEventAttributes {
                        initiated_event_id,
                        namespace: target_namespace,
                        workflow_execution: Some(target),
                        ..Default::default()
                    },
                )
            } else {
                Attributes::SignalExternalWorkflowExecutionFailedEventAttributes(
                    h::SignalExternalWorkflowExecutionFailedEventAttributes {
                        cause: SignalExternalWorkflowExecutionFailedCause::ExternalWorkflowExecutionNotFound
                            as i32,
                        initiated_event_id,
                        namespace: target_namespace,
                        workflow_execution: Some(target),
                        ..Default::default()
                    },
                )
            };
            run.deliver(context, vec![event]);
        }
        Effect::CancelExternal {
            source,
            initiated_event_id,
            target_namespace,
            target,
            reason,
        } => {
            let source_execution = state.runs.get(&source).map(|r| r.execution());
            let delivered = on_running(state, &target_namespace, &target, |run, context| {
                request_cancel(
                    run,
                    context,
                    &reason,
                    "",
                    source_execution.map(|e| (initiated_event_id, e)),
                );
            });
            let Some((run, context)) = state.run_mut(&source) else {
                return;
            };
            let event = if delivered {
                Attributes::ExternalWorkflowExecutionCancelRequestedEventAttributes(
                    h::ExternalWorkflowExecutionCancelRequestedEventAttributes {
                        initiated_event_id,
                        namespace: target_namespace,
                        workflow_execution: Some(target),
                        ..Default::default()
                    },
                )
            } else {
                Attributes::RequestCancelExternalWorkflowExecutionFailedEventAttributes(
                    h::RequestCancelExternalWorkflowExecutionFailedEventAttributes {
                        cause: CancelExternalWorkflowExecutionFailedCause::ExternalWorkflowExecutionNotFound
                            as i32,
                        initiated_event_id,
                        namespace: target_namespace,
                        workflow_execution: Some(target),
                        ..Default::default()
                    },
                )
            };
            run.deliver(context, vec![event]);
        }
        Effect::ParentClosed {
            namespace,
            child,
            terminate,
        } => {
            on_running(state, &namespace, &child, |run, context| {
                if terminate {
                    terminate_run(run, context, "by parent close policy", None, "");
                } else {
                    request_cancel(run, context, "by parent close policy", "", None);
                }
            });
        }
    }
}

fn start_child(
    state: &mut State,
    parent: RunKey,
    initiated_event_id: i64,
    command: StartChildWorkflowExecutionCommandAttributes,
) {
    let Some(parent_run) = state.runs.get(&parent) else {
        return;
    };
    if !parent_run.is_running() {
        return;
    }
    let namespace = parent.0.clone();
    let workflow_type = command
        .workflow_type
        .clone()
        .map(|t| t.name)
        .unwrap_or_default();
    let new = NewRun {
        namespace: namespace.clone(),
        workflow_id: command.workflow_id.clone(),
        workflow_type: workflow_type.clone(),
        task_queue: command
            .task_queue
            .clone()
            .map(|q| q.name)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| parent_run.task_queue.clone()),
        input: command.input.clone(),
        execution_timeout: duration(&command.workflow_execution_timeout),
        run_timeout: duration(&command.workflow_run_timeout),
        task_timeout: duration(&command.workflow_task_timeout),
        request_id: uuid::Uuid::new_v4().to_string(),
        identity: String::new(),
        header: command.header.clone(),
        memo: command.memo.clone(),
        search_attributes: command.search_attributes.clone(),
        cron_schedule: command.cron_schedule.clone(),
        retry_policy: command.retry_policy.clone(),
        parent: Some(ParentState {
            namespace: parent.0.clone(),
            workflow_id: parent_run.workflow_id.clone(),
            run_id: parent_run.run_id.clone(),
            initiated_event_id,
            root_workflow_id: parent_run.parent.as_ref().map_or_else(
                || parent_run.workflow_id.clone(),
                |p| p.root_workflow_id.clone(),
            ),
            root_run_id: parent_run
                .parent
                .as_ref()
                .map_or_else(|| parent_run.run_id.clone(), |p| p.root_run_id.clone()),
        }),
        ..Default::default()
    };
    let admitted = admit(
        state,
        &new,
        command.workflow_id_reuse_policy(),
        WorkflowIdConflictPolicy::Fail,
    );
    let event = match admitted {
        Ok(Admission::Start) => {
            let run_id = create_run(state, new);
            let (run, _) = state.run_mut(&parent).expect("checked");
            if let Some(child) = run.children.get_mut(&initiated_event_id) {
                child.run_id = run_id.clone();
            }
            Attributes::ChildWorkflowExecutionStartedEventAttributes(
                h::ChildWorkflowExecutionStartedEventAttributes {
                    namespace,
                    initiated_event_id,
                    workflow_execution: Some(WorkflowExecution {
                        workflow_id: command.workflow_id.clone(),
                        run_id,
                    }),
                    workflow_type: Some(WorkflowType {
                        name: workflow_type,
                    }),
                    header: command.header.clone(),
                    ..Default::default()
                },
            )
        }
        _ => {
            let (run, _) = state.run_mut(&parent).expect("checked");
            run.children.remove(&initiated_event_id);
            Attributes::StartChildWorkflowExecutionFailedEventAttributes(
                h::StartChildWorkflowExecutionFailedEventAttributes {
                    namespace,
                    workflow_id: command.workflow_id.clone(),
                    workflow_type: Some(WorkflowType {
                        name: workflow_type,
                    }),
                    cause: StartChildWorkflowExecutionFailedCause::WorkflowAlreadyExists as i32,
                    initiated_event_id,
                    ..Default::default()
                },
            )
        }
    };
    let (run, context) = state.run_mut(&parent).expect("checked");
    run.deliver(context, vec![event]);
}
