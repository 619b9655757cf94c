//! Signals and queries against a Python SDK workflow.

use workflow_client::{Error, QueryRejectCondition, WorkflowExecutionStatus};
use workflow_tests::*;

#[tokio::test]
async fn signals_change_state_that_queries_read_and_the_result_reflects() {
    let client = client().await;
    let handle = client
        .start_workflow(ACCUMULATOR, (), options("acc"))
        .await
        .unwrap();
    for item in ["apple", "avocado", "banana"] {
        handle.signal(ADD_ITEM, item.to_string()).await.unwrap();
    }
    // Signals are delivered in order; a query sees all three.
    assert_eq!(
        handle.query(ITEMS, ()).await.unwrap(),
        ["apple", "avocado", "banana"]
    );
    assert_eq!(
        handle
            .query(COUNT_WITH_PREFIX, "a".to_string())
            .await
            .unwrap(),
        2
    );
    handle.signal(FINISH, ()).await.unwrap();
    let result = handle.result().await.unwrap();
    assert_eq!(
        result,
        AccumulatorResult {
            items: vec!["apple".into(), "avocado".into(), "banana".into()],
            count: 3
        }
    );
}

#[tokio::test]
async fn signals_and_queries_by_name_on_an_untyped_handle() {
    let client = client().await;
    let started = client
        .start_workflow(ACCUMULATOR, (), options("acc-untyped"))
        .await
        .unwrap();
    let handle = client.get_workflow_handle(started.workflow_id());
    handle
        .signal_by_name("add_item", "kiwi".to_string())
        .await
        .unwrap();
    let items: Vec<String> = handle.query_by_name("items", ()).await.unwrap();
    assert_eq!(items, ["kiwi"]);
    handle.signal_by_name("finish", ()).await.unwrap();
    let result: AccumulatorResult = handle.result_as().await.unwrap();
    assert_eq!(result.count, 1);
}

#[tokio::test]
async fn a_failing_query_handler_is_query_failed_with_its_message() {
    let client = client().await;
    let handle = client
        .start_workflow(ACCUMULATOR, (), options("acc-failq"))
        .await
        .unwrap();
    let err = handle.query(FAIL_QUERY, ()).await.unwrap_err();
    match err {
        Error::QueryFailed { message, .. } => {
            assert!(message.contains("query exploded"), "{message}")
        }
        other => panic!("expected QueryFailed, got {other:?}"),
    }
    let err = handle
        .query_by_name::<String>("no_such_query", ())
        .await
        .unwrap_err();
    match err {
        Error::QueryFailed { message, .. } => {
            assert!(message.contains("no_such_query"), "{message}")
        }
        other => panic!("expected QueryFailed, got {other:?}"),
    }
    handle.terminate("test done").await.unwrap();
}

#[tokio::test]
async fn a_query_on_a_closed_workflow_is_rejected_when_asked_to() {
    let client = client().await;
    let handle = client
        .start_workflow(ACCUMULATOR, (), options("acc-rejected"))
        .await
        .unwrap();
    handle.signal(ADD_ITEM, "x".to_string()).await.unwrap();
    handle.signal(FINISH, ()).await.unwrap();
    handle.result().await.unwrap();
    // Without a reject condition, a closed workflow still answers.
    assert_eq!(handle.query(ITEMS, ()).await.unwrap(), ["x"]);
    let strict = handle
        .clone()
        .with_query_reject_condition(QueryRejectCondition::NotOpen);
    let err = strict.query(ITEMS, ()).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::QueryRejected {
                status: WorkflowExecutionStatus::Completed
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn signal_with_start_starts_then_signals_the_running_workflow() {
    let client = client().await;
    let options = options("sws");
    let first = client
        .signal_with_start(
            ACCUMULATOR,
            (),
            options.clone(),
            ADD_ITEM,
            "one".to_string(),
        )
        .await
        .unwrap();
    let second = client
        .signal_with_start(ACCUMULATOR, (), options, ADD_ITEM, "two".to_string())
        .await
        .unwrap();
    assert_eq!(first.run_id(), second.run_id());
    assert_eq!(first.query(ITEMS, ()).await.unwrap(), ["one", "two"]);
    first.signal(FINISH, ()).await.unwrap();
    assert_eq!(first.result().await.unwrap().count, 2);
}

#[tokio::test]
async fn signalling_a_missing_workflow_is_not_found() {
    let client = client().await;
    let err = client
        .get_workflow_handle(unique_id("missing"))
        .signal_by_name("add_item", "x".to_string())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn a_rust_client_updates_a_python_workflow_and_its_validator_rejects() {
    let client = client().await;
    let handle = client
        .start_workflow(ACCUMULATOR, (), options("acc-update"))
        .await
        .unwrap();
    let count = handle
        .execute_update(ADD_AND_COUNT, "plum".to_string())
        .await
        .unwrap();
    assert_eq!(count, 1);
    match handle.execute_update(ADD_AND_COUNT, String::new()).await {
        Err(Error::UpdateFailed { failure }) => {
            assert!(failure.message.contains("an empty item"), "{failure:?}")
        }
        other => panic!("expected the validator to reject, got {other:?}"),
    }
    assert_eq!(handle.query(ITEMS, ()).await.unwrap(), ["plum"]);
    handle.signal(FINISH, ()).await.unwrap();
    assert_eq!(handle.result().await.unwrap().count, 1);
}
