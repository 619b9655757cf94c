//! Effects across runs: children started and closed, external signals, parent close.

use temporalio_protos::temporal::api::enums::v1::WorkflowExecutionStatus;

use super::*;

const CHILD_QUEUE: &str = "children";

fn start_child(workflow_id: &str) -> Command {
    command(
        CommandType::StartChildWorkflowExecution,
        C::StartChildWorkflowExecutionCommandAttributes(
            cmd::StartChildWorkflowExecutionCommandAttributes {
                workflow_id: workflow_id.into(),
                workflow_type: Some(WorkflowType {
                    name: "Child".into(),
                }),
                task_queue: Some(queue(CHILD_QUEUE)),
                ..Default::default()
            },
        ),
    )
}

#[tokio::test]
async fn a_child_starts_and_its_result_reaches_the_parent() {
    let h = Harness::new();
    h.start("parent").await;
    h.step(vec![start_child("child")]).await;
    assert_eq!(
        h.events("parent")[4..],
        [
            "StartChildWorkflowExecutionInitiated",
            "ChildWorkflowExecutionStarted",
            "WorkflowTaskScheduled"
        ]
    );
    let parent = h.run("child", |run| run.parent.clone()).expect("a parent");
    assert_eq!(parent.workflow_id, "parent");
    let task = h.poll_on(CHILD_QUEUE).await.expect("the child's task");
    h.complete(&task, vec![complete_workflow("grown")])
        .await
        .unwrap();
    h.step(vec![]).await;
    assert!(
        h.events("parent")
            .contains(&"ChildWorkflowExecutionCompleted".to_string())
    );
}

#[tokio::test]
async fn a_child_whose_id_is_taken_fails_to_start_in_the_parent() {
    let h = Harness::new();
    h.start("child").await;
    h.start("parent").await;
    let task = h.poll().await;
    // Whichever run the queue hands out first, the parent's command decides.
    let task = if task.workflow_execution.as_ref().unwrap().workflow_id == "parent" {
        task
    } else {
        h.poll().await
    };
    h.complete(&task, vec![start_child("child")]).await.unwrap();
    assert_eq!(
        h.events("parent")[5..],
        ["StartChildWorkflowExecutionFailed", "WorkflowTaskScheduled"]
    );
}

#[tokio::test]
async fn a_parent_that_closes_terminates_its_running_child() {
    let h = Harness::new();
    h.start("parent").await;
    h.step(vec![start_child("child")]).await;
    h.engine
        .terminate(NAMESPACE, &execution("parent", ""), "done", None, "tester")
        .await
        .unwrap();
    assert_eq!(
        h.run("child", |run| run.status()),
        WorkflowExecutionStatus::Terminated
    );
}

#[tokio::test]
async fn a_signal_to_another_workflow_is_delivered_and_acknowledged() {
    let h = Harness::new();
    h.start_with("target", |r| r.task_queue = Some(queue(CHILD_QUEUE)))
        .await
        .unwrap();
    h.start("sender").await;
    h.step(vec![command(
        CommandType::SignalExternalWorkflowExecution,
        C::SignalExternalWorkflowExecutionCommandAttributes(
            cmd::SignalExternalWorkflowExecutionCommandAttributes {
                execution: Some(execution("target", "")),
                signal_name: "hello".into(),
                ..Default::default()
            },
        ),
    )])
    .await;
    assert!(
        h.events("target")
            .contains(&"WorkflowExecutionSignaled".to_string())
    );
    assert_eq!(
        h.events("sender")[4..],
        [
            "SignalExternalWorkflowExecutionInitiated",
            "ExternalWorkflowExecutionSignaled",
            "WorkflowTaskScheduled"
        ]
    );
}
