//! A run begins: admission by request id and id policies, the first workflow task.

use std::time::Duration;

use temporalio_protos::temporal::api::enums::v1::WorkflowIdReusePolicy;

use super::*;

#[tokio::test]
async fn a_start_writes_the_started_event_and_schedules_the_first_task() {
    let h = Harness::new();
    h.start("w").await;
    assert_eq!(
        h.events("w"),
        ["WorkflowExecutionStarted", "WorkflowTaskScheduled"]
    );
    let task = h.poll().await;
    assert_eq!(
        names(&task.history.unwrap().events),
        [
            "WorkflowExecutionStarted",
            "WorkflowTaskScheduled",
            "WorkflowTaskStarted"
        ]
    );
}

#[tokio::test]
async fn the_same_request_id_answers_the_same_run_and_another_is_refused() {
    let h = Harness::new();
    let first = h.start("w").await;
    assert_eq!(
        h.start("w").await,
        first,
        "a retried start is the same start"
    );
    let refused = h
        .start_with("w", |r| r.request_id = "another".into())
        .await
        .unwrap_err();
    match refused {
        EngineError::AlreadyStarted { run_id, .. } => assert_eq!(run_id, first),
        other => panic!("expected AlreadyStarted, got {other:?}"),
    }
    assert_eq!(h.events("w").len(), 2, "the refused start wrote nothing");
}

#[tokio::test]
async fn a_start_delay_holds_the_first_task_until_it_passes() {
    let h = Harness::new();
    h.start_with("w", |r| r.workflow_start_delay = seconds(10))
        .await
        .unwrap();
    assert_eq!(h.events("w"), ["WorkflowExecutionStarted"]);
    h.advance(Duration::from_secs(9)).await;
    assert!(h.poll_on(QUEUE).await.is_none(), "too early");
    h.advance(Duration::from_secs(1)).await;
    assert!(h.poll_on(QUEUE).await.is_some());
}

#[tokio::test]
async fn a_closed_workflow_id_starts_again_unless_the_policy_rejects_duplicates() {
    let h = Harness::new();
    let first = h.start("w").await;
    h.step(vec![complete_workflow("done")]).await;
    let second = h
        .start_with("w", |r| r.request_id = "again".into())
        .await
        .unwrap();
    assert_ne!(second, first);
    assert_eq!(h.run("w", |run| run.run_id.clone()), second, "now current");
    h.step(vec![complete_workflow("done")]).await;
    let refused = h
        .start_with("w", |r| {
            r.request_id = "third".into();
            r.workflow_id_reuse_policy = WorkflowIdReusePolicy::RejectDuplicate as i32;
        })
        .await;
    assert!(matches!(refused, Err(EngineError::AlreadyStarted { .. })));
}

#[tokio::test]
async fn a_start_without_a_task_queue_is_refused_naming_the_field() {
    let h = Harness::new();
    let refused = h
        .start_with("w", |r| r.task_queue = None)
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("StartWorkflowExecutionRequest.task_queue is required"),
        "{refused}"
    );
}

#[tokio::test]
async fn run_ids_are_uuid_version_7_and_sort_in_start_order() {
    let h = Harness::new();
    let first = h.start("a").await;
    let second = h.start("b").await;
    for id in [&first, &second] {
        let parsed = uuid::Uuid::parse_str(id).expect("a UUID");
        assert_eq!(parsed.get_version_num(), 7, "{id}");
    }
    assert!(first < second, "{first} then {second}");
}
