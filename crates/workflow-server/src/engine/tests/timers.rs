//! Timers and the run timeout come due by the clock.

use std::time::Duration;

use temporalio_protos::temporal::api::enums::v1::WorkflowExecutionStatus;

use super::*;

#[tokio::test]
async fn a_timer_fires_when_its_time_comes_and_wakes_the_workflow() {
    let h = Harness::new();
    h.start("w").await;
    h.step(vec![timer("t", 60)]).await;
    assert_eq!(h.events("w").last().unwrap(), "TimerStarted");
    h.advance(Duration::from_secs(59)).await;
    assert_eq!(h.events("w").last().unwrap(), "TimerStarted");
    h.advance(Duration::from_secs(1)).await;
    assert_eq!(h.events("w")[5..], ["TimerFired", "WorkflowTaskScheduled"]);
    assert!(h.run("w", |run| run.timers.is_empty()));
}

#[tokio::test]
async fn a_cancelled_timer_never_fires() {
    let h = Harness::new();
    h.start("w").await;
    h.step(vec![timer("t", 60)]).await;
    h.poke("w").await;
    h.step(vec![command(
        CommandType::CancelTimer,
        C::CancelTimerCommandAttributes(cmd::CancelTimerCommandAttributes {
            timer_id: "t".into(),
        }),
    )])
    .await;
    assert_eq!(h.events("w").last().unwrap(), "TimerCanceled");
    h.advance(Duration::from_secs(120)).await;
    assert!(!h.events("w").contains(&"TimerFired".to_string()));
}

#[tokio::test]
async fn a_run_past_its_run_timeout_times_out() {
    let h = Harness::new();
    h.start_with("w", |r| r.workflow_run_timeout = seconds(30))
        .await
        .unwrap();
    h.step(vec![timer("t", 3600)]).await;
    h.advance(Duration::from_secs(29)).await;
    assert!(h.run("w", |run| run.is_running()));
    h.advance(Duration::from_secs(1)).await;
    assert_eq!(h.events("w").last().unwrap(), "WorkflowExecutionTimedOut");
    assert_eq!(
        h.run("w", |run| run.status()),
        WorkflowExecutionStatus::TimedOut
    );
    h.advance(Duration::from_secs(3600)).await;
    assert!(
        !h.events("w").contains(&"TimerFired".to_string()),
        "a closed run's timer is gone"
    );
}
