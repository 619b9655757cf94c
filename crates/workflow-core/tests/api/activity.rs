//! Activity contexts outside a worker: how users unit-test their activities.

use std::sync::{Arc, Mutex};

use workflow_core::activity::{
    Activity, ActivityContext, ActivityError, ActivityInfo, CancelReason, HeartbeatSink,
};
use workflow_core::definition::ActivityDefinition;
use workflow_core::payload::{Payload, PayloadValue};

#[derive(Default)]
struct RecordingSink(Mutex<Vec<Vec<Payload>>>);

impl HeartbeatSink for RecordingSink {
    fn record(&self, details: Vec<Payload>) {
        self.0.lock().unwrap().push(details);
    }
}

fn info(attempt: u32) -> ActivityInfo {
    ActivityInfo {
        activity_id: "1".into(),
        activity_type: "count".into(),
        task_queue: "q".into(),
        workflow_namespace: "default".into(),
        workflow_id: "wf".into(),
        workflow_run_id: "run".into(),
        workflow_type: "Wf".into(),
        attempt,
        task_token: vec![1, 2],
        scheduled_time: None,
        started_time: None,
        schedule_to_close_timeout: None,
        start_to_close_timeout: None,
        heartbeat_timeout: None,
    }
}

/// Counts to its input, heartbeating each step, resuming after the last heartbeat.
struct Count;

impl ActivityDefinition for Count {
    type Input = u32;
    type Output = u32;
    fn name(&self) -> &str {
        "count"
    }
}

impl Activity for Count {
    async fn execute(&self, ctx: ActivityContext, to: u32) -> Result<u32, ActivityError> {
        let from = ctx
            .last_heartbeat_details::<u32>()
            .transpose()?
            .unwrap_or(0);
        for step in from..to {
            if ctx.is_cancelled() {
                return Err(ActivityError::cancelled());
            }
            ctx.heartbeat(&(step + 1))?;
        }
        Ok(to - from)
    }
}

#[tokio::test]
async fn heartbeats_reach_the_sink_and_resume_from_the_last_details() {
    let sink = Arc::new(RecordingSink::default());
    let (ctx, _canceller) =
        ActivityContext::new(info(2), vec![2u32.to_payload().unwrap()], sink.clone());
    assert_eq!(Count.execute(ctx, 5).await.unwrap(), 3);
    let beats: Vec<u32> = sink
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|d| u32::from_payload(&d[0]).unwrap())
        .collect();
    assert_eq!(beats, [3, 4, 5]);
}

#[tokio::test]
async fn cancellation_is_observed_and_the_first_reason_wins() {
    let (ctx, canceller) =
        ActivityContext::new(info(1), vec![], Arc::new(RecordingSink::default()));
    assert!(!ctx.is_cancelled());
    canceller.cancel(CancelReason::Requested);
    canceller.cancel(CancelReason::WorkerShutdown);
    assert_eq!(ctx.cancelled().await, CancelReason::Requested);
    assert!(matches!(
        Count.execute(ctx, 3).await,
        Err(ActivityError::Cancelled { .. })
    ));
}

#[test]
fn std_errors_convert_into_retryable_failures_named_after_their_type() {
    let err: ActivityError = "x".parse::<u8>().unwrap_err().into();
    let ActivityError::Failed(failure) = err else {
        panic!("expected a failure");
    };
    assert_eq!(failure.application_type(), Some("ParseIntError"));
    assert_eq!(failure.message, "invalid digit found in string");
}
