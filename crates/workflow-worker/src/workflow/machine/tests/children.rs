//! Child workflows and other workflows: starting a child, its result, a changed child type;
//! signalling and cancelling another workflow.

use workflow_core::prelude::*;

use super::*;

const CHILD: WorkflowRef<String, String> = WorkflowRef::new("Child");

/// Runs the child `child-1` and returns its result.
#[workflow]
#[derive(Default)]
struct Parent {}

#[workflow]
impl Parent {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<String> {
        let options = ChildWorkflowOptions::new().id("child-1");
        Ok(ctx
            .execute_child_workflow(CHILD, "Ada".into(), options)
            .await?)
    }
}

/// Signals the workflow `other`, then asks it to cancel.
#[workflow]
#[derive(Default)]
struct Notifier {}

#[workflow]
impl Notifier {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<String> {
        let other = ctx.external_workflow("other", None);
        other.signal_by_name("ping", &"hello".to_string()).await?;
        other.cancel().await?;
        Ok("done".into())
    }
}

#[test]
fn a_child_is_started_and_its_result_returned() {
    let mut run = machine::<Parent>();
    let mut history = HistoryBuilder::started(Parent::NAME, Vec::new());
    history.workflow_task();
    let commands = run_task(&mut run, &history).unwrap();
    assert_eq!(
        describe(&commands),
        ["StartChildWorkflowExecution(workflow_id=child-1, workflow_type=Child)"]
    );

    history.workflow_task_completed();
    let initiated = history.child_initiated("child-1", "Child");
    let started = history.child_started(initiated);
    history.workflow_task();
    assert!(run_task(&mut run, &history).unwrap().is_empty());

    history.workflow_task_completed();
    history.child_completed(initiated, started, text("Hello from the child"));
    history.workflow_task();
    let commands = run_task(&mut run, &history).unwrap();
    assert_eq!(completed_with::<String>(&commands), "Hello from the child");

    history.workflow_task_completed();
    history.workflow_completed(text("Hello from the child"));
    replay::<Parent>(&history).unwrap();
}

#[test]
fn a_different_child_workflow_type_is_nondeterministic() {
    let mut history = HistoryBuilder::started(Parent::NAME, Vec::new());
    history.completed_workflow_task();
    history.child_initiated("child-1", "OldChild");
    history.workflow_task();
    let message = nondeterminism(run_task(&mut machine::<Parent>(), &history));
    assert!(
        message.contains(
            "history has StartChildWorkflowExecutionInitiated(workflow_id=child-1, workflow_type=OldChild) at event 5"
        ) && message.contains(
            "the workflow issued StartChildWorkflowExecution(workflow_id=child-1, workflow_type=Child)"
        ),
        "{message}"
    );
}

#[test]
fn another_workflow_is_signalled_then_asked_to_cancel() {
    let mut run = machine::<Notifier>();
    let mut history = HistoryBuilder::started(Notifier::NAME, Vec::new());
    history.workflow_task();
    let commands = run_task(&mut run, &history).unwrap();
    assert_eq!(
        describe(&commands),
        ["SignalExternalWorkflowExecution(signal_name=ping)"]
    );

    history.workflow_task_completed();
    let initiated = history.external_signal_initiated("other", "ping");
    history.external_signaled(initiated);
    history.workflow_task();
    let commands = run_task(&mut run, &history).unwrap();
    assert_eq!(
        describe(&commands),
        ["RequestCancelExternalWorkflowExecution(workflow_id=other)"]
    );

    history.workflow_task_completed();
    let initiated = history.external_cancel_initiated("other");
    history.external_cancel_requested(initiated);
    history.workflow_task();
    let commands = run_task(&mut run, &history).unwrap();
    assert_eq!(completed_with::<String>(&commands), "done");

    history.workflow_task_completed();
    history.workflow_completed(text("done"));
    replay::<Notifier>(&history).unwrap();
}

#[test]
fn a_signal_to_another_workflow_history_does_not_have_is_nondeterministic() {
    let mut history = HistoryBuilder::started(Notifier::NAME, Vec::new());
    history.completed_workflow_task();
    history.external_cancel_initiated("other");
    history.workflow_task();
    let message = nondeterminism(run_task(&mut machine::<Notifier>(), &history));
    assert!(
        message.contains("history has RequestCancelExternalWorkflowExecutionInitiated at event 5")
            && message
                .contains("the workflow issued SignalExternalWorkflowExecution(signal_name=ping)"),
        "{message}"
    );
}
