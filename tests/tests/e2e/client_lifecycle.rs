//! Cancel, terminate, describe, failures, history, visibility and async activity completion.

use std::time::Duration;

use base64::Engine;
use futures::StreamExt;
use workflow_client::{ClientOptions, Error, RpcRetryOptions, WorkflowExecutionStatus};
use workflow_core::failure::{Failure, FailureInfo, RetryState};
use workflow_core::options::{SearchAttributeValue, SearchAttributes, WorkflowOptions};
use workflow_core::payload::PayloadArgs;
use workflow_core::protos::temporal::api::history::v1::history_event::Attributes;
use workflow_tests::*;

#[tokio::test]
async fn cancelling_a_workflow_makes_its_result_cancelled() {
    let client = client().await;
    let handle = client
        .start_workflow(WAIT_FOREVER, (), options("cancel"))
        .await
        .unwrap();
    handle.cancel().await.unwrap();
    let err = handle.result().await.unwrap_err();
    assert!(matches!(err, Error::Cancelled { .. }), "{err:?}");
    assert_eq!(
        handle.describe().await.unwrap().status,
        WorkflowExecutionStatus::Canceled
    );
}

#[tokio::test]
async fn terminating_a_workflow_reports_the_reason() {
    let client = client().await;
    let handle = client
        .start_workflow(WAIT_FOREVER, (), options("terminate"))
        .await
        .unwrap();
    handle.terminate("no longer needed").await.unwrap();
    match handle.result().await.unwrap_err() {
        Error::Terminated {
            reason,
            details,
            identity,
        } => {
            assert_eq!(reason, "no longer needed");
            assert!(details.is_empty(), "{details:?}");
            assert_eq!(identity, client.identity());
        }
        other => panic!("expected Terminated, got {other:?}"),
    }
    assert_eq!(
        handle.describe().await.unwrap().status,
        WorkflowExecutionStatus::Terminated
    );
}

#[tokio::test]
async fn a_termination_carries_its_details_to_the_result_and_the_history() {
    let client = client().await;
    let handle = client
        .start_workflow(WAIT_FOREVER, (), options("terminate-details"))
        .await
        .unwrap();
    handle
        .terminate_with_details("stuck", ("ticket 42".to_string(), 7u32))
        .await
        .unwrap();
    let Error::Terminated {
        reason, details, ..
    } = handle.result().await.unwrap_err()
    else {
        panic!("expected Terminated");
    };
    assert_eq!(reason, "stuck");
    let (ticket, count) = <(String, u32)>::from_payloads(&details).unwrap();
    assert_eq!((ticket.as_str(), count), ("ticket 42", 7));
    let history = handle.fetch_history().await.unwrap();
    let Some(Attributes::WorkflowExecutionTerminatedEventAttributes(terminated)) =
        history.last().and_then(|e| e.attributes.clone())
    else {
        panic!(
            "the last event is not the termination: {:?}",
            history.last()
        );
    };
    assert_eq!(terminated.details.map(|p| p.payloads), Some(details));
}

#[tokio::test]
async fn describe_reports_type_queue_status_memo_and_search_attributes() {
    let client = client().await;
    let options = options("describe")
        .memo("owner", &"team-a".to_string())
        .search_attributes(
            SearchAttributes::new()
                .keyword("CustomKeyword", "describe-test")
                .int("CustomInt", 7),
        )
        .run_timeout(Duration::from_secs(600));
    let id = options.id.clone();
    let handle = client
        .start_workflow(ACCUMULATOR, (), options)
        .await
        .unwrap();
    let description = handle.describe().await.unwrap();
    assert_eq!(description.workflow_id, id);
    assert_eq!(Some(description.run_id.as_str()), handle.run_id());
    assert_eq!(description.workflow_type, "AccumulatorWorkflow");
    assert_eq!(description.task_queue, task_queue());
    assert_eq!(description.status, WorkflowExecutionStatus::Running);
    assert!(description.start_time.is_some());
    assert!(description.close_time.is_none());
    assert_eq!(description.run_timeout, Some(Duration::from_secs(600)));
    assert_eq!(
        description.memo_value::<String>("owner").unwrap().unwrap(),
        "team-a"
    );
    assert_eq!(
        description.search_attributes.get("CustomKeyword"),
        Some(&SearchAttributeValue::Keyword("describe-test".into()))
    );
    assert_eq!(
        description.search_attributes.get("CustomInt"),
        Some(&SearchAttributeValue::Int(7))
    );
    handle.terminate("test done").await.unwrap();
    let closed = handle.describe().await.unwrap();
    assert!(closed.close_time.is_some());
    assert!(closed.status.is_closed());
}

#[tokio::test]
async fn describing_a_missing_workflow_is_not_found() {
    let client = client().await;
    let err = client
        .get_workflow_handle(unique_id("nobody"))
        .describe()
        .await
        .unwrap_err();
    match err {
        Error::NotFound { message } => assert!(!message.is_empty()),
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[tokio::test]
async fn an_application_failure_arrives_with_type_message_details_and_cause() {
    let client = client().await;
    let err = client
        .execute_workflow(FAILING, "application".to_string(), options("fail-app"))
        .await
        .unwrap_err();
    let Error::WorkflowFailed { failure } = err else {
        panic!("expected WorkflowFailed, got {err:?}");
    };
    assert_eq!(failure.message, "workflow failed on purpose");
    assert_eq!(failure.application_type(), Some("PurposefulError"));
    let FailureInfo::Application(app) = &failure.info else {
        panic!("not an application failure: {failure:?}");
    };
    assert!(app.non_retryable);
    let detail: serde_json::Value = failure.detail().unwrap().unwrap();
    assert_eq!(detail, serde_json::json!({"code": 7}));
    assert!(
        !failure.stack_trace.is_empty(),
        "Python sends a stack trace"
    );
    let cause = failure.cause.as_deref().expect("a cause");
    assert_eq!(cause.message, "the root cause");
    assert_eq!(cause.application_type(), Some("RootCause"));
    // The chain is also the std error source chain.
    let err: &dyn std::error::Error = failure.as_ref();
    assert_eq!(
        err.source().unwrap().to_string(),
        "RootCause: the root cause"
    );
}

#[tokio::test]
async fn an_activity_failure_wraps_the_activity_error() {
    let client = client().await;
    let err = client
        .execute_workflow(FAILING, "activity".to_string(), options("fail-act"))
        .await
        .unwrap_err();
    let Error::WorkflowFailed { failure } = err else {
        panic!("expected WorkflowFailed, got {err:?}");
    };
    let FailureInfo::Activity(activity) = &failure.info else {
        panic!("expected an activity failure, got {failure:?}");
    };
    assert_eq!(activity.activity_type, "failing_activity");
    assert_eq!(activity.retry_state, RetryState::MaximumAttemptsReached);
    let cause: &Failure = failure.cause.as_deref().expect("a cause");
    assert_eq!(cause.application_type(), Some("ActivityBoom"));
    assert_eq!(cause.message, "activity blew up");
}

#[tokio::test]
async fn fetch_history_returns_every_event_from_start_to_close() {
    let client = client().await;
    let handle = client
        .start_workflow(
            GREETING,
            GreetingInput {
                name: "H".into(),
                greeting: "Hey".into(),
                times: 1,
            },
            options("history"),
        )
        .await
        .unwrap();
    handle.result().await.unwrap();
    let events = handle.fetch_history().await.unwrap();
    assert!(matches!(
        events.first().and_then(|e| e.attributes.as_ref()),
        Some(Attributes::WorkflowExecutionStartedEventAttributes(_))
    ));
    assert!(matches!(
        events.last().and_then(|e| e.attributes.as_ref()),
        Some(Attributes::WorkflowExecutionCompletedEventAttributes(_))
    ));
    assert!(events.iter().any(|e| matches!(
        e.attributes,
        Some(Attributes::ActivityTaskCompletedEventAttributes(_))
    )));
    let ids: Vec<i64> = events.iter().map(|e| e.event_id).collect();
    assert_eq!(ids, (1..=ids.len() as i64).collect::<Vec<_>>());
}

#[tokio::test]
async fn list_and_count_find_workflows_by_visibility_query() {
    let client = client().await;
    let tag = unique_id("list");
    let mut ids = Vec::new();
    for _ in 0..3 {
        let options = options("listed")
            .search_attributes(SearchAttributes::new().keyword("CustomKeyword", &tag));
        ids.push(options.id.clone());
        client.execute_workflow(NO_ARG, (), options).await.unwrap();
    }
    ids.sort();
    // Visibility is eventually consistent: wait until the list shows all three closed.
    let query = format!("CustomKeyword = '{tag}'");
    let listed = eventually(
        Duration::from_secs(30),
        "3 completed workflows listed",
        || {
            let client = client.clone();
            let query = query.clone();
            async move {
                let mut listed: Vec<_> = client
                    .list_workflows(query)
                    .map(|r| r.unwrap())
                    .collect()
                    .await;
                listed.sort_by(|a, b| a.workflow_id.cmp(&b.workflow_id));
                let done = listed.len() == 3
                    && listed
                        .iter()
                        .all(|w| w.status == WorkflowExecutionStatus::Completed);
                done.then_some(listed)
            }
        },
    )
    .await;
    let listed_ids: Vec<_> = listed.iter().map(|w| w.workflow_id.clone()).collect();
    assert_eq!(listed_ids, ids);
    for workflow in &listed {
        assert_eq!(workflow.workflow_type, "NoArgWorkflow");
        assert_eq!(workflow.task_queue, task_queue());
        assert!(workflow.close_time.is_some());
    }
    let completed = client
        .count_workflows(format!("{query} AND ExecutionStatus = 'Completed'"))
        .await
        .unwrap();
    assert_eq!(completed, 3);
    let running = client
        .count_workflows(format!("{query} AND ExecutionStatus = 'Running'"))
        .await
        .unwrap();
    assert_eq!(running, 0);
}

#[tokio::test]
async fn a_workflows_summary_and_details_are_kept_and_described() {
    let client = client().await;
    let described_options = options("summary")
        .summary("Order 7 for Ada")
        .details("Two items, *express*");
    let handle = client
        .start_workflow(WAIT_FOREVER, (), described_options)
        .await
        .unwrap();
    let described = handle.describe().await.unwrap();
    assert_eq!(described.summary.as_deref(), Some("Order 7 for Ada"));
    assert_eq!(described.details.as_deref(), Some("Two items, *express*"));
    let history = handle.fetch_history().await.unwrap();
    let metadata = history[0]
        .user_metadata
        .clone()
        .expect("the started event has it");
    assert_eq!(metadata.summary.unwrap().data, br#""Order 7 for Ada""#);
    handle.terminate("test done").await.unwrap();
    let plain = client
        .start_workflow(WAIT_FOREVER, (), options("no-summary"))
        .await
        .unwrap();
    let described = plain.describe().await.unwrap();
    assert_eq!((described.summary, described.details), (None, None));
    plain.terminate("test done").await.unwrap();
}

#[tokio::test]
async fn a_count_grouped_by_execution_status_counts_each_status() {
    let client = client().await;
    // Nothing polls this queue: the runs stay running until terminated.
    let queue = format!("nobody-{}", std::process::id());
    let workflow_type = format!("Grouped{}", std::process::id());
    let mut handles = Vec::new();
    for i in 0..3 {
        let id = format!("grouped-{}-{i}", std::process::id());
        let started = client
            .start_workflow_by_name(&workflow_type, (), WorkflowOptions::new(&id, &queue))
            .await
            .unwrap();
        handles.push(started);
    }
    handles[0].terminate("grouped").await.unwrap();
    let query = format!("WorkflowType = '{workflow_type}' GROUP BY ExecutionStatus");
    let counts = eventually(Duration::from_secs(30), "the grouped count", || {
        let client = client.clone();
        let query = query.clone();
        async move {
            let counts = client.count_workflow_groups(query).await.unwrap();
            (counts.count == 3 && counts.groups.len() == 2).then_some(counts)
        }
    })
    .await;
    let groups: Vec<_> = counts
        .groups
        .iter()
        .map(|g| (g.values.clone(), g.count))
        .collect();
    assert_eq!(
        groups,
        vec![
            (vec![serde_json::json!("Running")], 2),
            (vec![serde_json::json!("Terminated")], 1),
        ]
    );
    for handle in &handles[1..] {
        handle.terminate("test done").await.unwrap();
    }
    let other = client
        .count_workflow_groups("GROUP BY WorkflowType")
        .await
        .unwrap_err();
    assert!(matches!(other, Error::InvalidArgument { .. }), "{other:?}");
    let ordered = client
        .count_workflow_groups("ORDER BY StartTime")
        .await
        .unwrap_err();
    assert!(
        matches!(ordered, Error::InvalidArgument { .. }),
        "{ordered:?}"
    );
}

#[tokio::test]
async fn a_malformed_visibility_query_is_invalid_argument() {
    let client = client().await;
    let err = client
        .count_workflows("WorkflowId ==== broken (")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
}

/// Waits in the workflow's history for the task token the Python activity signals out.
async fn activity_task_token(handle: &workflow_client::WorkflowHandle<impl Sized>) -> Vec<u8> {
    let mut events = Box::pin(handle.watch_history());
    while let Some(event) = events.next().await {
        if let Some(Attributes::WorkflowExecutionSignaledEventAttributes(signal)) =
            event.unwrap().attributes
            && signal.signal_name == "activity_token"
        {
            let payload = &signal.input.unwrap().payloads[0];
            let text: String = serde_json::from_slice(&payload.data).unwrap();
            return base64::engine::general_purpose::STANDARD
                .decode(text)
                .unwrap();
        }
    }
    panic!("the workflow closed without the activity sending its task token");
}

#[tokio::test]
async fn an_activity_can_be_completed_by_its_task_token() {
    let client = client().await;
    let handle = client
        .start_workflow(ASYNC_COMPLETION, (), options("async-complete"))
        .await
        .unwrap();
    let token = activity_task_token(&handle).await;
    let activity = client.async_activity_handle(token);
    let beat = activity.heartbeat("halfway".to_string()).await.unwrap();
    assert!(!beat.cancel_requested);
    activity.complete(&"approved".to_string()).await.unwrap();
    assert_eq!(handle.result().await.unwrap(), "approved");
    // The attempt is over: completing it again is not found.
    let err = activity.complete(&"again".to_string()).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn an_activity_can_be_failed_by_its_task_token() {
    let client = client().await;
    let handle = client
        .start_workflow(ASYNC_COMPLETION, (), options("async-fail"))
        .await
        .unwrap();
    let token = activity_task_token(&handle).await;
    client
        .async_activity_handle(token)
        .fail(&Failure::application("Rejected", "the reviewer said no").non_retryable())
        .await
        .unwrap();
    let Error::WorkflowFailed { failure } = handle.result().await.unwrap_err() else {
        panic!("expected WorkflowFailed");
    };
    assert!(
        matches!(failure.info, FailureInfo::Activity(_)),
        "{failure:?}"
    );
    let cause = failure.cause.as_deref().unwrap();
    assert_eq!(cause.application_type(), Some("Rejected"));
    assert_eq!(cause.message, "the reviewer said no");
}

#[tokio::test]
async fn connecting_to_a_dead_server_is_a_connection_error() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = ClientOptions::new(format!("127.0.0.1:{port}"))
        .connect_timeout(Duration::from_secs(2))
        .retry(RpcRetryOptions::disabled())
        .connect()
        .await
        .unwrap_err();
    match err {
        Error::Connection { target, message } => {
            assert_eq!(target, format!("127.0.0.1:{port}"));
            assert!(!message.is_empty());
        }
        other => panic!("expected Connection, got {other:?}"),
    }
}

#[tokio::test]
async fn an_unknown_namespace_is_not_found() {
    let client = ClientOptions::new(address())
        .namespace("no-such-namespace")
        .connect()
        .await
        .unwrap();
    let err = client
        .start_workflow(NO_ARG, (), options("ns"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn invalid_client_configuration_is_a_config_error() {
    let err = ClientOptions::new(address())
        .header("bad header name", "x")
        .connect()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Config(ref m) if m.contains("bad header name")),
        "{err:?}"
    );
    let err = ClientOptions::new(address())
        .tls(workflow_client::TlsOptions {
            client_cert: Some(b"cert".to_vec()),
            ..Default::default()
        })
        .connect()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Config(ref m) if m.contains("client key")),
        "{err:?}"
    );
}
