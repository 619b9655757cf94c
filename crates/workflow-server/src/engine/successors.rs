//! Ends that may start a run's successor: continue-as-new, completion (a cron workflow's
//! next run), failure and run timeout (a retry per the retry policy, else the next cron
//! run). The closed run names its successor.

use temporalio_protos::temporal::api::common::v1::{Payloads, WorkflowType};
use temporalio_protos::temporal::api::enums::v1::{
    ContinueAsNewInitiator, RetryState, TimeoutType, WorkflowExecutionStatus,
};
use temporalio_protos::temporal::api::failure::v1::{self as failure, Failure};
use temporalio_protos::temporal::api::history::v1::{self as h, history_event::Attributes};

use super::close::close_run;
use super::cron::CronSchedule;
use super::events::normal_queue;
use super::execution::Execution;
use super::record::{self, RunKey, duration, proto_duration};
use super::retry::retry_backoff;
use super::start::{Continued, NewRun, create_run};
use super::state::State;

/// Closes the run with continue-as-new and starts the next one.
pub(crate) fn continue_as_new(
    state: &mut State,
    key: &RunKey,
    completed: i64,
    command: temporalio_protos::temporal::api::command::v1::ContinueAsNewWorkflowExecutionCommandAttributes,
) {
    let run = &state.runs[key];
    let workflow_type = command
        .workflow_type
        .clone()
        .map(|t| t.name)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| run.workflow_type.clone());
    let task_queue = command
        .task_queue
        .clone()
        .map(|q| q.name)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| run.task_queue.clone());
    let run_timeout = duration(&command.workflow_run_timeout).or(duration(&run.run_timeout));
    let task_timeout = duration(&command.workflow_task_timeout).or(duration(&run.task_timeout));
    let new = NewRun {
        namespace: key.0.clone(),
        workflow_id: run.workflow_id.clone(),
        workflow_type: workflow_type.clone(),
        task_queue: task_queue.clone(),
        input: command.input.clone(),
        execution_timeout: duration(&run.execution_timeout),
        run_timeout,
        task_timeout,
        request_id: uuid::Uuid::new_v4().to_string(),
        identity: String::new(),
        header: command.header.clone(),
        memo: command.memo.clone().or_else(|| run.memo.clone()),
        search_attributes: command
            .search_attributes
            .clone()
            .or_else(|| run.search_attributes.clone()),
        retry_policy: command.retry_policy.clone(),
        parent: run.parent.clone(),
        start_delay: duration(&command.backoff_start_interval),
        continued: Some(Continued {
            run_id: run.run_id.clone(),
            first_execution_run_id: run.first_execution_run_id.clone(),
            execution_deadline: record::time(&run.execution_deadline),
            initiator: if command.initiator == 0 {
                ContinueAsNewInitiator::Workflow as i32
            } else {
                command.initiator
            },
            failure: command.failure.clone(),
            last_completion_result: command.last_completion_result.clone(),
        }),
        signal: None,
        user_metadata: None,
        cron_schedule: run.cron_schedule.clone(),
        attempt: 1,
    };
    let new_run_id = create_run(state, new);
    let (run, context) = state.run_mut(key).expect("still there");
    close_run(
        run,
        context,
        WorkflowExecutionStatus::ContinuedAsNew,
        Attributes::WorkflowExecutionContinuedAsNewEventAttributes(
            h::WorkflowExecutionContinuedAsNewEventAttributes {
                new_execution_run_id: new_run_id,
                workflow_type: Some(WorkflowType {
                    name: workflow_type,
                }),
                task_queue: Some(normal_queue(&task_queue)),
                input: command.input,
                workflow_run_timeout: run_timeout.and_then(proto_duration),
                workflow_task_timeout: task_timeout.and_then(proto_duration),
                workflow_task_completed_event_id: completed,
                backoff_start_interval: command.backoff_start_interval,
                initiator: command.initiator,
                last_completion_result: command.last_completion_result,
                header: command.header,
                memo: command.memo,
                search_attributes: command.search_attributes,
                ..Default::default()
            },
        ),
    );
}

/// The run completed; a cron workflow's next run is named in the completed event.
pub(crate) fn complete_run(
    state: &mut State,
    key: &RunKey,
    completed: i64,
    result: Option<Payloads>,
) {
    let new_execution_run_id = next_cron_run(state, key, result.clone(), None);
    let (run, context) = state.run_mut(key).expect("present");
    close_run(
        run,
        context,
        WorkflowExecutionStatus::Completed,
        Attributes::WorkflowExecutionCompletedEventAttributes(
            h::WorkflowExecutionCompletedEventAttributes {
                result,
                workflow_task_completed_event_id: completed,
                new_execution_run_id,
            },
        ),
    );
}

/// The run failed: with a retry policy that allows it, a new run retries it after the
/// backoff, and the failed run names it.
pub(crate) fn fail_run(state: &mut State, key: &RunKey, completed: i64, failure: Option<Failure>) {
    let (retry_state, new_execution_run_id) = retry_or_next_cron_run(state, key, failure.clone());
    let (run, context) = state.run_mut(key).expect("present");
    close_run(
        run,
        context,
        WorkflowExecutionStatus::Failed,
        Attributes::WorkflowExecutionFailedEventAttributes(
            h::WorkflowExecutionFailedEventAttributes {
                failure,
                retry_state: retry_state as i32,
                workflow_task_completed_event_id: completed,
                new_execution_run_id,
            },
        ),
    );
}

/// The run's deadline passed. A run timeout is retried as a failure would be (the retry
/// policy decides, and the new run gets a start-to-close timeout failure); the execution
/// timeout ends the whole chain.
pub(crate) fn time_out_run(state: &mut State, key: &RunKey) {
    let run = &state.runs[key];
    let now = state.context.clock.now();
    let chain_over = record::time(&run.execution_deadline).is_some_and(|d| d <= now);
    let (retry_state, new_execution_run_id) = if chain_over {
        (RetryState::Timeout, String::new())
    } else {
        let failure = Failure {
            message: "workflow timeout".to_string(),
            failure_info: Some(failure::failure::FailureInfo::TimeoutFailureInfo(
                failure::TimeoutFailureInfo {
                    timeout_type: TimeoutType::StartToClose as i32,
                    last_heartbeat_details: None,
                },
            )),
            ..Default::default()
        };
        match retry_or_next_cron_run(state, key, Some(failure)) {
            (RetryState::RetryPolicyNotSet, next) => (RetryState::Timeout, next),
            decided => decided,
        }
    };
    let (run, context) = state.run_mut(key).expect("present");
    close_run(
        run,
        context,
        WorkflowExecutionStatus::TimedOut,
        Attributes::WorkflowExecutionTimedOutEventAttributes(
            h::WorkflowExecutionTimedOutEventAttributes {
                retry_state: retry_state as i32,
                new_execution_run_id,
            },
        ),
    );
}

/// A run ended with `failure` (none: failed without one): the next attempt when its retry
/// policy allows, else a cron workflow's next scheduled run. Answers the retry state and
/// the new run's id (empty without one).
fn retry_or_next_cron_run(
    state: &mut State,
    key: &RunKey,
    failure: Option<Failure>,
) -> (RetryState, String) {
    let (retry_state, retried) = match &failure {
        Some(f) => retry(state, key, f),
        None => (RetryState::RetryPolicyNotSet, String::new()),
    };
    if retry_state == RetryState::InProgress {
        return (retry_state, retried);
    }
    (retry_state, next_cron_run(state, key, None, failure))
}

/// Starts the next attempt of a run that ended with `failure`, if its retry policy allows;
/// answers the retry state and the new run's id (empty without one).
fn retry(state: &mut State, key: &RunKey, failure: &Failure) -> (RetryState, String) {
    let run = &state.runs[key];
    let now = state.context.clock.now();
    let decision = match &run.retry_policy {
        Some(policy) => retry_backoff(
            policy,
            run.attempt,
            failure,
            now,
            record::time(&run.execution_deadline),
        ),
        None => Err(RetryState::RetryPolicyNotSet),
    };
    let backoff = match decision {
        Ok(backoff) => backoff,
        Err(state) => return (state, String::new()),
    };
    let new = NewRun {
        start_delay: Some(backoff).filter(|b| !b.is_zero()),
        continued: Some(Continued {
            run_id: run.run_id.clone(),
            first_execution_run_id: run.first_execution_run_id.clone(),
            execution_deadline: record::time(&run.execution_deadline),
            initiator: ContinueAsNewInitiator::Retry as i32,
            failure: Some(failure.clone()),
            last_completion_result: None,
        }),
        attempt: run.attempt + 1,
        ..successor(key, run)
    };
    (RetryState::InProgress, create_run(state, new))
}

/// A cron workflow's run closed (completed, or failed or timed out for good): the next run
/// starts at the next scheduled time, carrying the result or failure. Answers its run id,
/// empty when the workflow has no schedule.
fn next_cron_run(
    state: &mut State,
    key: &RunKey,
    result: Option<Payloads>,
    failure: Option<Failure>,
) -> String {
    let run = &state.runs[key];
    let Ok(schedule) = CronSchedule::parse(&run.cron_schedule) else {
        return String::new();
    };
    let now = state.context.clock.now();
    let started = record::time(&run.start_time).unwrap_or(now);
    let new = NewRun {
        start_delay: Some(schedule.backoff(started, now)),
        continued: Some(Continued {
            run_id: run.run_id.clone(),
            first_execution_run_id: run.first_execution_run_id.clone(),
            // Each scheduled run gets the whole execution timeout.
            execution_deadline: None,
            initiator: ContinueAsNewInitiator::CronSchedule as i32,
            failure,
            last_completion_result: result,
        }),
        attempt: 1,
        ..successor(key, run)
    };
    create_run(state, new)
}

/// The next run of the same workflow: same type, queue, input, timeouts, memo, search
/// attributes, retry policy, parent and schedule.
fn successor(key: &RunKey, run: &Execution) -> NewRun {
    NewRun {
        namespace: key.0.clone(),
        workflow_id: run.workflow_id.clone(),
        workflow_type: run.workflow_type.clone(),
        task_queue: run.task_queue.clone(),
        input: run.history.first().and_then(|e| match e.attributes {
            Some(Attributes::WorkflowExecutionStartedEventAttributes(a)) => a.input,
            _ => None,
        }),
        execution_timeout: duration(&run.execution_timeout),
        run_timeout: duration(&run.run_timeout),
        task_timeout: duration(&run.task_timeout),
        request_id: uuid::Uuid::new_v4().to_string(),
        memo: run.memo.clone(),
        search_attributes: run.search_attributes.clone(),
        retry_policy: run.retry_policy.clone(),
        parent: run.parent.clone(),
        cron_schedule: run.cron_schedule.clone(),
        // A retry or the next cron run is the same workflow: it keeps its summary.
        user_metadata: run.user_metadata.clone(),
        ..Default::default()
    }
}
