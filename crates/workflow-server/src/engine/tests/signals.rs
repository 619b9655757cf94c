//! Signals to a run: written at once, or after the workflow task in flight.

use super::*;

fn signal(request_id: &str) -> ws::SignalWorkflowExecutionRequest {
    ws::SignalWorkflowExecutionRequest {
        namespace: NAMESPACE.into(),
        workflow_execution: Some(execution("w", "")),
        signal_name: "add".into(),
        input: payloads("1"),
        request_id: request_id.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_signal_is_written_and_wakes_the_workflow() {
    let h = Harness::new();
    h.start("w").await;
    h.step(vec![]).await;
    h.engine.signal(&signal("")).await.unwrap();
    assert_eq!(
        h.events("w")[4..],
        ["WorkflowExecutionSignaled", "WorkflowTaskScheduled"]
    );
}

#[tokio::test]
async fn a_signal_during_a_task_is_written_after_the_task_completes() {
    let h = Harness::new();
    h.start("w").await;
    let task = h.poll().await;
    h.engine.signal(&signal("")).await.unwrap();
    assert_eq!(h.events("w").len(), 3, "held while the task runs");
    h.complete(&task, vec![]).await.unwrap();
    assert_eq!(
        h.events("w")[3..],
        [
            "WorkflowTaskCompleted",
            "WorkflowExecutionSignaled",
            "WorkflowTaskScheduled"
        ]
    );
}

#[tokio::test]
async fn a_repeated_request_id_signals_once() {
    let h = Harness::new();
    h.start("w").await;
    h.step(vec![]).await;
    h.engine.signal(&signal("once")).await.unwrap();
    h.engine.signal(&signal("once")).await.unwrap();
    let signals = h
        .events("w")
        .iter()
        .filter(|e| *e == "WorkflowExecutionSignaled")
        .count();
    assert_eq!(signals, 1);
}

#[tokio::test]
async fn a_signal_to_a_closed_run_is_refused() {
    let h = Harness::new();
    h.start("w").await;
    h.step(vec![complete_workflow("done")]).await;
    let refused = h.engine.signal(&signal("")).await.unwrap_err();
    assert!(matches!(refused, EngineError::NotFound(_)), "{refused:?}");
}
