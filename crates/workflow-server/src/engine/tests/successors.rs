//! Successor runs: continue-as-new, retries of a failed run, cron.

use std::time::Duration;

use temporalio_protos::temporal::api::enums::v1::WorkflowExecutionStatus;

use super::*;

fn continue_as_new() -> Command {
    command(
        CommandType::ContinueAsNewWorkflowExecution,
        C::ContinueAsNewWorkflowExecutionCommandAttributes(
            cmd::ContinueAsNewWorkflowExecutionCommandAttributes {
                workflow_type: Some(WorkflowType {
                    name: "Greet".into(),
                }),
                task_queue: Some(queue(QUEUE)),
                input: payloads("next"),
                ..Default::default()
            },
        ),
    )
}

#[tokio::test]
async fn continue_as_new_closes_the_run_and_starts_the_next_as_current() {
    let h = Harness::new();
    let first = h.start("w").await;
    h.step(vec![continue_as_new()]).await;
    let (status, last) = h.run_of("w", &first, |run| {
        (
            run.status(),
            names(&run.history.decode_all()).pop().unwrap(),
        )
    });
    assert_eq!(
        (status, last.as_str()),
        (
            WorkflowExecutionStatus::ContinuedAsNew,
            "WorkflowExecutionContinuedAsNew"
        )
    );
    let (next, first_run) = h.run("w", |run| {
        (run.run_id.clone(), run.first_execution_run_id.clone())
    });
    assert_ne!(next, first);
    assert_eq!(first_run, first, "the chain keeps its first run");
    assert_eq!(
        h.events("w"),
        ["WorkflowExecutionStarted", "WorkflowTaskScheduled"]
    );
    let task = h.poll().await;
    assert_eq!(task.workflow_execution.unwrap().run_id, next);
}

#[tokio::test]
async fn a_failed_run_is_retried_as_a_new_run_until_its_attempts_run_out() {
    let h = Harness::new();
    let first = h
        .start_with("w", |r| {
            r.retry_policy = Some(RetryPolicy {
                initial_interval: seconds(1),
                backoff_coefficient: 1.0,
                maximum_attempts: 2,
                ..Default::default()
            })
        })
        .await
        .unwrap();
    h.step(vec![fail_workflow("first")]).await;
    let second = h.run("w", |run| run.run_id.clone());
    assert_ne!(second, first, "a retry run");
    assert_eq!(
        h.run_of("w", &first, |run| run.status()),
        WorkflowExecutionStatus::Failed
    );
    assert!(h.poll_on(QUEUE).await.is_none(), "backing off");
    h.advance(Duration::from_secs(1)).await;
    let task = h.poll().await;
    assert_eq!(h.run("w", |run| run.attempt), 2);
    h.complete(&task, vec![fail_workflow("second")])
        .await
        .unwrap();
    assert_eq!(
        h.run("w", |run| run.run_id.clone()),
        second,
        "no third attempt"
    );
    assert_eq!(
        h.run("w", |run| run.status()),
        WorkflowExecutionStatus::Failed
    );
}

#[tokio::test]
async fn a_cron_workflow_runs_again_at_its_next_time() {
    let h = Harness::new();
    let first = h
        .start_with("w", |r| r.cron_schedule = "* * * * *".into())
        .await
        .unwrap();
    assert!(h.poll_on(QUEUE).await.is_none(), "waits for its first time");
    h.advance(Duration::from_secs(60)).await;
    h.step(vec![complete_workflow("tick")]).await;
    let second = h.run("w", |run| run.run_id.clone());
    assert_ne!(second, first);
    assert!(h.poll_on(QUEUE).await.is_none(), "waits for its next time");
    h.advance(Duration::from_secs(60)).await;
    let task = h.poll().await;
    assert_eq!(task.workflow_execution.unwrap().run_id, second);
}
