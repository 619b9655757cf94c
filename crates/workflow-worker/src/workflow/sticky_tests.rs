//! Sticky execution through the executor threads, without a server: a cached run continues
//! from a task that carries only the new events, and the executor asks for the whole history
//! whenever the cached state cannot continue (not cached, a gap, a task of ours that failed).
//!
//! Tasks go through [`Executors::submit`], as the pollers send them, so these tests do not
//! depend on how the cache is laid out.

use std::sync::Arc;

use temporalio_protos::temporal::api::command::v1::Command;
use temporalio_protos::temporal::api::common::v1::{WorkflowExecution, WorkflowType};
use temporalio_protos::temporal::api::enums::v1::CommandType;
use temporalio_protos::temporal::api::history::v1::{History, HistoryEvent};
use temporalio_protos::temporal::api::workflowservice::v1::PollWorkflowTaskQueueResponse;
use workflow_core::prelude::*;
use workflow_core::workflow::runtime::WorkflowFactory;

use super::executor::{Executors, Outcome, WorkflowRegistry};
use super::history_builder::{HistoryBuilder, TASK_QUEUE};

const GREET: ActivityRef<String, String> = ActivityRef::new("greet");

/// Greets through one activity.
#[workflow]
#[derive(Default)]
struct StickyGreet {}

#[workflow]
impl StickyGreet {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
        let options = ActivityOptions::start_to_close(Duration::from_secs(10));
        Ok(ctx.execute_activity(GREET, name, options).await?)
    }
}

fn executors(cache_size: usize) -> Executors {
    let mut registry = WorkflowRegistry::default();
    registry.register(WorkflowFactory::of::<StickyGreet>());
    Executors::start(
        1,
        cache_size,
        "default",
        TASK_QUEUE,
        Arc::new(registry),
        crate::probe::WorkerProbe::default(),
        std::time::Duration::from_secs(2),
    )
}

/// The task the server hands out for the started event that ends `events`.
fn task(events: Vec<HistoryEvent>, started_event_id: i64) -> Box<PollWorkflowTaskQueueResponse> {
    Box::new(PollWorkflowTaskQueueResponse {
        task_token: b"token".to_vec(),
        workflow_execution: Some(WorkflowExecution {
            workflow_id: "wf".into(),
            run_id: "run".into(),
        }),
        workflow_type: Some(WorkflowType {
            name: StickyGreet::NAME.into(),
        }),
        started_event_id,
        history: Some(History { events }),
        ..Default::default()
    })
}

fn commands(outcome: Outcome) -> Vec<Command> {
    match outcome {
        Outcome::Complete { commands, .. } => commands,
        other => panic!("expected the task to complete, got {other:?}"),
    }
}

fn kinds(commands: &[Command]) -> Vec<CommandType> {
    commands
        .iter()
        .map(|c| CommandType::try_from(c.command_type).unwrap())
        .collect()
}

/// The first task, run as new work; returns the history with the activity's events and
/// the next task started, as the server would write them.
async fn first_task_then_activity(executors: &Executors) -> HistoryBuilder {
    let mut history = HistoryBuilder::started(
        StickyGreet::NAME,
        vec!["Ada".to_string().to_payload().unwrap()],
    );
    let started = history.workflow_task();
    let first = commands(
        executors
            .submit(task(history.events().to_vec(), started))
            .await,
    );
    assert_eq!(kinds(&first), [CommandType::ScheduleActivityTask]);
    history.workflow_task_completed();
    let scheduled = history.activity_scheduled("1", "greet");
    let started = history.activity_started(scheduled);
    history.activity_completed(
        scheduled,
        started,
        "Hello, Ada".to_string().to_payload().unwrap(),
    );
    history.workflow_task();
    history
}

fn result_of(commands: &[Command]) -> String {
    use temporalio_protos::temporal::api::command::v1::command::Attributes;
    match commands.last().and_then(|c| c.attributes.as_ref()) {
        Some(Attributes::CompleteWorkflowExecutionCommandAttributes(a)) => {
            String::from_payload(&a.result.as_ref().unwrap().payloads[0]).unwrap()
        }
        other => panic!("expected a completion, got {other:?}"),
    }
}

#[tokio::test]
async fn a_cached_run_completes_a_task_that_carries_only_the_new_events() {
    let executors = executors(10);
    let history = first_task_then_activity(&executors).await;
    let partial = history.events_after(3);
    let outcome = executors.submit(task(partial, history.last_id())).await;
    let commands = commands(outcome);
    assert_eq!(kinds(&commands), [CommandType::CompleteWorkflowExecution]);
    assert_eq!(result_of(&commands), "Hello, Ada");
    executors.stop();
}

#[tokio::test]
async fn without_the_run_cached_a_partial_task_asks_for_the_whole_history() {
    let executors = executors(0);
    let history = first_task_then_activity(&executors).await;
    let outcome = executors
        .submit(task(history.events_after(3), history.last_id()))
        .await;
    assert!(
        matches!(outcome, Outcome::NeedFullHistory(_)),
        "{outcome:?}"
    );
    // Given it all, the run is rebuilt by replay and completes the same way.
    let outcome = executors
        .submit(task(history.events().to_vec(), history.last_id()))
        .await;
    assert_eq!(result_of(&commands(outcome)), "Hello, Ada");
    executors.stop();
}

#[tokio::test]
async fn a_gap_after_the_cached_events_asks_for_the_whole_history() {
    let executors = executors(10);
    let history = first_task_then_activity(&executors).await;
    // Events 4 and 5 are missing: the cached run cannot tell what they held.
    let outcome = executors
        .submit(task(history.events_after(5), history.last_id()))
        .await;
    assert!(
        matches!(outcome, Outcome::NeedFullHistory(_)),
        "{outcome:?}"
    );
    executors.stop();
}

#[tokio::test]
async fn after_a_failed_task_of_ours_the_run_is_replayed_from_the_start() {
    let executors = executors(10);
    let mut history = HistoryBuilder::started(
        StickyGreet::NAME,
        vec!["Ada".to_string().to_payload().unwrap()],
    );
    let started = history.workflow_task();
    commands(
        executors
            .submit(task(history.events().to_vec(), started))
            .await,
    );
    // The server refused that completion; the retried task starts over.
    history.workflow_task_failed();
    let started = history.workflow_task();
    let outcome = executors
        .submit(task(history.events_after(3), started))
        .await;
    assert!(
        matches!(outcome, Outcome::NeedFullHistory(_)),
        "{outcome:?}"
    );
    let outcome = executors
        .submit(task(history.events().to_vec(), started))
        .await;
    assert_eq!(
        kinds(&commands(outcome)),
        [CommandType::ScheduleActivityTask]
    );
    executors.stop();
}
