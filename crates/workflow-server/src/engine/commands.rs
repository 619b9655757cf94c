//! A completed workflow task's commands: checked all together first, so a bad one changes
//! nothing, then turned into events.

use std::collections::HashSet;

use temporalio_protos::temporal::api::command::v1::{Command, command::Attributes as C};
use temporalio_protos::temporal::api::common::v1::Payloads;
use temporalio_protos::temporal::api::enums::v1::{
    WorkflowExecutionStatus, WorkflowTaskFailedCause as Cause,
};
use temporalio_protos::temporal::api::history::v1::history_event::Attributes;
use temporalio_protos::temporal::api::history::v1::{self as h};
use temporalio_protos::temporal::api::workflowservice::v1 as ws;
use tonic::Status;

use super::record::{ChildState, TimerState, duration, stamp};
use super::{Effect, Execution, RunKey, State, activities, runs};
use crate::limits::{MAX_PAYLOAD_SIZE, payloads_size};
use crate::status;

/// Why a task's commands were refused.
pub(crate) struct BadCommand {
    pub cause: Cause,
    pub message: String,
    pub status: Status,
}

fn bad(cause: Cause, message: String) -> BadCommand {
    BadCommand {
        cause,
        status: status::invalid_argument(message.clone()),
        message,
    }
}

/// Whether a command closes the run.
pub(crate) fn closes_run(command: &Command) -> bool {
    matches!(
        command.attributes,
        Some(C::CompleteWorkflowExecutionCommandAttributes(_))
            | Some(C::FailWorkflowExecutionCommandAttributes(_))
            | Some(C::CancelWorkflowExecutionCommandAttributes(_))
            | Some(C::ContinueAsNewWorkflowExecutionCommandAttributes(_))
    )
}

fn command_name(attributes: &Option<C>) -> String {
    attributes
        .as_ref()
        .map_or("an empty command".to_string(), |c| {
            format!("{c:?}")
                .split('(')
                .next()
                .unwrap_or_default()
                .to_string()
        })
}

fn check_size(payloads: &Option<Payloads>, what: &str, cause: Cause) -> Result<(), BadCommand> {
    let size = payloads_size(payloads);
    if size > MAX_PAYLOAD_SIZE {
        return Err(bad(
            cause,
            format!("{what} is {size} bytes; the limit is {MAX_PAYLOAD_SIZE}"),
        ));
    }
    Ok(())
}

/// Checks every command against the run before any is carried out.
pub(crate) fn validate(run: &Execution, commands: &[Command]) -> Result<(), BadCommand> {
    let mut timers: HashSet<&str> = run.timers.keys().map(String::as_str).collect();
    let mut activity_ids: HashSet<&str> = run
        .activities
        .values()
        .map(|a| a.activity_id.as_str())
        .collect();
    for (index, command) in commands.iter().enumerate() {
        if closes_run(command) && index + 1 != commands.len() {
            return Err(bad(
                Cause::UnhandledCommand,
                format!(
                    "{} must be the last command; {} more follow it",
                    command_name(&command.attributes),
                    commands.len() - index - 1
                ),
            ));
        }
        match &command.attributes {
            Some(C::StartTimerCommandAttributes(a)) => {
                let cause = Cause::BadStartTimerAttributes;
                if a.timer_id.is_empty() {
                    return Err(bad(
                        cause,
                        "StartTimerCommandAttributes.timer_id is required".into(),
                    ));
                }
                if !timers.insert(&a.timer_id) {
                    return Err(bad(
                        cause,
                        format!(
                            "StartTimerCommandAttributes: timer {} is already running",
                            a.timer_id
                        ),
                    ));
                }
                if duration(&a.start_to_fire_timeout).is_none() {
                    return Err(bad(
                        cause,
                        "StartTimerCommandAttributes.start_to_fire_timeout must be positive".into(),
                    ));
                }
            }
            Some(C::CancelTimerCommandAttributes(a)) => {
                if !timers.remove(a.timer_id.as_str()) {
                    return Err(bad(
                        Cause::BadCancelTimerAttributes,
                        format!(
                            "CancelTimerCommandAttributes: timer {} is not running",
                            a.timer_id
                        ),
                    ));
                }
            }
            Some(C::ScheduleActivityTaskCommandAttributes(a)) => {
                let cause = Cause::BadScheduleActivityAttributes;
                let activity_type = a.activity_type.as_ref().map_or("", |t| t.name.as_str());
                if a.activity_id.is_empty() {
                    return Err(bad(
                        cause,
                        "ScheduleActivityTaskCommandAttributes.activity_id is required".into(),
                    ));
                }
                if activity_type.is_empty() {
                    return Err(bad(
                        cause,
                        "ScheduleActivityTaskCommandAttributes.activity_type is required".into(),
                    ));
                }
                if duration(&a.schedule_to_close_timeout).is_none()
                    && duration(&a.start_to_close_timeout).is_none()
                {
                    return Err(bad(
                        cause,
                        "ScheduleActivityTaskCommandAttributes needs schedule_to_close_timeout or start_to_close_timeout".into(),
                    ));
                }
                if !activity_ids.insert(&a.activity_id) {
                    return Err(bad(
                        cause,
                        format!(
                            "ScheduleActivityTaskCommandAttributes: activity id {} is already in use",
                            a.activity_id
                        ),
                    ));
                }
                check_size(
                    &a.input,
                    "ScheduleActivityTaskCommandAttributes.input",
                    cause,
                )?;
            }
            Some(C::RequestCancelActivityTaskCommandAttributes(a)) => {
                if !run.activities.contains_key(&a.scheduled_event_id) {
                    return Err(bad(
                        Cause::BadRequestCancelActivityAttributes,
                        format!(
                            "RequestCancelActivityTaskCommandAttributes: no open activity was scheduled by event {}",
                            a.scheduled_event_id
                        ),
                    ));
                }
            }
            Some(C::CompleteWorkflowExecutionCommandAttributes(a)) => check_size(
                &a.result,
                "CompleteWorkflowExecutionCommandAttributes.result",
                Cause::BadCompleteWorkflowExecutionAttributes,
            )?,
            Some(C::FailWorkflowExecutionCommandAttributes(_))
            | Some(C::CancelWorkflowExecutionCommandAttributes(_)) => {}
            Some(C::ContinueAsNewWorkflowExecutionCommandAttributes(a)) => check_size(
                &a.input,
                "ContinueAsNewWorkflowExecutionCommandAttributes.input",
                Cause::BadContinueAsNewAttributes,
            )?,
            Some(C::StartChildWorkflowExecutionCommandAttributes(a)) => {
                let cause = Cause::BadStartChildExecutionAttributes;
                if a.workflow_id.is_empty() {
                    return Err(bad(
                        cause,
                        "StartChildWorkflowExecutionCommandAttributes.workflow_id is required"
                            .into(),
                    ));
                }
                if a.workflow_type.as_ref().is_none_or(|t| t.name.is_empty()) {
                    return Err(bad(
                        cause,
                        "StartChildWorkflowExecutionCommandAttributes.workflow_type is required"
                            .into(),
                    ));
                }
                check_size(
                    &a.input,
                    "StartChildWorkflowExecutionCommandAttributes.input",
                    cause,
                )?;
                super::cron::CronSchedule::check(
                    &a.cron_schedule,
                    "StartChildWorkflowExecutionCommandAttributes.cron_schedule",
                )
                .map_err(|message| bad(cause, message))?;
            }
            Some(C::SignalExternalWorkflowExecutionCommandAttributes(a)) => {
                let cause = Cause::BadSignalWorkflowExecutionAttributes;
                if a.execution
                    .as_ref()
                    .is_none_or(|e| e.workflow_id.is_empty())
                {
                    return Err(bad(cause, "SignalExternalWorkflowExecutionCommandAttributes.execution.workflow_id is required".into()));
                }
                if a.signal_name.is_empty() {
                    return Err(bad(
                        cause,
                        "SignalExternalWorkflowExecutionCommandAttributes.signal_name is required"
                            .into(),
                    ));
                }
                check_size(
                    &a.input,
                    "SignalExternalWorkflowExecutionCommandAttributes.input",
                    cause,
                )?;
            }
            Some(C::RequestCancelExternalWorkflowExecutionCommandAttributes(a)) => {
                if a.workflow_id.is_empty() {
                    return Err(bad(
                        Cause::BadRequestCancelExternalWorkflowExecutionAttributes,
                        "RequestCancelExternalWorkflowExecutionCommandAttributes.workflow_id is required".into(),
                    ));
                }
            }
            Some(C::RecordMarkerCommandAttributes(a)) => {
                if a.marker_name.is_empty() {
                    return Err(bad(
                        Cause::BadRecordMarkerAttributes,
                        "RecordMarkerCommandAttributes.marker_name is required".into(),
                    ));
                }
            }
            Some(C::UpsertWorkflowSearchAttributesCommandAttributes(a)) => {
                if a.search_attributes.is_none() {
                    return Err(bad(
                        Cause::BadSearchAttributes,
                        "UpsertWorkflowSearchAttributesCommandAttributes.search_attributes is required".into(),
                    ));
                }
            }
            Some(C::ModifyWorkflowPropertiesCommandAttributes(_)) => {}
            other => {
                let message = format!(
                    "command {} is not implemented by this server yet",
                    command_name(other)
                );
                return Err(BadCommand {
                    cause: Cause::Unspecified,
                    status: Status::unimplemented(message.clone()),
                    message,
                });
            }
        }
    }
    Ok(())
}

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
                runs::continue_as_new(state, key, completed, a);
            }
            return;
        }
        Some(C::FailWorkflowExecutionCommandAttributes(a)) => {
            if running {
                runs::fail_run(state, key, completed, a.failure);
            }
            return;
        }
        Some(C::CompleteWorkflowExecutionCommandAttributes(a)) => {
            if running {
                runs::complete_run(state, key, completed, a.result);
            }
            return;
        }
        other => Command {
            attributes: other,
            ..command
        },
    };
    let Some((run, sh)) = state.run_mut(key) else {
        return;
    };
    if !run.is_running() {
        return;
    }
    match command.attributes {
        Some(C::StartTimerCommandAttributes(a)) => {
            let after = duration(&a.start_to_fire_timeout).unwrap_or_default();
            let started = run.append(
                sh,
                Attributes::TimerStartedEventAttributes(h::TimerStartedEventAttributes {
                    timer_id: a.timer_id.clone(),
                    start_to_fire_timeout: a.start_to_fire_timeout,
                    workflow_task_completed_event_id: completed,
                }),
            );
            let fire_at = stamp(sh.clock.now() + after);
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
                sh,
                Attributes::TimerCanceledEventAttributes(h::TimerCanceledEventAttributes {
                    timer_id: a.timer_id,
                    started_event_id: started,
                    workflow_task_completed_event_id: completed,
                    identity: identity.to_string(),
                }),
            );
        }
        Some(C::ScheduleActivityTaskCommandAttributes(a)) => {
            activities::schedule(run, sh, completed, a, identity, eager);
        }
        Some(C::RequestCancelActivityTaskCommandAttributes(a)) => {
            activities::request_cancel(run, sh, a.scheduled_event_id, completed);
        }
        Some(C::CancelWorkflowExecutionCommandAttributes(a)) => runs::close_run(
            run,
            sh,
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
                sh,
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
            sh.effects.push_back(Effect::StartChild {
                parent: key.clone(),
                initiated_event_id: initiated,
                command: Box::new(a),
            });
        }
        Some(C::SignalExternalWorkflowExecutionCommandAttributes(a)) => {
            let target_namespace = run.namespace.clone();
            let target = a.execution.clone().unwrap_or_default();
            let initiated = run.append(
                sh,
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
            sh.effects.push_back(Effect::SignalExternal {
                source: key.clone(),
                initiated_event_id: initiated,
                target_namespace,
                target,
                signal: Box::new(a),
            });
        }
        Some(C::RequestCancelExternalWorkflowExecutionCommandAttributes(a)) => {
            let target_namespace = run.namespace.clone();
            let target = temporalio_protos::temporal::api::common::v1::WorkflowExecution {
                workflow_id: a.workflow_id.clone(),
                run_id: a.run_id.clone(),
            };
            let initiated = run.append(
                sh,
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
            sh.effects.push_back(Effect::CancelExternal {
                source: key.clone(),
                initiated_event_id: initiated,
                target_namespace,
                target,
                reason: a.reason,
            });
        }
        Some(C::RecordMarkerCommandAttributes(a)) => {
            run.append(
                sh,
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
            for (name, value) in upserted.indexed_fields.clone() {
                merged.indexed_fields.insert(name, value);
            }
            run.append(
                sh,
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
                for (name, value) in memo.fields.clone() {
                    merged.fields.insert(name, value);
                }
            }
            run.append(
                sh,
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
}
