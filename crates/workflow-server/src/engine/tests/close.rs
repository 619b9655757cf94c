//! A run ends: completed by its workflow, terminated, asked to cancel.

use temporalio_protos::temporal::api::enums::v1::WorkflowExecutionStatus;
use temporalio_protos::temporal::api::history::v1::history_event::Attributes;

use super::*;

#[tokio::test]
async fn completing_the_workflow_closes_the_run_with_its_result() {
    let h = Harness::new();
    h.start("w").await;
    h.step(vec![complete_workflow("done")]).await;
    assert_eq!(h.events("w").last().unwrap(), "WorkflowExecutionCompleted");
    assert_eq!(
        h.run("w", |run| run.status()),
        WorkflowExecutionStatus::Completed
    );
    assert!(h.poll_on(QUEUE).await.is_none());
}

#[tokio::test]
async fn terminate_closes_a_running_run_and_refuses_a_closed_one() {
    let h = Harness::new();
    h.start("w").await;
    let w = execution("w", "");
    h.engine
        .terminate(NAMESPACE, &w, "enough", None, "tester")
        .await
        .unwrap();
    assert_eq!(h.events("w").last().unwrap(), "WorkflowExecutionTerminated");
    assert_eq!(
        h.run("w", |run| run.status()),
        WorkflowExecutionStatus::Terminated
    );
    let again = h
        .engine
        .terminate(NAMESPACE, &w, "again", None, "tester")
        .await
        .unwrap_err();
    assert!(again.to_string().contains("already completed"), "{again}");
    assert!(h.poll_on(QUEUE).await.is_none(), "its task went with it");
}

#[tokio::test]
async fn a_termination_keeps_its_reason_details_and_identity() {
    let h = Harness::new();
    h.start("w").await;
    h.engine
        .terminate(
            NAMESPACE,
            &execution("w", ""),
            "enough",
            payloads("why"),
            "tester",
        )
        .await
        .unwrap();
    let last = h.run("w", |run| run.history.decode_all().pop().unwrap());
    let Some(Attributes::WorkflowExecutionTerminatedEventAttributes(terminated)) = last.attributes
    else {
        panic!("expected a terminated event, got {last:?}");
    };
    assert_eq!(terminated.reason, "enough");
    assert_eq!(terminated.details, payloads("why"));
    assert_eq!(terminated.identity, "tester");
}

#[tokio::test]
async fn a_cancel_request_is_written_and_the_workflow_decides() {
    let h = Harness::new();
    h.start("w").await;
    h.step(vec![]).await;
    h.engine
        .request_cancel(NAMESPACE, &execution("w", ""), "user", "tester")
        .await
        .unwrap();
    assert_eq!(
        h.events("w")[4..],
        ["WorkflowExecutionCancelRequested", "WorkflowTaskScheduled"]
    );
    assert!(
        h.run("w", |run| run.is_running()),
        "until the workflow says"
    );
    h.step(vec![command(
        CommandType::CancelWorkflowExecution,
        C::CancelWorkflowExecutionCommandAttributes(Default::default()),
    )])
    .await;
    assert_eq!(
        h.run("w", |run| run.status()),
        WorkflowExecutionStatus::Canceled
    );
}

#[tokio::test]
async fn a_failing_workflow_closes_failed_with_its_failure() {
    let h = Harness::new();
    h.start("w").await;
    h.step(vec![fail_workflow("broken")]).await;
    assert_eq!(h.events("w").last().unwrap(), "WorkflowExecutionFailed");
    assert_eq!(
        h.run("w", |run| run.status()),
        WorkflowExecutionStatus::Failed
    );
}
