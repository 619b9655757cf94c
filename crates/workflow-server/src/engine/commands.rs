//! A completed workflow task's commands: checked all together first, so a bad one changes
//! nothing, then turned into events.
//!
//! The checks, their order, the workflow-task-failed cause of each and what a refusal does
//! (refuse the request, fail the task, or terminate the run) follow the Temporal server.

use std::collections::HashSet;

use prost::Message as _;
use temporalio_protos::temporal::api::command::v1::{Command, command::Attributes as C};
use temporalio_protos::temporal::api::common::v1::{Payloads, RetryPolicy};
use temporalio_protos::temporal::api::enums::v1::{
    CommandType, WorkflowExecutionStatus, WorkflowTaskFailedCause as Cause,
};
use temporalio_protos::temporal::api::history::v1::history_event::Attributes;
use temporalio_protos::temporal::api::history::v1::{self as h};
use temporalio_protos::temporal::api::protocol::v1::Message;
use temporalio_protos::temporal::api::taskqueue::v1::TaskQueue;
use temporalio_protos::temporal::api::workflowservice::v1 as ws;

use super::record::{ChildState, TimerState, duration, stamp};
use super::{Effect, EngineError, Execution, RunKey, State, activities, runs};
use crate::limits::{
    MAX_HISTORY_EVENTS, MAX_PAYLOAD_SIZE, MAX_PENDING_ACTIVITIES, MAX_PENDING_CANCEL_REQUESTS,
    MAX_PENDING_CHILD_WORKFLOWS, MAX_PENDING_SIGNALS, check_duration, check_length,
    payload_set_size, payloads_size,
};

/// What refusing a task's commands does, as Temporal decides for each check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Only the request is refused; the task stays started until it times out (a command
    /// sequence Temporal cannot read at all).
    Request,
    /// The workflow task fails with the cause and is tried again.
    FailTask(Cause),
    /// The workflow task fails with the cause and the run is terminated (a payload over
    /// the size limit, a history over the event limit).
    Terminate(Cause),
}

/// Why a task's commands were refused.
#[derive(Debug)]
pub(crate) struct BadCommand {
    pub refusal: Refusal,
    pub message: String,
}

impl BadCommand {
    /// The message the worker hears, with the cause first when the task fails, as
    /// Temporal words it.
    pub fn full_message(&self) -> String {
        match self.refusal {
            Refusal::Request => self.message.clone(),
            Refusal::FailTask(cause) | Refusal::Terminate(cause) => {
                format!("{cause:?}: {}", self.message)
            }
        }
    }

    /// The answer to the request: an invalid argument, with the message.
    pub fn error(&self) -> EngineError {
        EngineError::invalid(self.full_message())
    }
}

fn bad(cause: Cause, message: impl Into<String>) -> BadCommand {
    BadCommand {
        refusal: Refusal::FailTask(cause),
        message: message.into(),
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

/// The command type whose attributes these are.
fn attributes_type(attributes: &C) -> CommandType {
    match attributes {
        C::ScheduleActivityTaskCommandAttributes(_) => CommandType::ScheduleActivityTask,
        C::StartTimerCommandAttributes(_) => CommandType::StartTimer,
        C::CompleteWorkflowExecutionCommandAttributes(_) => CommandType::CompleteWorkflowExecution,
        C::FailWorkflowExecutionCommandAttributes(_) => CommandType::FailWorkflowExecution,
        C::RequestCancelActivityTaskCommandAttributes(_) => CommandType::RequestCancelActivityTask,
        C::CancelTimerCommandAttributes(_) => CommandType::CancelTimer,
        C::CancelWorkflowExecutionCommandAttributes(_) => CommandType::CancelWorkflowExecution,
        C::RequestCancelExternalWorkflowExecutionCommandAttributes(_) => {
            CommandType::RequestCancelExternalWorkflowExecution
        }
        C::RecordMarkerCommandAttributes(_) => CommandType::RecordMarker,
        C::ContinueAsNewWorkflowExecutionCommandAttributes(_) => {
            CommandType::ContinueAsNewWorkflowExecution
        }
        C::StartChildWorkflowExecutionCommandAttributes(_) => {
            CommandType::StartChildWorkflowExecution
        }
        C::SignalExternalWorkflowExecutionCommandAttributes(_) => {
            CommandType::SignalExternalWorkflowExecution
        }
        C::UpsertWorkflowSearchAttributesCommandAttributes(_) => {
            CommandType::UpsertWorkflowSearchAttributes
        }
        C::ProtocolMessageCommandAttributes(_) => CommandType::ProtocolMessage,
        C::ModifyWorkflowPropertiesCommandAttributes(_) => CommandType::ModifyWorkflowProperties,
        C::ScheduleNexusOperationCommandAttributes(_) => CommandType::ScheduleNexusOperation,
        C::RequestCancelNexusOperationCommandAttributes(_) => {
            CommandType::RequestCancelNexusOperation
        }
    }
}

/// The cause a bad command of this type fails its task with.
fn bad_attributes_cause(kind: CommandType) -> Cause {
    match kind {
        CommandType::ScheduleActivityTask => Cause::BadScheduleActivityAttributes,
        CommandType::RequestCancelActivityTask => Cause::BadRequestCancelActivityAttributes,
        CommandType::StartTimer => Cause::BadStartTimerAttributes,
        CommandType::CancelTimer => Cause::BadCancelTimerAttributes,
        CommandType::CompleteWorkflowExecution => Cause::BadCompleteWorkflowExecutionAttributes,
        CommandType::FailWorkflowExecution => Cause::BadFailWorkflowExecutionAttributes,
        CommandType::CancelWorkflowExecution => Cause::BadCancelWorkflowExecutionAttributes,
        CommandType::RequestCancelExternalWorkflowExecution => {
            Cause::BadRequestCancelExternalWorkflowExecutionAttributes
        }
        CommandType::RecordMarker => Cause::BadRecordMarkerAttributes,
        CommandType::ContinueAsNewWorkflowExecution => Cause::BadContinueAsNewAttributes,
        CommandType::StartChildWorkflowExecution => Cause::BadStartChildExecutionAttributes,
        CommandType::SignalExternalWorkflowExecution => Cause::BadSignalWorkflowExecutionAttributes,
        CommandType::UpsertWorkflowSearchAttributes => Cause::BadSearchAttributes,
        CommandType::ProtocolMessage => Cause::BadUpdateWorkflowExecutionMessage,
        CommandType::ModifyWorkflowProperties => Cause::BadModifyWorkflowPropertiesAttributes,
        CommandType::ScheduleNexusOperation => Cause::BadScheduleNexusOperationAttributes,
        CommandType::RequestCancelNexusOperation => Cause::BadRequestCancelNexusOperationAttributes,
        CommandType::Unspecified => Cause::Unspecified,
    }
}

/// A command type by its name as Temporal prints it (`StartTimer`), or its number.
fn type_name(command_type: i32) -> String {
    CommandType::try_from(command_type)
        .map_or_else(|_| command_type.to_string(), |t| format!("{t:?}"))
}

/// Temporal's first check, on the command types alone: each is known and one closing the
/// run comes last. Failing it refuses the request and leaves the task as it is.
fn check_sequence(commands: &[Command]) -> Result<(), BadCommand> {
    let refuse = |message: String| BadCommand {
        refusal: Refusal::Request,
        message,
    };
    for (index, command) in commands.iter().enumerate() {
        let kind = match CommandType::try_from(command.command_type) {
            Ok(CommandType::Unspecified) | Err(_) => {
                return Err(refuse(format!(
                    "unknown command type: {}",
                    type_name(command.command_type)
                )));
            }
            Ok(kind) => kind,
        };
        let closes = matches!(
            kind,
            CommandType::CompleteWorkflowExecution
                | CommandType::FailWorkflowExecution
                | CommandType::CancelWorkflowExecution
                | CommandType::ContinueAsNewWorkflowExecution
        );
        if closes && index + 1 != commands.len() {
            // Named by type, the first few: the sequence may be long.
            let mut names: Vec<String> = commands
                .iter()
                .take(20)
                .map(|c| type_name(c.command_type))
                .collect();
            if commands.len() > 20 {
                names.push(format!("… {} more", commands.len() - 20));
            }
            return Err(refuse(format!(
                "invalid command sequence: [{}], command {kind:?} must be the last command",
                names.join(", ")
            )));
        }
    }
    Ok(())
}

/// Refuses a payload over the limit; Temporal terminates the run for it.
fn check_size(size: usize, what: &str, cause: Cause) -> Result<(), BadCommand> {
    if size > MAX_PAYLOAD_SIZE {
        return Err(BadCommand {
            refusal: Refusal::Terminate(cause),
            message: format!("{what} is {size} bytes; the limit is {MAX_PAYLOAD_SIZE}"),
        });
    }
    Ok(())
}

fn check_payloads(payloads: &Option<Payloads>, what: &str, cause: Cause) -> Result<(), BadCommand> {
    check_size(payloads_size(payloads), what, cause)
}

/// Refuses a missing or over-long id or name.
fn check_name(value: &str, what: &str, required: bool, cause: Cause) -> Result<(), BadCommand> {
    if required && value.is_empty() {
        return Err(bad(cause, format!("{what} is required")));
    }
    check_length(value, what).map_err(|m| bad(cause, m))
}

fn check_timeout(
    value: &mut Option<prost_types::Duration>,
    what: &str,
    cause: Cause,
) -> Result<(), BadCommand> {
    check_duration(value, what).map_err(|m| bad(cause, m))
}

fn check_task_queue(queue: &Option<TaskQueue>, what: &str, cause: Cause) -> Result<(), BadCommand> {
    let name = queue.as_ref().map_or("", |q| q.name.as_str());
    check_name(name, &format!("{what}.task_queue"), false, cause)
}

fn check_retry_policy(
    policy: &mut Option<RetryPolicy>,
    what: &str,
    cause: Cause,
) -> Result<(), BadCommand> {
    if let Some(policy) = policy.as_mut() {
        check_timeout(
            &mut policy.initial_interval,
            &format!("{what}.retry_policy.initial_interval"),
            cause,
        )?;
        check_timeout(
            &mut policy.maximum_interval,
            &format!("{what}.retry_policy.maximum_interval"),
            cause,
        )?;
    }
    Ok(())
}

/// Refuses one more of something a run may only have so many of pending.
fn check_pending(pending: usize, limit: usize, what: &str, cause: Cause) -> Result<(), BadCommand> {
    if pending >= limit {
        return Err(bad(
            cause,
            format!(
                "the number of {what}, {pending}, has reached the per-workflow limit of {limit}"
            ),
        ));
    }
    Ok(())
}

/// Checks every command against the run before any is carried out, as Temporal does: the
/// type and the attributes must agree, ids and names fit the limits, durations are valid
/// (and cut, in place, to the longest Temporal allows), payloads fit, the run's pending
/// work and history stay within the limits. `messages` are the completion's protocol
/// messages (workflow updates), which this server never asked for.
pub(crate) fn validate(
    run: &Execution,
    commands: &mut [Command],
    messages: &[Message],
) -> Result<(), BadCommand> {
    check_sequence(commands)?;
    let mut timers: HashSet<&str> = run.timers.keys().map(String::as_str).collect();
    let mut activity_ids: HashSet<String> = run
        .activities
        .values()
        .map(|a| a.activity_id.clone())
        .collect();
    let mut pending_activities = run.activities.len();
    let mut pending_children = run.children.len();
    // Signals and cancellations of other workflows are carried out as soon as the task's
    // changes are stored, so only this task's count.
    let mut pending_signals = 0;
    let mut pending_cancels = 0;
    for command in commands.iter_mut() {
        let kind = CommandType::try_from(command.command_type).unwrap_or(CommandType::Unspecified);
        let cause = bad_attributes_cause(kind);
        let expected = format!("{kind:?}CommandAttributes");
        let Some(attributes) = command.attributes.as_mut() else {
            return Err(bad(
                cause,
                format!("{expected} is not set on {kind:?}Command"),
            ));
        };
        let carried = attributes_type(attributes);
        if carried != kind {
            return Err(bad(
                cause,
                format!(
                    "{expected} is not set on {kind:?}Command; it carries {carried:?}CommandAttributes instead"
                ),
            ));
        }
        match attributes {
            C::StartTimerCommandAttributes(a) => {
                let what = "StartTimerCommandAttributes";
                check_name(&a.timer_id, &format!("{what}.timer_id"), true, cause)?;
                check_timeout(
                    &mut a.start_to_fire_timeout,
                    &format!("{what}.start_to_fire_timeout"),
                    cause,
                )?;
                if !timers.insert(a.timer_id.as_str()) {
                    return Err(bad(
                        Cause::StartTimerDuplicateId,
                        format!("{what}: timer {} is already running", a.timer_id),
                    ));
                }
            }
            C::CancelTimerCommandAttributes(a) => {
                let what = "CancelTimerCommandAttributes";
                check_name(&a.timer_id, &format!("{what}.timer_id"), true, cause)?;
                if !timers.remove(a.timer_id.as_str()) {
                    return Err(bad(
                        cause,
                        format!("{what}: timer {} is not running", a.timer_id),
                    ));
                }
            }
            C::ScheduleActivityTaskCommandAttributes(a) => {
                let what = "ScheduleActivityTaskCommandAttributes";
                check_name(&a.activity_id, &format!("{what}.activity_id"), true, cause)?;
                let activity_type = a.activity_type.as_ref().map_or("", |t| t.name.as_str());
                check_name(activity_type, &format!("{what}.activity_type"), true, cause)?;
                check_task_queue(&a.task_queue, what, cause)?;
                for (value, field) in [
                    (
                        &mut a.schedule_to_close_timeout,
                        "schedule_to_close_timeout",
                    ),
                    (
                        &mut a.schedule_to_start_timeout,
                        "schedule_to_start_timeout",
                    ),
                    (&mut a.start_to_close_timeout, "start_to_close_timeout"),
                    (&mut a.heartbeat_timeout, "heartbeat_timeout"),
                ] {
                    check_timeout(value, &format!("{what}.{field}"), cause)?;
                }
                check_retry_policy(&mut a.retry_policy, what, cause)?;
                if duration(&a.schedule_to_close_timeout).is_none()
                    && duration(&a.start_to_close_timeout).is_none()
                {
                    return Err(bad(
                        cause,
                        format!("{what} needs schedule_to_close_timeout or start_to_close_timeout"),
                    ));
                }
                if !activity_ids.insert(a.activity_id.clone()) {
                    return Err(bad(
                        Cause::ScheduleActivityDuplicateId,
                        format!("{what}: activity id {} is already in use", a.activity_id),
                    ));
                }
                check_payloads(&a.input, &format!("{what}.input"), cause)?;
                check_pending(
                    pending_activities,
                    MAX_PENDING_ACTIVITIES,
                    "pending activities",
                    Cause::PendingActivitiesLimitExceeded,
                )?;
                pending_activities += 1;
            }
            C::RequestCancelActivityTaskCommandAttributes(a) => {
                let what = "RequestCancelActivityTaskCommandAttributes";
                if a.scheduled_event_id == 0 {
                    return Err(bad(cause, format!("{what}.scheduled_event_id is required")));
                }
                if !run.activities.contains_key(&a.scheduled_event_id) {
                    return Err(bad(
                        cause,
                        format!(
                            "{what}: no open activity was scheduled by event {}",
                            a.scheduled_event_id
                        ),
                    ));
                }
            }
            C::CompleteWorkflowExecutionCommandAttributes(a) => check_payloads(
                &a.result,
                "CompleteWorkflowExecutionCommandAttributes.result",
                cause,
            )?,
            C::FailWorkflowExecutionCommandAttributes(a) => {
                let what = "FailWorkflowExecutionCommandAttributes";
                let Some(failure) = &a.failure else {
                    return Err(bad(cause, format!("{what}.failure is required")));
                };
                check_size(failure.encoded_len(), &format!("{what}.failure"), cause)?;
            }
            C::CancelWorkflowExecutionCommandAttributes(_) => {}
            C::ContinueAsNewWorkflowExecutionCommandAttributes(a) => {
                let what = "ContinueAsNewWorkflowExecutionCommandAttributes";
                let workflow_type = a.workflow_type.as_ref().map_or("", |t| t.name.as_str());
                check_name(
                    workflow_type,
                    &format!("{what}.workflow_type"),
                    false,
                    cause,
                )?;
                check_task_queue(&a.task_queue, what, cause)?;
                for (value, field) in [
                    (&mut a.workflow_run_timeout, "workflow_run_timeout"),
                    (&mut a.workflow_task_timeout, "workflow_task_timeout"),
                    (&mut a.backoff_start_interval, "backoff_start_interval"),
                ] {
                    check_timeout(value, &format!("{what}.{field}"), cause)?;
                }
                check_retry_policy(&mut a.retry_policy, what, cause)?;
                check_payloads(&a.input, &format!("{what}.input"), cause)?;
            }
            C::StartChildWorkflowExecutionCommandAttributes(a) => {
                let what = "StartChildWorkflowExecutionCommandAttributes";
                check_name(&a.workflow_id, &format!("{what}.workflow_id"), true, cause)?;
                let workflow_type = a.workflow_type.as_ref().map_or("", |t| t.name.as_str());
                check_name(workflow_type, &format!("{what}.workflow_type"), true, cause)?;
                check_task_queue(&a.task_queue, what, cause)?;
                for (value, field) in [
                    (
                        &mut a.workflow_execution_timeout,
                        "workflow_execution_timeout",
                    ),
                    (&mut a.workflow_run_timeout, "workflow_run_timeout"),
                    (&mut a.workflow_task_timeout, "workflow_task_timeout"),
                ] {
                    check_timeout(value, &format!("{what}.{field}"), cause)?;
                }
                check_retry_policy(&mut a.retry_policy, what, cause)?;
                super::cron::CronSchedule::check(
                    &a.cron_schedule,
                    &format!("{what}.cron_schedule"),
                )
                .map_err(|message| bad(cause, message))?;
                check_payloads(&a.input, &format!("{what}.input"), cause)?;
                check_pending(
                    pending_children,
                    MAX_PENDING_CHILD_WORKFLOWS,
                    "pending child workflow executions",
                    Cause::PendingChildWorkflowsLimitExceeded,
                )?;
                pending_children += 1;
            }
            C::SignalExternalWorkflowExecutionCommandAttributes(a) => {
                let what = "SignalExternalWorkflowExecutionCommandAttributes";
                let workflow_id = a.execution.as_ref().map_or("", |e| e.workflow_id.as_str());
                check_name(
                    workflow_id,
                    &format!("{what}.execution.workflow_id"),
                    true,
                    cause,
                )?;
                check_name(&a.signal_name, &format!("{what}.signal_name"), true, cause)?;
                check_pending(
                    pending_signals,
                    MAX_PENDING_SIGNALS,
                    "pending signals to external workflows",
                    Cause::PendingSignalsLimitExceeded,
                )?;
                pending_signals += 1;
                check_payloads(&a.input, &format!("{what}.input"), cause)?;
            }
            C::RequestCancelExternalWorkflowExecutionCommandAttributes(a) => {
                let what = "RequestCancelExternalWorkflowExecutionCommandAttributes";
                check_name(&a.workflow_id, &format!("{what}.workflow_id"), true, cause)?;
                check_pending(
                    pending_cancels,
                    MAX_PENDING_CANCEL_REQUESTS,
                    "pending requests to cancel external workflows",
                    Cause::PendingRequestCancelLimitExceeded,
                )?;
                pending_cancels += 1;
            }
            C::RecordMarkerCommandAttributes(a) => {
                let what = "RecordMarkerCommandAttributes";
                check_name(&a.marker_name, &format!("{what}.marker_name"), true, cause)?;
                let size = a.details.values().map(payload_set_size).sum();
                check_size(size, &format!("{what}.details"), cause)?;
            }
            C::UpsertWorkflowSearchAttributesCommandAttributes(a) => {
                let what = "UpsertWorkflowSearchAttributesCommandAttributes";
                let Some(attributes) = &a.search_attributes else {
                    return Err(bad(cause, format!("{what}.search_attributes is required")));
                };
                if attributes.indexed_fields.is_empty() {
                    return Err(bad(
                        cause,
                        format!("{what}.search_attributes.indexed_fields is required"),
                    ));
                }
                check_size(
                    attributes.encoded_len(),
                    &format!("{what}.search_attributes"),
                    cause,
                )?;
            }
            C::ModifyWorkflowPropertiesCommandAttributes(a) => {
                let what = "ModifyWorkflowPropertiesCommandAttributes";
                let Some(memo) = &a.upserted_memo else {
                    return Err(bad(cause, format!("{what}.upserted_memo is required")));
                };
                if memo.fields.is_empty() {
                    return Err(bad(
                        cause,
                        format!("{what}.upserted_memo.fields is required"),
                    ));
                }
                check_size(memo.encoded_len(), &format!("{what}.upserted_memo"), cause)?;
            }
            C::ProtocolMessageCommandAttributes(a) => {
                let what = "ProtocolMessageCommandAttributes";
                check_name(&a.message_id, &format!("{what}.message_id"), true, cause)?;
                let Some(message) = messages.iter().find(|m| m.id == a.message_id) else {
                    return Err(bad(
                        cause,
                        format!(
                            "ProtocolMessageCommand referenced absent message ID {}",
                            a.message_id
                        ),
                    ));
                };
                return Err(update_not_found(message));
            }
            C::ScheduleNexusOperationCommandAttributes(a) => {
                // No Nexus endpoints exist on this server, so every one is unknown.
                return Err(bad(cause, format!("endpoint {:?} not found", a.endpoint)));
            }
            C::RequestCancelNexusOperationCommandAttributes(a) => {
                // Nor, then, any Nexus operation to cancel.
                return Err(bad(
                    cause,
                    format!(
                        "requested cancelation for an already complete operation with scheduled event ID of {}",
                        a.scheduled_event_id
                    ),
                ));
            }
        }
    }
    // Messages no command referenced are read after the commands, as Temporal does.
    if let Some(message) = messages.first() {
        return Err(update_not_found(message));
    }
    // The task's completion, its commands' events and the events waiting for it.
    let events = run.history.len() + run.buffered.len() + 1 + commands.len();
    if events > MAX_HISTORY_EVENTS {
        return Err(BadCommand {
            refusal: Refusal::Terminate(Cause::ForceCloseCommand),
            message: format!(
                "Workflow history count exceeds limit: the run has {} events and this task's {} commands would take it to {events}; the limit is {MAX_HISTORY_EVENTS}",
                run.history.len(),
                commands.len()
            ),
        });
    }
    Ok(())
}

/// A message of the update protocol: this server accepts no workflow updates, so it holds
/// none a message could answer.
fn update_not_found(message: &Message) -> BadCommand {
    bad(
        Cause::BadUpdateWorkflowExecutionMessage,
        format!(
            "update {} wasn't found on the server (message {}): this server does not support workflow updates",
            message.protocol_instance_id, message.id
        ),
    )
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
    let Some((run, context)) = state.run_mut(key) else {
        return;
    };
    if !run.is_running() {
        return;
    }
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
        Some(C::CancelWorkflowExecutionCommandAttributes(a)) => runs::close_run(
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
            let target = temporalio_protos::temporal::api::common::v1::WorkflowExecution {
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
            for (name, value) in upserted.indexed_fields.clone() {
                merged.indexed_fields.insert(name, value);
            }
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
                for (name, value) in memo.fields.clone() {
                    merged.fields.insert(name, value);
                }
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
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use proptest::prelude::*;
    use temporalio_protos::temporal::api::command::v1 as cmd;
    use temporalio_protos::temporal::api::common::v1::{
        ActivityType, Memo, Payload, SearchAttributes, WorkflowExecution, WorkflowType,
    };
    use temporalio_protos::temporal::api::failure::v1::Failure;

    use super::*;
    use crate::engine::record::RunState;
    use crate::limits::{MAX_DURATION, MAX_ID_LENGTH};

    fn run() -> Execution {
        Execution::new("default", RunState::default(), Vec::new())
    }

    fn command(kind: CommandType, attributes: C) -> Command {
        Command {
            command_type: kind as i32,
            attributes: Some(attributes),
            ..Default::default()
        }
    }

    fn seconds(seconds: i64) -> Option<prost_types::Duration> {
        Some(prost_types::Duration { seconds, nanos: 0 })
    }

    fn timer(id: &str, after: Option<prost_types::Duration>) -> Command {
        command(
            CommandType::StartTimer,
            C::StartTimerCommandAttributes(cmd::StartTimerCommandAttributes {
                timer_id: id.into(),
                start_to_fire_timeout: after,
            }),
        )
    }

    fn complete() -> C {
        C::CompleteWorkflowExecutionCommandAttributes(Default::default())
    }

    fn check(commands: &mut [Command]) -> Result<(), BadCommand> {
        validate(&run(), commands, &[])
    }

    #[test]
    fn a_type_and_attributes_that_disagree_are_refused_naming_both() {
        let mut commands = [command(CommandType::ScheduleActivityTask, complete())];
        let bad = check(&mut commands).unwrap_err();
        assert_eq!(
            bad.refusal,
            Refusal::FailTask(Cause::BadScheduleActivityAttributes)
        );
        assert!(
            bad.message
                .contains("ScheduleActivityTaskCommandAttributes is not set")
                && bad
                    .message
                    .contains("CompleteWorkflowExecutionCommandAttributes"),
            "{}",
            bad.message
        );
        let mut missing = [Command {
            command_type: CommandType::StartTimer as i32,
            ..Default::default()
        }];
        let bad = check(&mut missing).unwrap_err();
        assert_eq!(
            bad.refusal,
            Refusal::FailTask(Cause::BadStartTimerAttributes)
        );
        assert!(
            bad.message
                .contains("StartTimerCommandAttributes is not set on StartTimerCommand")
        );
    }

    #[test]
    fn an_unknown_or_unspecified_type_refuses_the_request_naming_it() {
        for (kind, name) in [(0, "Unspecified"), (999, "999")] {
            let mut commands = [Command {
                command_type: kind,
                attributes: Some(complete()),
                ..Default::default()
            }];
            let bad = check(&mut commands).unwrap_err();
            assert_eq!(bad.refusal, Refusal::Request);
            assert_eq!(bad.message, format!("unknown command type: {name}"));
            assert_eq!(
                tonic::Status::from(bad.error()).code(),
                tonic::Code::InvalidArgument
            );
        }
    }

    #[test]
    fn a_closing_command_must_come_last() {
        let mut commands = [
            command(CommandType::CompleteWorkflowExecution, complete()),
            timer("t", seconds(1)),
        ];
        let bad = check(&mut commands).unwrap_err();
        assert_eq!(bad.refusal, Refusal::Request);
        assert!(
            bad.message
                .contains("[CompleteWorkflowExecution, StartTimer]")
        );
    }

    #[test]
    fn types_this_server_lacks_are_refused_naming_what_is_missing() {
        let mut update = [command(
            CommandType::ProtocolMessage,
            C::ProtocolMessageCommandAttributes(cmd::ProtocolMessageCommandAttributes {
                message_id: "m1".into(),
            }),
        )];
        let bad = check(&mut update).unwrap_err();
        assert_eq!(
            bad.refusal,
            Refusal::FailTask(Cause::BadUpdateWorkflowExecutionMessage)
        );
        assert!(
            bad.message.contains("absent message ID m1"),
            "{}",
            bad.message
        );
        let mut nexus = [command(
            CommandType::ScheduleNexusOperation,
            C::ScheduleNexusOperationCommandAttributes(
                cmd::ScheduleNexusOperationCommandAttributes {
                    endpoint: "payments".into(),
                    ..Default::default()
                },
            ),
        )];
        let bad = check(&mut nexus).unwrap_err();
        assert_eq!(
            bad.refusal,
            Refusal::FailTask(Cause::BadScheduleNexusOperationAttributes)
        );
        assert!(
            bad.message.contains("\"payments\" not found"),
            "{}",
            bad.message
        );
    }

    #[test]
    fn long_names_negative_durations_and_duplicates_are_refused_with_their_cause() {
        let long = "x".repeat(MAX_ID_LENGTH + 1);
        let bad = check(&mut [timer(&long, seconds(1))]).unwrap_err();
        assert_eq!(
            bad.refusal,
            Refusal::FailTask(Cause::BadStartTimerAttributes)
        );
        assert!(
            bad.message
                .contains("timer_id is 1001 bytes; the limit is 1000")
        );
        let bad = check(&mut [timer("t", seconds(-1))]).unwrap_err();
        assert!(
            bad.message.contains("start_to_fire_timeout is invalid"),
            "{}",
            bad.message
        );
        let bad = check(&mut [timer("t", seconds(1)), timer("t", seconds(1))]).unwrap_err();
        assert_eq!(bad.refusal, Refusal::FailTask(Cause::StartTimerDuplicateId));
    }

    #[test]
    fn an_overlong_timer_is_cut_to_temporals_maximum() {
        let mut commands = [timer("t", seconds(100_000_000_000))];
        check(&mut commands).unwrap();
        let Some(C::StartTimerCommandAttributes(a)) = &commands[0].attributes else {
            unreachable!()
        };
        assert_eq!(
            a.start_to_fire_timeout,
            seconds(MAX_DURATION.as_secs() as i64)
        );
    }

    #[test]
    fn pending_activities_past_the_limit_fail_the_task() {
        let activity = |i: usize| {
            command(
                CommandType::ScheduleActivityTask,
                C::ScheduleActivityTaskCommandAttributes(
                    cmd::ScheduleActivityTaskCommandAttributes {
                        activity_id: i.to_string(),
                        activity_type: Some(ActivityType { name: "a".into() }),
                        start_to_close_timeout: seconds(1),
                        ..Default::default()
                    },
                ),
            )
        };
        let mut commands: Vec<_> = (0..MAX_PENDING_ACTIVITIES).map(activity).collect();
        check(&mut commands).unwrap();
        commands.push(activity(MAX_PENDING_ACTIVITIES));
        let bad = check(&mut commands).unwrap_err();
        assert_eq!(
            bad.refusal,
            Refusal::FailTask(Cause::PendingActivitiesLimitExceeded)
        );
        assert!(
            bad.message.contains("per-workflow limit of 2000"),
            "{}",
            bad.message
        );
    }

    #[test]
    fn commands_past_the_history_limit_terminate_the_run() {
        let mut commands: Vec<_> = (0..MAX_HISTORY_EVENTS)
            .map(|i| timer(&i.to_string(), seconds(1)))
            .collect();
        let bad = check(&mut commands).unwrap_err();
        assert_eq!(bad.refusal, Refusal::Terminate(Cause::ForceCloseCommand));
        assert!(
            bad.message.contains("the limit is 51200"),
            "{}",
            bad.message
        );
        commands.truncate(MAX_HISTORY_EVENTS - 1);
        check(&mut commands).unwrap();
    }

    fn name() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            "[a-z]{1,8}",
            Just("n".repeat(MAX_ID_LENGTH)),
            Just("n".repeat(MAX_ID_LENGTH + 1)),
            Just("h".repeat(1 << 20)),
        ]
    }

    fn any_duration() -> impl Strategy<Value = Option<prost_types::Duration>> {
        prop_oneof![
            Just(None),
            (0i64..100_000, 0i32..1_000_000_000)
                .prop_map(|(seconds, nanos)| Some(prost_types::Duration { seconds, nanos })),
            (any::<i64>(), any::<i32>())
                .prop_map(|(seconds, nanos)| Some(prost_types::Duration { seconds, nanos })),
            Just(Some(prost_types::Duration {
                seconds: i64::MAX,
                nanos: 999_999_999
            })),
        ]
    }

    fn attributes() -> impl Strategy<Value = Option<C>> {
        let payloads = prop_oneof![
            Just(None),
            Just(Some(Payloads {
                payloads: vec![Payload {
                    data: vec![0; MAX_PAYLOAD_SIZE + 1],
                    ..Default::default()
                }]
            })),
        ];
        prop_oneof![
            Just(None),
            (name(), any_duration()).prop_map(|(timer_id, start_to_fire_timeout)| Some(
                C::StartTimerCommandAttributes(cmd::StartTimerCommandAttributes {
                    timer_id,
                    start_to_fire_timeout
                })
            )),
            name().prop_map(|timer_id| Some(C::CancelTimerCommandAttributes(
                cmd::CancelTimerCommandAttributes { timer_id }
            ))),
            (
                name(),
                name(),
                any_duration(),
                any_duration(),
                any_duration(),
                payloads.clone()
            )
                .prop_map(|(id, kind, s2c, st2c, heartbeat, input)| Some(
                    C::ScheduleActivityTaskCommandAttributes(
                        cmd::ScheduleActivityTaskCommandAttributes {
                            activity_id: id,
                            activity_type: Some(ActivityType { name: kind }),
                            schedule_to_close_timeout: s2c,
                            start_to_close_timeout: st2c,
                            heartbeat_timeout: heartbeat,
                            retry_policy: Some(RetryPolicy {
                                initial_interval: heartbeat,
                                ..Default::default()
                            }),
                            input,
                            ..Default::default()
                        }
                    )
                )),
            any::<i64>().prop_map(|scheduled_event_id| Some(
                C::RequestCancelActivityTaskCommandAttributes(
                    cmd::RequestCancelActivityTaskCommandAttributes { scheduled_event_id }
                )
            )),
            payloads.clone().prop_map(|result| Some(
                C::CompleteWorkflowExecutionCommandAttributes(
                    cmd::CompleteWorkflowExecutionCommandAttributes { result }
                )
            )),
            any::<bool>().prop_map(|some| Some(C::FailWorkflowExecutionCommandAttributes(
                cmd::FailWorkflowExecutionCommandAttributes {
                    failure: some.then(Failure::default)
                }
            ))),
            (
                name(),
                name(),
                any_duration(),
                any_duration(),
                payloads.clone()
            )
                .prop_map(|(workflow_id, kind, execution, run, input)| Some(
                    C::StartChildWorkflowExecutionCommandAttributes(
                        cmd::StartChildWorkflowExecutionCommandAttributes {
                            workflow_id,
                            workflow_type: Some(WorkflowType { name: kind }),
                            workflow_execution_timeout: execution,
                            workflow_run_timeout: run,
                            input,
                            ..Default::default()
                        }
                    )
                )),
            (name(), any_duration(), any_duration()).prop_map(|(kind, run, backoff)| Some(
                C::ContinueAsNewWorkflowExecutionCommandAttributes(
                    cmd::ContinueAsNewWorkflowExecutionCommandAttributes {
                        workflow_type: Some(WorkflowType { name: kind }),
                        workflow_run_timeout: run,
                        backoff_start_interval: backoff,
                        ..Default::default()
                    }
                )
            )),
            (name(), name()).prop_map(|(workflow_id, signal_name)| Some(
                C::SignalExternalWorkflowExecutionCommandAttributes(
                    cmd::SignalExternalWorkflowExecutionCommandAttributes {
                        execution: Some(WorkflowExecution {
                            workflow_id,
                            run_id: String::new()
                        }),
                        signal_name,
                        ..Default::default()
                    }
                )
            )),
            name().prop_map(|workflow_id| Some(
                C::RequestCancelExternalWorkflowExecutionCommandAttributes(
                    cmd::RequestCancelExternalWorkflowExecutionCommandAttributes {
                        workflow_id,
                        ..Default::default()
                    }
                )
            )),
            name().prop_map(|marker_name| Some(C::RecordMarkerCommandAttributes(
                cmd::RecordMarkerCommandAttributes {
                    marker_name,
                    ..Default::default()
                }
            ))),
            any::<bool>().prop_map(|some| Some(
                C::UpsertWorkflowSearchAttributesCommandAttributes(
                    cmd::UpsertWorkflowSearchAttributesCommandAttributes {
                        search_attributes: some.then(SearchAttributes::default)
                    }
                )
            )),
            any::<bool>().prop_map(|some| Some(C::ModifyWorkflowPropertiesCommandAttributes(
                cmd::ModifyWorkflowPropertiesCommandAttributes {
                    upserted_memo: some.then(Memo::default)
                }
            ))),
            name().prop_map(|message_id| Some(C::ProtocolMessageCommandAttributes(
                cmd::ProtocolMessageCommandAttributes { message_id }
            ))),
            name().prop_map(|endpoint| Some(C::ScheduleNexusOperationCommandAttributes(
                cmd::ScheduleNexusOperationCommandAttributes {
                    endpoint,
                    ..Default::default()
                }
            ))),
        ]
    }

    fn any_command() -> impl Strategy<Value = Command> {
        let kind = prop_oneof![0i32..20, any::<i32>()];
        (kind, attributes(), any::<bool>()).prop_map(|(kind, attributes, agree)| {
            // Half the time the type is the one the attributes call for.
            let command_type = match (&attributes, agree) {
                (Some(a), true) => attributes_type(a) as i32,
                _ => kind,
            };
            Command {
                command_type,
                attributes,
                ..Default::default()
            }
        })
    }

    /// Commands the validator must accept: known types with their own attributes, valid
    /// names and durations, distinct ids, at most one closing command, last.
    fn valid_commands() -> impl Strategy<Value = Vec<Command>> {
        let one = prop_oneof![
            (0i64..1_000_000_000_000, 0i32..1_000_000_000).prop_map(|(seconds, nanos)| {
                (
                    CommandType::StartTimer,
                    Some(prost_types::Duration { seconds, nanos }),
                )
            }),
            (1i64..1_000_000).prop_map(|s| (CommandType::ScheduleActivityTask, seconds(s))),
            Just((CommandType::RecordMarker, None)),
            Just((CommandType::StartChildWorkflowExecution, None)),
            Just((CommandType::SignalExternalWorkflowExecution, None)),
        ];
        let close = prop_oneof![
            Just(None),
            Just(Some(CommandType::CompleteWorkflowExecution)),
            Just(Some(CommandType::FailWorkflowExecution)),
            Just(Some(CommandType::CancelWorkflowExecution)),
            Just(Some(CommandType::ContinueAsNewWorkflowExecution)),
        ];
        (prop::collection::vec(one, 0..30), close).prop_map(|(open, close)| {
            let mut commands: Vec<Command> = open
                .into_iter()
                .enumerate()
                .map(|(i, (kind, d))| {
                    let id = format!("id-{i}");
                    let attributes = match kind {
                        CommandType::StartTimer => {
                            C::StartTimerCommandAttributes(cmd::StartTimerCommandAttributes {
                                timer_id: id,
                                start_to_fire_timeout: d,
                            })
                        }
                        CommandType::ScheduleActivityTask => {
                            C::ScheduleActivityTaskCommandAttributes(
                                cmd::ScheduleActivityTaskCommandAttributes {
                                    activity_id: id,
                                    activity_type: Some(ActivityType { name: "a".into() }),
                                    start_to_close_timeout: d,
                                    ..Default::default()
                                },
                            )
                        }
                        CommandType::RecordMarker => {
                            C::RecordMarkerCommandAttributes(cmd::RecordMarkerCommandAttributes {
                                marker_name: id,
                                ..Default::default()
                            })
                        }
                        CommandType::StartChildWorkflowExecution => {
                            C::StartChildWorkflowExecutionCommandAttributes(
                                cmd::StartChildWorkflowExecutionCommandAttributes {
                                    workflow_id: id,
                                    workflow_type: Some(WorkflowType { name: "w".into() }),
                                    ..Default::default()
                                },
                            )
                        }
                        _ => C::SignalExternalWorkflowExecutionCommandAttributes(
                            cmd::SignalExternalWorkflowExecutionCommandAttributes {
                                execution: Some(WorkflowExecution {
                                    workflow_id: id,
                                    run_id: String::new(),
                                }),
                                signal_name: "s".into(),
                                ..Default::default()
                            },
                        ),
                    };
                    command(kind, attributes)
                })
                .collect();
            if let Some(kind) = close {
                let attributes = match kind {
                    CommandType::CompleteWorkflowExecution => complete(),
                    CommandType::FailWorkflowExecution => {
                        C::FailWorkflowExecutionCommandAttributes(
                            cmd::FailWorkflowExecutionCommandAttributes {
                                failure: Some(Failure::default()),
                            },
                        )
                    }
                    CommandType::CancelWorkflowExecution => {
                        C::CancelWorkflowExecutionCommandAttributes(Default::default())
                    }
                    _ => C::ContinueAsNewWorkflowExecutionCommandAttributes(Default::default()),
                };
                commands.push(command(kind, attributes));
            }
            commands
        })
    }

    /// Every duration a command carries, as the engine will read it.
    fn durations(command: &Command) -> Vec<Option<prost_types::Duration>> {
        match &command.attributes {
            Some(C::StartTimerCommandAttributes(a)) => vec![a.start_to_fire_timeout],
            Some(C::ScheduleActivityTaskCommandAttributes(a)) => vec![
                a.schedule_to_close_timeout,
                a.start_to_close_timeout,
                a.heartbeat_timeout,
                a.retry_policy.as_ref().and_then(|p| p.initial_interval),
            ],
            Some(C::StartChildWorkflowExecutionCommandAttributes(a)) => {
                vec![a.workflow_execution_timeout, a.workflow_run_timeout]
            }
            Some(C::ContinueAsNewWorkflowExecutionCommandAttributes(a)) => {
                vec![a.workflow_run_timeout, a.backoff_start_interval]
            }
            _ => Vec::new(),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_commands_pass_or_are_refused_with_a_message(
            mut commands in prop::collection::vec(any_command(), 0..8)
        ) {
            match validate(&run(), &mut commands, &[]) {
                Ok(()) => {
                    // What passed is safe to carry out: every duration fits time arithmetic.
                    for d in commands.iter().flat_map(durations) {
                        if let Some(d) = duration(&d) {
                            prop_assert!(d <= MAX_DURATION);
                            prop_assert!(SystemTime::now().checked_add(d).is_some());
                        }
                    }
                }
                Err(bad) => {
                    prop_assert!(!bad.message.is_empty());
                    prop_assert!(!tonic::Status::from(bad.error()).message().is_empty());
                }
            }
        }

        #[test]
        fn valid_commands_pass(mut commands in valid_commands()) {
            let result = validate(&run(), &mut commands, &[]);
            prop_assert!(result.is_ok(), "{:?}", result.err());
        }
    }
}
