//! Activity tasks: handed out, answered, retried, timed out, cancelled.

use std::time::Duration;

use temporalio_protos::temporal::api::failure::v1::Failure;
use temporalio_protos::temporal::api::history::v1::history_event::Attributes;

use super::*;
use crate::engine::ActivityAnswer;

async fn answer(h: &Harness, task: &ws::PollActivityTaskQueueResponse, answer: ActivityAnswer) {
    h.engine
        .respond_activity(NAMESPACE, &task.task_token, answer, "tester")
        .await
        .expect("answered");
}

fn failed(message: &str) -> ActivityAnswer {
    ActivityAnswer::Failed(
        Some(Box::new(Failure {
            message: message.into(),
            ..Default::default()
        })),
        None,
    )
}

#[tokio::test]
async fn a_completed_activity_is_recorded_and_wakes_the_workflow() {
    let h = Harness::new();
    h.start("w").await;
    h.step(vec![activity("a", 5, 1)]).await;
    assert_eq!(h.events("w").last().unwrap(), "ActivityTaskScheduled");
    let task = h.poll_activity().await.expect("handed out");
    assert_eq!(task.activity_id, "a");
    assert!(h.poll_activity().await.is_none(), "handed out once");
    answer(&h, &task, ActivityAnswer::Completed(payloads("ok"))).await;
    assert_eq!(
        h.events("w")[5..],
        [
            "ActivityTaskStarted",
            "ActivityTaskCompleted",
            "WorkflowTaskScheduled"
        ]
    );
}

#[tokio::test]
async fn a_timed_out_attempt_is_retried_after_its_backoff_then_times_out_for_good() {
    let h = Harness::new();
    h.start("w").await;
    h.step(vec![activity("a", 5, 2)]).await;
    let first = h.poll_activity().await.unwrap();
    h.advance(Duration::from_secs(5)).await;
    assert_eq!(
        h.events("w").last().unwrap(),
        "ActivityTaskScheduled",
        "a retry writes no event"
    );
    assert!(h.poll_activity().await.is_none(), "backing off");
    h.advance(Duration::from_secs(1)).await;
    let second = h.poll_activity().await.expect("the retry");
    assert_eq!((first.attempt, second.attempt), (1, 2));
    h.advance(Duration::from_secs(5)).await;
    assert_eq!(
        h.events("w")[5..],
        [
            "ActivityTaskStarted",
            "ActivityTaskTimedOut",
            "WorkflowTaskScheduled"
        ]
    );
}

#[tokio::test]
async fn a_failed_attempt_is_retried_and_the_last_failure_is_recorded() {
    let h = Harness::new();
    h.start("w").await;
    h.step(vec![activity("a", 5, 2)]).await;
    let first = h.poll_activity().await.unwrap();
    answer(&h, &first, failed("first")).await;
    h.advance(Duration::from_secs(1)).await;
    let second = h.poll_activity().await.expect("retried");
    // The first attempt's token no longer answers anything.
    let stale = h
        .engine
        .respond_activity(NAMESPACE, &first.task_token, failed("late"), "tester")
        .await
        .unwrap_err();
    assert!(matches!(stale, EngineError::NotFound(_)), "{stale:?}");
    answer(&h, &second, failed("second")).await;
    let (failure, attempt) = h.run("w", |run| {
        let attributes = run
            .history
            .decode_all()
            .into_iter()
            .find_map(|e| match &e.attributes {
                Some(Attributes::ActivityTaskFailedEventAttributes(a)) => Some(a.clone()),
                _ => None,
            });
        let started = run
            .history
            .decode_all()
            .into_iter()
            .find_map(|e| match &e.attributes {
                Some(Attributes::ActivityTaskStartedEventAttributes(a)) => Some(a.attempt),
                _ => None,
            });
        (
            attributes.unwrap().failure.unwrap().message,
            started.unwrap(),
        )
    });
    assert_eq!((failure.as_str(), attempt), ("second", 2));
}

#[tokio::test]
async fn a_heartbeat_learns_that_cancellation_was_requested() {
    let h = Harness::new();
    h.start("w").await;
    h.step(vec![activity("a", 60, 1)]).await;
    let task = h.poll_activity().await.unwrap();
    let heartbeat = || {
        h.engine
            .heartbeat(NAMESPACE, &task.task_token, payloads("50%"))
    };
    assert!(!heartbeat().await.unwrap());
    h.poke("w").await;
    let scheduled = h.run("w", |run| *run.activities.keys().next().unwrap());
    h.step(vec![command(
        CommandType::RequestCancelActivityTask,
        C::RequestCancelActivityTaskCommandAttributes(
            cmd::RequestCancelActivityTaskCommandAttributes {
                scheduled_event_id: scheduled,
            },
        ),
    )])
    .await;
    assert_eq!(h.events("w").last().unwrap(), "ActivityTaskCancelRequested");
    assert!(heartbeat().await.unwrap());
    answer(&h, &task, ActivityAnswer::Canceled(None)).await;
    assert!(h.events("w").contains(&"ActivityTaskCanceled".to_string()));
}

#[tokio::test]
async fn a_heartbeat_timeout_fails_an_attempt_that_stops_heartbeating() {
    let h = Harness::new();
    h.start("w").await;
    let mut schedule = activity("a", 60, 1);
    if let Some(C::ScheduleActivityTaskCommandAttributes(a)) = schedule.attributes.as_mut() {
        a.heartbeat_timeout = seconds(10);
    }
    h.step(vec![schedule]).await;
    let task = h.poll_activity().await.unwrap();
    h.advance(Duration::from_secs(8)).await;
    h.engine
        .heartbeat(NAMESPACE, &task.task_token, None)
        .await
        .unwrap();
    h.advance(Duration::from_secs(8)).await;
    assert_eq!(
        h.events("w").last().unwrap(),
        "ActivityTaskScheduled",
        "the heartbeat kept it alive"
    );
    h.advance(Duration::from_secs(2)).await;
    assert_eq!(h.events("w")[6], "ActivityTaskTimedOut");
}

#[tokio::test]
async fn an_activity_no_worker_takes_within_schedule_to_close_times_out_as_schedule_to_start() {
    use temporalio_protos::temporal::api::enums::v1::TimeoutType;
    use temporalio_protos::temporal::api::failure::v1::failure::FailureInfo;
    let h = Harness::new();
    h.start("w").await;
    // Only schedule-to-close: Temporal fills the other two from it.
    let mut command = activity("a", 5, 1);
    if let Some(C::ScheduleActivityTaskCommandAttributes(a)) = command.attributes.as_mut() {
        a.start_to_close_timeout = None;
        a.schedule_to_close_timeout = seconds(3);
    }
    h.step(vec![command]).await;
    h.advance(Duration::from_secs(3)).await;
    let events = h.run("w", |run| run.history.decode_all());
    let Some(Attributes::ActivityTaskScheduledEventAttributes(scheduled)) =
        events[4].attributes.clone()
    else {
        panic!("event 5 schedules the activity: {:?}", events[4]);
    };
    assert_eq!(scheduled.schedule_to_start_timeout, seconds(3));
    assert_eq!(scheduled.start_to_close_timeout, seconds(3));
    let Some(Attributes::ActivityTaskTimedOutEventAttributes(timed_out)) =
        events[5].attributes.clone()
    else {
        panic!("event 6 times the activity out: {:?}", events[5]);
    };
    let failure = timed_out.failure.unwrap();
    let Some(FailureInfo::TimeoutFailureInfo(info)) = failure.failure_info else {
        panic!("a timeout failure: {failure:?}");
    };
    assert_eq!(info.timeout_type(), TimeoutType::ScheduleToStart);
}
