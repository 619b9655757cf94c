//! Workflow tasks handed out, completed, failed and timed out.

use std::time::Duration;

use temporalio_protos::temporal::api::common::v1::{Memo, SearchAttributes};
use temporalio_protos::temporal::api::history::v1::history_event::Attributes;

use super::*;

#[tokio::test]
async fn a_task_completed_without_commands_records_its_completion() {
    let h = Harness::new();
    h.start("w").await;
    h.step(vec![]).await;
    assert_eq!(
        h.events("w"),
        [
            "WorkflowExecutionStarted",
            "WorkflowTaskScheduled",
            "WorkflowTaskStarted",
            "WorkflowTaskCompleted"
        ]
    );
    assert!(h.poll_on(QUEUE).await.is_none(), "nothing more to do");
}

#[tokio::test]
async fn a_task_not_answered_in_time_times_out_and_is_offered_again() {
    let h = Harness::new();
    h.start_with("w", |r| r.workflow_task_timeout = seconds(5))
        .await
        .unwrap();
    let first = h.poll().await;
    h.advance(Duration::from_secs(4)).await;
    assert_eq!(h.events("w").last().unwrap(), "WorkflowTaskStarted");
    h.advance(Duration::from_secs(1)).await;
    assert_eq!(
        h.events("w")[3..],
        ["WorkflowTaskTimedOut", "WorkflowTaskScheduled"]
    );
    let second = h.poll().await;
    assert_eq!((first.attempt, second.attempt), (1, 2));
    let late = h.complete(&first, vec![]).await.unwrap_err();
    assert!(matches!(late, EngineError::NotFound(_)), "{late:?}");
}

#[tokio::test]
async fn a_failed_task_is_retried_as_the_next_attempt() {
    let h = Harness::new();
    h.start("w").await;
    let first = h.poll().await;
    h.engine
        .fail_workflow_task(ws::RespondWorkflowTaskFailedRequest {
            namespace: NAMESPACE.into(),
            task_token: first.task_token.clone(),
            identity: "tester".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(h.events("w").contains(&"WorkflowTaskFailed".to_string()));
    let second = h.poll().await;
    assert_eq!(second.attempt, 2);
    h.complete(&second, vec![]).await.unwrap();
    assert_eq!(h.events("w").last().unwrap(), "WorkflowTaskCompleted");
}

#[tokio::test]
async fn a_token_answered_once_or_altered_is_refused() {
    let h = Harness::new();
    h.start("w").await;
    let task = h.poll().await;
    let mut forged = task.clone();
    let last = forged.task_token.len() - 1;
    forged.task_token[last] ^= 1;
    let refused = h.complete(&forged, vec![]).await.unwrap_err();
    assert!(matches!(refused, EngineError::Token(_)), "{refused:?}");
    h.complete(&task, vec![]).await.unwrap();
    let again = h.complete(&task, vec![]).await.unwrap_err();
    assert!(matches!(again, EngineError::NotFound(_)), "{again:?}");
    assert_eq!(h.events("w").len(), 4, "each refusal wrote nothing");
}

#[tokio::test]
async fn a_sticky_task_that_nobody_takes_goes_back_to_the_normal_queue() {
    let h = Harness::new();
    h.start("w").await;
    let task = h.poll().await;
    h.engine
        .complete_workflow_task(ws::RespondWorkflowTaskCompletedRequest {
            namespace: NAMESPACE.into(),
            task_token: task.task_token,
            identity: "tester".into(),
            sticky_attributes: Some(
                temporalio_protos::temporal::api::taskqueue::v1::StickyExecutionAttributes {
                    worker_task_queue: Some(queue("sticky")),
                    schedule_to_start_timeout: seconds(3),
                },
            ),
            ..Default::default()
        })
        .await
        .unwrap();
    h.poke("w").await;
    assert!(
        h.poll_on(QUEUE).await.is_none(),
        "offered on the sticky queue"
    );
    h.advance(Duration::from_secs(3)).await;
    let task = h.poll_on(QUEUE).await.expect("back on the normal queue");
    assert!(
        names(&task.history.unwrap().events).contains(&"WorkflowTaskTimedOut".to_string()),
        "the sticky attempt timed out"
    );
}

fn plain(json: &str) -> Payload {
    Payload {
        metadata: [("encoding".to_owned(), b"json/plain".to_vec())].into(),
        data: json.as_bytes().to_vec(),
        ..Default::default()
    }
}

fn null() -> Payload {
    Payload {
        metadata: [("encoding".to_owned(), b"binary/null".to_vec())].into(),
        ..Default::default()
    }
}

fn upserts(memo: &[(&str, Payload)], search: &[(&str, Payload)]) -> Vec<Command> {
    let fields = |pairs: &[(&str, Payload)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    };
    vec![
        command(
            CommandType::ModifyWorkflowProperties,
            C::ModifyWorkflowPropertiesCommandAttributes(
                cmd::ModifyWorkflowPropertiesCommandAttributes {
                    upserted_memo: Some(Memo {
                        fields: fields(memo),
                    }),
                },
            ),
        ),
        command(
            CommandType::UpsertWorkflowSearchAttributes,
            C::UpsertWorkflowSearchAttributesCommandAttributes(
                cmd::UpsertWorkflowSearchAttributesCommandAttributes {
                    search_attributes: Some(SearchAttributes {
                        indexed_fields: fields(search),
                    }),
                },
            ),
        ),
    ]
}

#[tokio::test]
async fn a_null_or_an_empty_list_upserted_removes_the_memo_field_or_search_attribute() {
    let h = Harness::new();
    h.start("w").await;
    h.step(upserts(
        &[
            ("a", plain("1")),
            ("b", plain("\"two\"")),
            ("c", plain("3")),
        ],
        &[("CustomKeyword", plain("\"k\"")), ("CustomInt", plain("5"))],
    ))
    .await;
    h.poke("w").await;
    h.step(upserts(
        &[("a", null()), ("b", plain(" [] ")), ("c", plain("[3]"))],
        &[("CustomKeyword", null()), ("CustomInt", plain("[]"))],
    ))
    .await;
    let (memo, search) = h.run("w", |run| (run.memo.clone(), run.search_attributes.clone()));
    let memo = memo.unwrap().fields;
    assert_eq!(memo.keys().collect::<Vec<_>>(), ["c"], "{memo:?}");
    assert_eq!(
        memo["c"],
        plain("[3]"),
        "a list that is not empty is a value"
    );
    assert!(search.unwrap().indexed_fields.is_empty());
}

#[tokio::test]
async fn a_started_task_reports_the_history_size_before_it() {
    let h = Harness::new();
    h.start("w").await;
    let before = h.run("w", |run| run.history.encoded_size());
    let task = h.poll().await;
    let started = task.history.unwrap().events.pop().unwrap();
    let Some(Attributes::WorkflowTaskStartedEventAttributes(attributes)) = started.attributes
    else {
        panic!("the last event is the task's start: {started:?}");
    };
    assert!(before > 0);
    assert_eq!(attributes.history_size_bytes, before as i64);
    assert!(!attributes.suggest_continue_as_new);
    assert!(attributes.suggest_continue_as_new_reasons.is_empty());
}

#[test]
fn continue_as_new_is_suggested_at_temporals_limits() {
    use crate::engine::workflow_tasks::{
        SUGGEST_CONTINUE_AS_NEW_BYTES, SUGGEST_CONTINUE_AS_NEW_EVENTS, continue_as_new_reasons,
    };
    use temporalio_protos::temporal::api::enums::v1::SuggestContinueAsNewReason as Reason;
    assert!(continue_as_new_reasons(SUGGEST_CONTINUE_AS_NEW_EVENTS - 1, 100).is_empty());
    assert_eq!(
        continue_as_new_reasons(SUGGEST_CONTINUE_AS_NEW_EVENTS, 100),
        [Reason::TooManyHistoryEvents as i32]
    );
    assert_eq!(
        continue_as_new_reasons(3, SUGGEST_CONTINUE_AS_NEW_BYTES),
        [Reason::HistorySizeTooLarge as i32]
    );
    assert_eq!(
        continue_as_new_reasons(
            SUGGEST_CONTINUE_AS_NEW_EVENTS,
            SUGGEST_CONTINUE_AS_NEW_BYTES
        )
        .len(),
        2
    );
}

#[tokio::test]
async fn a_commands_user_metadata_goes_onto_its_event_and_no_other() {
    use temporalio_protos::temporal::api::sdk::v1::UserMetadata;
    let h = Harness::new();
    h.start("w").await;
    let metadata = UserMetadata {
        summary: Some(plain("\"wait for the shop\"")),
        details: None,
    };
    let mut with_summary = timer("t1", 60);
    with_summary.user_metadata = Some(metadata.clone());
    h.step(vec![with_summary, timer("t2", 60)]).await;
    let events = h.run("w", |run| run.history.decode_all());
    let started: Vec<_> = events
        .iter()
        .filter(|e| {
            matches!(
                e.attributes,
                Some(Attributes::TimerStartedEventAttributes(_))
            )
        })
        .map(|e| e.user_metadata.clone())
        .collect();
    assert_eq!(started, [Some(metadata), None]);
    assert!(
        events
            .iter()
            .filter(|e| !matches!(
                e.attributes,
                Some(Attributes::TimerStartedEventAttributes(_))
            ))
            .all(|e| e.user_metadata.is_none())
    );
}
