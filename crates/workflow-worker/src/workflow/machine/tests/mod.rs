//! The replay machine driven without a server: histories come from [`HistoryBuilder`], the
//! workflows are small ones declared beside their tests, one command kind per file.
//!
//! A test plays the server: it builds the events up to a workflow task, applies them, and
//! checks the commands the code issued; for replay it builds the whole history first, as a
//! worker that lost its cache would receive it.

mod activities;
mod children;
mod foreign_wakes;
mod markers;
mod replay;
mod signals;
mod task_info;
mod timers;
mod updates;
mod upserts;
mod watched;

use temporalio_protos::temporal::api::common::v1::Payload;
use workflow_core::prelude::*;
use workflow_core::workflow::runtime::{CommandRequest, WorkflowFactory};

use super::{RunIdentity, RunMachine, TaskError};
use crate::workflow::history_builder::HistoryBuilder;

/// A fresh (uncached) run of `W`.
fn machine<W: Workflow>() -> RunMachine {
    RunMachine::new(
        WorkflowFactory::of::<W>(),
        RunIdentity {
            namespace: "default".into(),
            workflow_id: "wf".into(),
            run_id: "run".into(),
        },
    )
}

/// A history starting `W` with `input`.
fn history<W: Workflow>(input: Payload) -> HistoryBuilder {
    HistoryBuilder::started(W::NAME, vec![input])
}

fn payload(value: impl PayloadValue) -> Payload {
    value.to_payload().expect("test values encode")
}

fn text(value: &str) -> Payload {
    payload(value.to_string())
}

/// Runs the workflow task whose started event ends `history`, on `machine`, which has seen
/// the events before it (or none: then the whole history is replayed first).
fn run_task(
    machine: &mut RunMachine,
    history: &HistoryBuilder,
) -> Result<Vec<CommandRequest>, TaskError> {
    let commands = machine.apply(history.events(), history.last_id())?;
    Ok(commands.expect("the history ends with the task to run"))
}

/// Replays a whole history as `Replayer` does: every task's commands must match.
fn replay<W: Workflow>(history: &HistoryBuilder) -> Result<RunMachine, TaskError> {
    let mut machine = machine::<W>();
    let output = machine.apply(history.events(), 0)?;
    assert!(output.is_none(), "replay runs no task as new work");
    machine.check_all_matched()?;
    Ok(machine)
}

/// The message of a non-determinism error; anything else fails the test.
fn nondeterminism<T>(result: Result<T, TaskError>) -> String {
    match result {
        Err(TaskError::Nondeterminism(message)) => message,
        Err(other) => panic!("expected a non-determinism error, got {other:?}"),
        Ok(_) => panic!("expected a non-determinism error, the history was accepted"),
    }
}

/// One line per command, to compare task outputs readably.
fn describe(commands: &[CommandRequest]) -> Vec<String> {
    commands.iter().map(super::describe_command).collect()
}

/// The result a `CompleteWorkflow` command carries.
fn completed_with<T: PayloadValue>(commands: &[CommandRequest]) -> T {
    match commands.last() {
        Some(CommandRequest::CompleteWorkflow(a)) => {
            let payloads = a.result.as_ref().expect("a result");
            T::from_payload(&payloads.payloads[0]).expect("the result decodes")
        }
        other => panic!("expected the run to complete, its last command is {other:?}"),
    }
}

/// The activity most workflows here call.
const GREET: ActivityRef<String, String> = ActivityRef::new("greet");

fn options() -> ActivityOptions {
    ActivityOptions::start_to_close(Duration::from_secs(10))
}

/// Greets through one activity; a failed activity is reported in the result.
#[workflow]
#[derive(Default)]
struct Greet {}

#[workflow]
impl Greet {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
        match ctx.execute_activity(GREET, name, options()).await {
            Ok(greeting) => Ok(greeting),
            Err(failure) => Ok(failure_text(&failure)),
        }
    }
}

/// `message (cause's message)`, what the workflows here return for a failure.
fn failure_text(failure: &Failure) -> String {
    let cause = failure.cause.as_ref().map(|c| c.message.as_str());
    format!("{} ({})", failure.message, cause.unwrap_or_default())
}
