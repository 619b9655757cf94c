//! Starting workflows hosted by the Python SDK worker and reading their results.

use std::time::Duration;

use workflow_client::Error;
use workflow_core::options::{RetryPolicy, WorkflowIdConflictPolicy, WorkflowIdReusePolicy};
use workflow_core::payload::{Args, Bytes, PayloadError, PayloadValue, RawPayload};
use workflow_core::protos::temporal::api::history::v1::history_event::Attributes;
use workflow_tests::*;

#[tokio::test]
async fn rust_struct_in_python_dataclass_out() {
    let client = client().await;
    let input = GreetingInput {
        name: "Ada".into(),
        greeting: "Hello".into(),
        times: 2,
    };
    let output = client
        .execute_workflow(GREETING, input, options("greeting"))
        .await
        .unwrap();
    assert_eq!(
        output,
        GreetingOutput {
            message: "Hello, Ada! Hello, Ada!".into(),
            length: 23,
            words: vec![
                "Hello,".into(),
                "Ada!".into(),
                "Hello,".into(),
                "Ada!".into()
            ],
        }
    );
}

#[tokio::test]
async fn start_returns_a_handle_whose_result_is_typed() {
    let client = client().await;
    let options = options("handle");
    let id = options.id.clone();
    let handle = client
        .start_workflow(
            GREETING,
            GreetingInput {
                name: "Grace".into(),
                greeting: "Hi".into(),
                times: 1,
            },
            options,
        )
        .await
        .unwrap();
    assert_eq!(handle.workflow_id(), id);
    assert!(!handle.run_id().unwrap().is_empty());
    let output: GreetingOutput = handle.result().await.unwrap();
    assert_eq!(output.message, "Hi, Grace!");
}

#[tokio::test]
async fn several_arguments_travel_as_several_payloads() {
    let client = client().await;
    let out = client
        .execute_workflow(MULTI_ARG, Args(("a".into(), 2, None)), options("multi"))
        .await
        .unwrap();
    assert_eq!(out, "a|2|None");
    let out = client
        .execute_workflow(
            MULTI_ARG,
            Args(("x".into(), -5, Some("z".into()))),
            options("multi"),
        )
        .await
        .unwrap();
    assert_eq!(out, "x|-5|z");
}

#[tokio::test]
async fn workflow_without_arguments_returning_none_gives_unit() {
    let client = client().await;
    let handle = client
        .start_workflow(NO_ARG, (), options("noarg"))
        .await
        .unwrap();
    handle.result().await.unwrap();
    // The same result read as an Option is None: it was sent as binary/null.
    assert_eq!(handle.result_as::<Option<String>>().await.unwrap(), None);
}

#[tokio::test]
async fn start_by_type_name_and_read_the_result_untyped() {
    let client = client().await;
    let handle = client
        .start_workflow_by_name(
            "MultiArgWorkflow",
            Args(("n".to_string(), 1, "m".to_string())),
            options("byname"),
        )
        .await
        .unwrap();
    assert_eq!(handle.result_as::<String>().await.unwrap(), "n|1|m");
    // A second handle obtained by id reads the same result.
    let again = client.get_workflow_handle(handle.workflow_id());
    assert_eq!(again.result_as::<String>().await.unwrap(), "n|1|m");
}

#[tokio::test]
async fn typed_handle_for_an_existing_workflow() {
    let client = client().await;
    let options = options("existing");
    let id = options.id.clone();
    client
        .start_workflow(
            GREETING,
            GreetingInput {
                name: "Bob".into(),
                greeting: "Yo".into(),
                times: 1,
            },
            options,
        )
        .await
        .unwrap();
    let handle = client.get_workflow_handle_for(GREETING, id);
    let output: GreetingOutput = handle.result().await.unwrap();
    assert_eq!(output.words, ["Yo,", "Bob!"]);
}

#[tokio::test]
async fn nested_json_values_cross_the_language_boundary_unchanged() {
    let client = client().await;
    let value = serde_json::json!({
        "text": "héllo ✓",
        "numbers": [1, -2, 3.5],
        "nested": {"flag": true, "nothing": null},
    });
    let echoed = client
        .execute_workflow(ECHO, value.clone(), options("echo"))
        .await
        .unwrap();
    assert_eq!(echoed, value);
}

#[tokio::test]
async fn python_receives_exactly_the_bytes_rust_encoded() {
    let client = client().await;
    let cases = [
        Bytes::from(vec![0, 1, 2, 255]).to_payload().unwrap(),
        GreetingInput {
            name: "Zoë".into(),
            greeting: "Hej".into(),
            times: 3,
        }
        .to_payload()
        .unwrap(),
        ().to_payload().unwrap(),
    ];
    for sent in cases {
        let seen = client
            .execute_workflow(RAW_ECHO, RawPayload(sent.clone()), options("rawecho"))
            .await
            .unwrap();
        assert_eq!(seen.len(), 1);
        let data = base64_decode(&seen[0].data);
        assert_eq!(data, sent.data);
        assert_eq!(
            base64_decode(&seen[0].metadata["encoding"]),
            sent.metadata["encoding"]
        );
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

#[tokio::test]
async fn starting_a_running_id_again_is_already_started_naming_the_run() {
    let client = client().await;
    let options = options("dup");
    let first = client
        .start_workflow(ACCUMULATOR, (), options.clone())
        .await
        .unwrap();
    let err = client
        .start_workflow(ACCUMULATOR, (), options.clone())
        .await
        .unwrap_err();
    match err {
        Error::AlreadyStarted {
            workflow_id,
            run_id,
        } => {
            assert_eq!(workflow_id, options.id);
            assert_eq!(Some(run_id.as_str()), first.run_id());
        }
        other => panic!("expected AlreadyStarted, got {other:?}"),
    }
    first.terminate("test done").await.unwrap();
}

#[tokio::test]
async fn use_existing_conflict_policy_returns_the_running_run() {
    let client = client().await;
    let options = options("useexisting");
    let first = client
        .start_workflow(ACCUMULATOR, (), options.clone())
        .await
        .unwrap();
    let second = client
        .start_workflow(
            ACCUMULATOR,
            (),
            options.id_conflict_policy(WorkflowIdConflictPolicy::UseExisting),
        )
        .await
        .unwrap();
    assert_eq!(first.run_id(), second.run_id());
    first.terminate("test done").await.unwrap();
}

#[tokio::test]
async fn reject_duplicate_policy_refuses_the_id_of_a_closed_workflow() {
    let client = client().await;
    let options = options("reject").id_reuse_policy(WorkflowIdReusePolicy::RejectDuplicate);
    client
        .execute_workflow(NO_ARG, (), options.clone())
        .await
        .unwrap();
    let err = client
        .start_workflow(NO_ARG, (), options)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::AlreadyStarted { .. }), "{err:?}");
}

#[tokio::test]
async fn result_follows_continue_as_new_to_the_last_run() {
    let client = client().await;
    let handle = client
        .start_workflow(CONTINUE_AS_NEW, 3, options("can"))
        .await
        .unwrap();
    let first_run = handle.run_id().unwrap().to_owned();
    let result = handle.result().await.unwrap();
    let last_run = result.strip_prefix("finished in run ").unwrap();
    assert_ne!(last_run, first_run);
    let description = client
        .get_workflow_handle(handle.workflow_id())
        .describe()
        .await
        .unwrap();
    assert_eq!(description.run_id, last_run);
    assert_eq!(description.first_run_id, first_run);
}

#[tokio::test]
async fn execution_timeout_is_reported_as_timed_out() {
    let client = client().await;
    let err = client
        .execute_workflow(
            WAIT_FOREVER,
            (),
            options("timeout").execution_timeout(Duration::from_secs(1)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TimedOut { .. }), "{err:?}");
}

#[tokio::test]
async fn oversized_input_is_refused_before_anything_is_sent() {
    let client = client().await;
    let options = options("oversized");
    let id = options.id.clone();
    let huge = serde_json::Value::String("x".repeat(3 * 1024 * 1024));
    let err = client
        .start_workflow(ECHO, huge, options)
        .await
        .unwrap_err();
    match err {
        Error::Payload(PayloadError::TooLarge { size, limit }) => {
            assert_eq!(limit, 2 * 1024 * 1024);
            assert!(size > 3 * 1024 * 1024);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    let missing = client.get_workflow_handle(id).describe().await.unwrap_err();
    assert!(matches!(missing, Error::NotFound { .. }), "{missing:?}");
}

#[tokio::test]
async fn the_payload_limit_is_configurable_per_client() {
    let client = workflow_client::ClientOptions::new(address())
        .payload_size_limit(64)
        .connect()
        .await
        .unwrap();
    let err = client
        .start_workflow(
            ECHO,
            serde_json::Value::String("y".repeat(100)),
            options("limit"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Payload(PayloadError::TooLarge { limit: 64, .. })
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_workflow_retry_policy_is_applied_and_result_follows_the_retry() {
    let client = client().await;
    let handle = client
        .start_workflow(
            FAILING,
            "retry-once".to_string(),
            options("retry").retry_policy(
                RetryPolicy::default()
                    .initial_interval(Duration::from_millis(100))
                    .maximum_attempts(3),
            ),
        )
        .await
        .unwrap();
    assert_eq!(handle.result().await.unwrap(), "succeeded on attempt 2");
    let first_run = handle.run_id().unwrap();
    let latest = client
        .get_workflow_handle(handle.workflow_id())
        .describe()
        .await
        .unwrap();
    assert_ne!(latest.run_id, first_run);
    // Without a retry policy the same workflow fails on its first attempt.
    let err = client
        .execute_workflow(FAILING, "retry-once".to_string(), options("noretry"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::WorkflowFailed { ref failure } if failure.application_type() == Some("Transient")),
        "{err:?}"
    );
}

#[tokio::test]
async fn start_delay_postpones_the_first_workflow_task() {
    let client = client().await;
    let handle = client
        .start_workflow(
            NO_ARG,
            (),
            options("delay").start_delay(Duration::from_secs(3600)),
        )
        .await
        .unwrap();
    let description = handle.describe().await.unwrap();
    assert_eq!(
        description.status,
        workflow_client::WorkflowExecutionStatus::Running
    );
    let delay = description
        .execution_time
        .unwrap()
        .duration_since(description.start_time.unwrap())
        .unwrap();
    assert!(delay >= Duration::from_secs(3599), "{delay:?}");
    handle.terminate("test done").await.unwrap();
}

#[tokio::test]
async fn cron_schedule_and_timeouts_are_recorded_in_the_start_event() {
    let client = client().await;
    let handle = client
        .start_workflow(
            NO_ARG,
            (),
            options("cron")
                .cron_schedule("0 0 1 1 *")
                .task_timeout(Duration::from_secs(7))
                .run_timeout(Duration::from_secs(300)),
        )
        .await
        .unwrap();
    let events = handle.fetch_history().await.unwrap();
    let Some(Attributes::WorkflowExecutionStartedEventAttributes(started)) =
        events[0].attributes.clone()
    else {
        panic!(
            "first event is not WorkflowExecutionStarted: {:?}",
            events[0]
        );
    };
    assert_eq!(started.cron_schedule, "0 0 1 1 *");
    assert_eq!(started.workflow_task_timeout.unwrap().seconds, 7);
    assert_eq!(started.workflow_run_timeout.unwrap().seconds, 300);
    assert_eq!(started.identity, client.identity());
    let description = handle.describe().await.unwrap();
    assert_eq!(description.task_timeout, Some(Duration::from_secs(7)));
    handle.terminate("test done").await.unwrap();
}
