//! A checked command carried out: the events it writes and the state it changes, the
//! close it makes, or the effect on another run it queues.

use temporalio_protos::temporal::api::command::v1::{Command, command::Attributes as C};
use temporalio_protos::temporal::api::common::v1::{Payload, WorkflowExecution};
use temporalio_protos::temporal::api::enums::v1::WorkflowExecutionStatus;
use temporalio_protos::temporal::api::history::v1::history_event::Attributes;
use temporalio_protos::temporal::api::history::v1::{self as h};
use temporalio_protos::temporal::api::workflowservice::v1 as ws;

use crate::engine::activities;
use crate::engine::close::close_run;
use crate::engine::context::Effect;
use crate::engine::record::{ChildState, RunKey, TimerState, duration, stamp};
use crate::engine::state::State;
use crate::engine::successors::{complete_run, continue_as_new, fail_run};

/// Carries out one checked command of the task completed by event `completed`.
pub(crate) fn apply(
    state: &mut State,
    key: &RunKey,
    completed: i64,
    command: Command,
    identity: &str,
    eager: &mut Vec<ws::PollActivityTaskQueueResponse>,
) {
    let running = state.runs.get(key).is_some_and(|r| r.is_running());
    let command = match command.attributes {
        Some(C::ContinueAsNewWorkflowExecutionCommandAttributes(a)) => {
            if running {
                continue_as_new(state, key, completed, a);
            }
            return;
        }
        Some(C::FailWorkflowExecutionCommandAttributes(a)) => {
            if running {
                fail_run(state, key, completed, a.failure);
            }
            return;
        }
        Some(C::CompleteWorkflowExecutionCommandAttributes(a)) => {
            if running {
                complete_run(state, key, completed, a.result);
            }
            return;
        }
        other => Command {
            attributes: other,
            ..command
        },
    };
    let Some((run, context)) = state.run_mut(key) else {
        return;
    };
    if !run.is_running() {
        return;
    }
    context.user_metadata = command.user_metadata;
    match command.attributes {
        Some(C::StartTimerCommandAttributes(a)) => {
            let after = duration(&a.start_to_fire_timeout).unwrap_or_default();
            let started = run.append(
                context,
                Attributes::TimerStartedEventAttributes(h::TimerStartedEventAttributes {
                    timer_id: a.timer_id.clone(),
                    start_to_fire_timeout: a.start_to_fire_timeout,
                    workflow_task_completed_event_id: completed,
                }),
            );
            let fire_at = stamp(context.clock.now() + after);
            run.timers.insert(
                a.timer_id,
                TimerState {
                    started_event_id: started,
                    fire_at,
                },
            );
        }
        Some(C::CancelTimerCommandAttributes(a)) => {
            let started = run
                .timers
                .remove(&a.timer_id)
                .map_or(0, |t| t.started_event_id);
            run.append(
                context,
                Attributes::TimerCanceledEventAttributes(h::TimerCanceledEventAttributes {
                    timer_id: a.timer_id,
                    started_event_id: started,
                    workflow_task_completed_event_id: completed,
                    identity: identity.to_string(),
                }),
            );
        }
        Some(C::ScheduleActivityTaskCommandAttributes(a)) => {
            activities::schedule(run, context, completed, a, identity, eager);
        }
        Some(C::RequestCancelActivityTaskCommandAttributes(a)) => {
            activities::request_cancel(run, context, a.scheduled_event_id, completed);
        }
        Some(C::CancelWorkflowExecutionCommandAttributes(a)) => close_run(
            run,
            context,
            WorkflowExecutionStatus::Canceled,
            Attributes::WorkflowExecutionCanceledEventAttributes(
                h::WorkflowExecutionCanceledEventAttributes {
                    details: a.details,
                    workflow_task_completed_event_id: completed,
                },
            ),
        ),
        Some(C::StartChildWorkflowExecutionCommandAttributes(a)) => {
            let namespace = run.namespace.clone();
            let initiated = run.append(
                context,
                Attributes::StartChildWorkflowExecutionInitiatedEventAttributes(
                    h::StartChildWorkflowExecutionInitiatedEventAttributes {
                        namespace: namespace.clone(),
                        workflow_id: a.workflow_id.clone(),
                        workflow_type: a.workflow_type.clone(),
                        task_queue: a.task_queue.clone(),
                        input: a.input.clone(),
                        workflow_execution_timeout: a.workflow_execution_timeout,
                        workflow_run_timeout: a.workflow_run_timeout,
                        workflow_task_timeout: a.workflow_task_timeout,
                        parent_close_policy: a.parent_close_policy,
                        workflow_task_completed_event_id: completed,
                        workflow_id_reuse_policy: a.workflow_id_reuse_policy,
                        retry_policy: a.retry_policy.clone(),
                        cron_schedule: a.cron_schedule.clone(),
                        header: a.header.clone(),
                        memo: a.memo.clone(),
                        search_attributes: a.search_attributes.clone(),
                        ..Default::default()
                    },
                ),
            );
            run.children.insert(
                initiated,
                ChildState {
                    namespace,
                    workflow_id: a.workflow_id.clone(),
                    run_id: String::new(),
                    workflow_type: a
                        .workflow_type
                        .as_ref()
                        .map(|t| t.name.clone())
                        .unwrap_or_default(),
                    parent_close_policy: a.parent_close_policy,
                    started_event_id: 0,
                },
            );
            context.effects.push_back(Effect::StartChild {
                parent: key.clone(),
                initiated_event_id: initiated,
                command: Box::new(a),
            });
        }
        Some(C::SignalExternalWorkflowExecutionCommandAttributes(a)) => {
            let target_namespace = run.namespace.clone();
            let target = a.execution.clone().unwrap_or_default();
            let initiated = run.append(
                context,
                Attributes::SignalExternalWorkflowExecutionInitiatedEventAttributes(
                    h::SignalExternalWorkflowExecutionInitiatedEventAttributes {
                        workflow_task_completed_event_id: completed,
                        namespace: target_namespace.clone(),
                        workflow_execution: Some(target.clone()),
                        signal_name: a.signal_name.clone(),
                        input: a.input.clone(),
                        child_workflow_only: a.child_workflow_only,
                        header: a.header.clone(),
                        ..Default::default()
                    },
                ),
            );
            context.effects.push_back(Effect::SignalExternal {
                source: key.clone(),
                initiated_event_id: initiated,
                target_namespace,
                target,
                signal: Box::new(a),
            });
        }
        Some(C::RequestCancelExternalWorkflowExecutionCommandAttributes(a)) => {
            let target_namespace = run.namespace.clone();
            let target = WorkflowExecution {
                workflow_id: a.workflow_id.clone(),
                run_id: a.run_id.clone(),
            };
            let initiated = run.append(
                context,
                Attributes::RequestCancelExternalWorkflowExecutionInitiatedEventAttributes(
                    h::RequestCancelExternalWorkflowExecutionInitiatedEventAttributes {
                        workflow_task_completed_event_id: completed,
                        namespace: target_namespace.clone(),
                        workflow_execution: Some(target.clone()),
                        child_workflow_only: a.child_workflow_only,
                        reason: a.reason.clone(),
                        ..Default::default()
                    },
                ),
            );
            context.effects.push_back(Effect::CancelExternal {
                source: key.clone(),
                initiated_event_id: initiated,
                target_namespace,
                target,
                reason: a.reason,
            });
        }
        Some(C::RecordMarkerCommandAttributes(a)) => {
            run.append(
                context,
                Attributes::MarkerRecordedEventAttributes(h::MarkerRecordedEventAttributes {
                    marker_name: a.marker_name,
                    details: a.details,
                    workflow_task_completed_event_id: completed,
                    header: a.header,
                    failure: a.failure,
                }),
            );
        }
        Some(C::UpsertWorkflowSearchAttributesCommandAttributes(a)) => {
            let upserted = a.search_attributes.clone().unwrap_or_default();
            let merged = run.search_attributes.get_or_insert_with(Default::default);
            merge_payloads(&mut merged.indexed_fields, &upserted.indexed_fields);
            run.append(
                context,
                Attributes::UpsertWorkflowSearchAttributesEventAttributes(
                    h::UpsertWorkflowSearchAttributesEventAttributes {
                        workflow_task_completed_event_id: completed,
                        search_attributes: Some(upserted),
                    },
                ),
            );
        }
        Some(C::ModifyWorkflowPropertiesCommandAttributes(a)) => {
            if let Some(memo) = &a.upserted_memo {
                let merged = run.memo.get_or_insert_with(Default::default);
                merge_payloads(&mut merged.fields, &memo.fields);
            }
            run.append(
                context,
                Attributes::WorkflowPropertiesModifiedEventAttributes(
                    h::WorkflowPropertiesModifiedEventAttributes {
                        workflow_task_completed_event_id: completed,
                        upserted_memo: a.upserted_memo,
                    },
                ),
            );
        }
        // `validate` refused everything else.
        _ => {}
    }
    // A command that wrote no event passes its metadata to none.
    context.user_metadata = None;
}

/// Merges upserted memo fields or search attributes into a run's, as Temporal does: a value
/// that is null (`binary/null`) or an empty list (`[]`) removes its key; any other value
/// replaces the key's.
fn merge_payloads(
    into: &mut std::collections::HashMap<String, Payload>,
    upserted: &std::collections::HashMap<String, Payload>,
) {
    for (name, value) in upserted {
        if removes_its_key(value) {
            into.remove(name);
        } else {
            into.insert(name.clone(), value.clone());
        }
    }
}

fn removes_its_key(value: &Payload) -> bool {
    match value.metadata.get("encoding").map(Vec::as_slice) {
        Some(b"binary/null") => true,
        Some(b"json/plain") => value.data.trim_ascii() == b"[]",
        _ => false,
    }
}
