//! The checks of a completed workflow task's commands, all made before any command is
//! carried out.
//!
//! The checks, their order, the workflow-task-failed cause of each and what a refusal does
//! (refuse the request, fail the task, or terminate the run) follow the Temporal server.

use std::collections::HashSet;

use prost::Message as _;
use temporalio_protos::temporal::api::command::v1::{Command, command::Attributes as C};
use temporalio_protos::temporal::api::common::v1::{Payloads, RetryPolicy};
use temporalio_protos::temporal::api::enums::v1::{CommandType, WorkflowTaskFailedCause as Cause};
use temporalio_protos::temporal::api::protocol::v1::Message;
use temporalio_protos::temporal::api::taskqueue::v1::TaskQueue;

use crate::engine::cron::CronSchedule;
use crate::engine::error::EngineError;
use crate::engine::execution::Execution;
use crate::engine::record::duration;
use crate::engine::updates;
use crate::limits::{
    MAX_HISTORY_EVENTS, MAX_PAYLOAD_SIZE, MAX_PENDING_ACTIVITIES, MAX_PENDING_CANCEL_REQUESTS,
    MAX_PENDING_CHILD_WORKFLOWS, MAX_PENDING_SIGNALS, check_duration, check_length,
    payload_set_size, payloads_size, user_metadata_size,
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
/// messages: each must answer an update the run holds.
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
        // The summary goes onto the command's event, so it is bounded as a payload is.
        check_size(
            user_metadata_size(&command.user_metadata),
            &format!("{kind:?}Command.user_metadata"),
            cause,
        )?;
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
                CronSchedule::check(&a.cron_schedule, &format!("{what}.cron_schedule"))
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
                if !messages.iter().any(|m| m.id == a.message_id) {
                    return Err(bad(
                        cause,
                        format!(
                            "ProtocolMessageCommand referenced absent message ID {}",
                            a.message_id
                        ),
                    ));
                }
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
    updates::check(run, messages)
        .map_err(|message| bad(Cause::BadUpdateWorkflowExecutionMessage, message))?;
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

#[cfg(test)]
mod tests;
