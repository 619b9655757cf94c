//! Starting, describing, reading and terminating workflow executions on our server, through
//! our client; no worker runs them yet.

use std::time::Duration;

use temporalio_protos::temporal::api::history::v1::history_event::Attributes;
use workflow_client::{Client, Error, WorkflowExecutionStatus};
use workflow_core::definition::WorkflowRef;
use workflow_core::options::{WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowOptions};
use workflow_server::{RunningServer, ServerOptions};

const GREETER: WorkflowRef<String, String> = WorkflowRef::new("Greeter");

async fn start() -> (RunningServer, Client) {
    let server = RunningServer::start(ServerOptions::new()).await.unwrap();
    let client = Client::connect(server.target()).await.unwrap();
    (server, client)
}

#[tokio::test]
async fn a_started_workflow_has_its_first_events_and_is_running() {
    let (server, client) = start().await;
    let handle = client
        .start_workflow(
            GREETER,
            "Ada".to_string(),
            WorkflowOptions::new("greet-ada", "greetings")
                .execution_timeout(Duration::from_secs(60)),
        )
        .await
        .unwrap();
    let history = handle.fetch_history().await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(
        history.iter().map(|e| e.event_id).collect::<Vec<_>>(),
        vec![1, 2]
    );
    let Some(Attributes::WorkflowExecutionStartedEventAttributes(started)) = &history[0].attributes
    else {
        panic!("the first event starts the workflow")
    };
    assert_eq!(started.workflow_type.as_ref().unwrap().name, "Greeter");
    assert_eq!(started.task_queue.as_ref().unwrap().name, "greetings");
    assert_eq!(started.original_execution_run_id, handle.run_id().unwrap());
    assert!(matches!(
        history[1].attributes,
        Some(Attributes::WorkflowTaskScheduledEventAttributes(_))
    ));
    let described = handle.describe().await.unwrap();
    assert_eq!(described.status, WorkflowExecutionStatus::Running);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_id_policies_and_the_request_id_decide_what_a_second_start_does() {
    let (server, client) = start().await;
    let options = || WorkflowOptions::new("order-1", "orders");
    let first = client
        .start_workflow(GREETER, "a".into(), options().request_id("req-1"))
        .await
        .unwrap();
    // The same request again is the same run.
    let again = client
        .start_workflow(GREETER, "a".into(), options().request_id("req-1"))
        .await
        .unwrap();
    assert_eq!(again.run_id(), first.run_id());
    // Another request for a running id is refused, naming the running run.
    let refused = client
        .start_workflow(GREETER, "b".into(), options())
        .await
        .unwrap_err();
    let Error::AlreadyStarted {
        workflow_id,
        run_id,
    } = &refused
    else {
        panic!("expected AlreadyStarted, got {refused:?}")
    };
    assert_eq!(workflow_id, "order-1");
    assert_eq!(Some(run_id.as_str()), first.run_id());
    // ..unless the conflict policy says to use it.
    let existing = client
        .start_workflow(
            GREETER,
            "b".into(),
            options().id_conflict_policy(WorkflowIdConflictPolicy::UseExisting),
        )
        .await
        .unwrap();
    assert_eq!(existing.run_id(), first.run_id());

    first.terminate("replaced").await.unwrap();
    assert!(matches!(
        first.result().await,
        Err(Error::Terminated { .. })
    ));
    let rejected = client
        .start_workflow(
            GREETER,
            "c".into(),
            options().id_reuse_policy(WorkflowIdReusePolicy::RejectDuplicate),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(rejected, Error::AlreadyStarted { .. }),
        "{rejected:?}"
    );
    let second = client
        .start_workflow(GREETER, "c".into(), options())
        .await
        .unwrap();
    assert_ne!(second.run_id(), first.run_id());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_result_call_sees_the_termination() {
    let (server, client) = start().await;
    let handle = client
        .start_workflow(GREETER, "x".into(), WorkflowOptions::new("waiting", "q"))
        .await
        .unwrap();
    let waiting = tokio::spawn({
        let handle = handle.clone();
        async move { handle.result().await }
    });
    handle.terminate("stop waiting").await.unwrap();
    let result = waiting.await.unwrap();
    assert!(
        matches!(result, Err(Error::Terminated { .. })),
        "{result:?}"
    );
    let described = handle.describe().await.unwrap();
    assert_eq!(described.status, WorkflowExecutionStatus::Terminated);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_starts_name_the_missing_field_and_unknown_runs_are_not_found() {
    let (server, client) = start().await;
    let error = client
        .start_workflow(GREETER, "x".into(), WorkflowOptions::new("", "q"))
        .await
        .unwrap_err();
    let Error::InvalidArgument { message } = &error else {
        panic!("expected InvalidArgument, got {error:?}")
    };
    assert!(message.contains("workflow_id"), "{message}");
    let error = client
        .start_workflow(GREETER, "x".into(), WorkflowOptions::new("id", ""))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("task_queue"), "{error}");
    let missing = client
        .get_workflow_handle("no-such-workflow")
        .describe()
        .await
        .unwrap_err();
    assert!(matches!(missing, Error::NotFound { .. }), "{missing:?}");
    let other_namespace = Client::connect_with(
        workflow_client::ClientOptions::new(server.target()).namespace("unknown-ns"),
    )
    .await
    .unwrap()
    .start_workflow(GREETER, "x".into(), WorkflowOptions::new("id", "q"))
    .await
    .unwrap_err();
    assert!(
        matches!(other_namespace, Error::NotFound { .. }),
        "{other_namespace:?}"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_history_long_poll_that_times_out_answers_an_empty_page_to_continue_from() {
    use temporalio_protos::temporal::api::common::v1::WorkflowExecution;
    use temporalio_protos::temporal::api::enums::v1::HistoryEventFilterType;
    use temporalio_protos::temporal::api::workflowservice::v1 as ws;

    let (server, client) = start().await;
    client
        .start_workflow(GREETER, "x".into(), WorkflowOptions::new("open", "q"))
        .await
        .unwrap();
    let request = ws::GetWorkflowExecutionHistoryRequest {
        namespace: "default".into(),
        execution: Some(WorkflowExecution {
            workflow_id: "open".into(),
            run_id: String::new(),
        }),
        wait_new_event: true,
        history_event_filter_type: HistoryEventFilterType::CloseEvent as i32,
        ..Default::default()
    };
    let page = client
        .call(|mut s| {
            let mut request = tonic::Request::new(request.clone());
            // The server answers just before the client's deadline.
            request.set_timeout(Duration::from_secs(1));
            async move { s.get_workflow_execution_history(request).await }
        })
        .await
        .unwrap();
    assert!(page.history.unwrap().events.is_empty());
    assert!(!page.next_page_token.is_empty());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn oversized_payloads_and_bad_filters_are_refused_with_the_reason_and_nothing_changes() {
    let server = RunningServer::start(ServerOptions::new()).await.unwrap();
    // The client's own limit would refuse first; lift it to reach the server's.
    let client = workflow_client::ClientOptions::new(server.target())
        .payload_size_limit(8 * 1024 * 1024)
        .connect()
        .await
        .unwrap();
    let huge = "x".repeat(3 * 1024 * 1024);
    let error = client
        .start_workflow(GREETER, huge, WorkflowOptions::new("too-big", "greetings"))
        .await
        .unwrap_err();
    let Error::InvalidArgument { message } = &error else {
        panic!("{error:?}")
    };
    assert!(
        message.contains("StartWorkflowExecutionRequest.input")
            && message.contains("the limit is 2097152"),
        "{message}"
    );
    assert!(matches!(
        client.get_workflow_handle("too-big").describe().await,
        Err(Error::NotFound { .. })
    ));

    client
        .start_workflow(
            GREETER,
            "Ada".into(),
            WorkflowOptions::new("listed", "greetings"),
        )
        .await
        .unwrap();
    let error = client
        .count_workflows("WorkflowId = 'listed' AND Colour = 'red'")
        .await
        .unwrap_err();
    let Error::InvalidArgument { message } = &error else {
        panic!("{error:?}")
    };
    assert!(message.contains("unknown field Colour"), "{message}");
    assert_eq!(
        client
            .count_workflows("WorkflowId = 'listed'")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        client
            .count_workflows("ExecutionStatus = 'Running' AND WorkflowType = 'Greeter'")
            .await
            .unwrap(),
        1
    );
    server.shutdown().await.unwrap();
}

/// Polls the next workflow task of `queue` with a raw gRPC client.
async fn poll_workflow_task(
    service: &mut workflow_client::WorkflowService,
    namespace: &str,
    queue: &str,
) -> temporalio_protos::temporal::api::workflowservice::v1::PollWorkflowTaskQueueResponse {
    use temporalio_protos::temporal::api::taskqueue::v1::TaskQueue;
    use temporalio_protos::temporal::api::workflowservice::v1 as ws;
    service
        .poll_workflow_task_queue(ws::PollWorkflowTaskQueueRequest {
            namespace: namespace.into(),
            task_queue: Some(TaskQueue {
                name: queue.into(),
                ..Default::default()
            }),
            identity: "test".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

#[tokio::test]
async fn task_tokens_cannot_be_forged_altered_or_used_in_another_namespace_or_task() {
    use temporalio_protos::temporal::api::command::v1::{
        Command, ScheduleActivityTaskCommandAttributes, command::Attributes as C,
    };
    use temporalio_protos::temporal::api::common::v1::ActivityType;
    use temporalio_protos::temporal::api::enums::v1::CommandType;
    use temporalio_protos::temporal::api::taskqueue::v1::TaskQueue;
    use temporalio_protos::temporal::api::workflowservice::v1 as ws;

    let server = RunningServer::start(ServerOptions::new().namespace("other"))
        .await
        .unwrap();
    let client = Client::connect(server.target()).await.unwrap();
    let mut service = client.workflow_service();
    let handle = client
        .start_workflow(
            GREETER,
            "Ada".to_string(),
            WorkflowOptions::new("tokens", "tokens"),
        )
        .await
        .unwrap();
    let run_id = handle.run_id().unwrap().to_string();
    let task = poll_workflow_task(&mut service, "default", "tokens").await;
    service
        .respond_workflow_task_completed(ws::RespondWorkflowTaskCompletedRequest {
            namespace: "default".into(),
            task_token: task.task_token.clone(),
            commands: vec![Command {
                command_type: CommandType::ScheduleActivityTask as i32,
                attributes: Some(C::ScheduleActivityTaskCommandAttributes(
                    ScheduleActivityTaskCommandAttributes {
                        activity_id: "1".into(),
                        activity_type: Some(ActivityType {
                            name: "greet".into(),
                        }),
                        task_queue: Some(TaskQueue {
                            name: "tokens".into(),
                            ..Default::default()
                        }),
                        start_to_close_timeout: Some(prost_types::Duration {
                            seconds: 60,
                            nanos: 0,
                        }),
                        ..Default::default()
                    },
                )),
                ..Default::default()
            }],
            identity: "test".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let activity = service
        .poll_activity_task_queue(ws::PollActivityTaskQueueRequest {
            namespace: "default".into(),
            task_queue: Some(TaskQueue {
                name: "tokens".into(),
                ..Default::default()
            }),
            identity: "test".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!activity.task_token.is_empty());
    // Started, task scheduled, started, completed: the activity is the fifth event.
    let scheduled = 5;

    let complete = |namespace: &str, task_token: Vec<u8>| ws::RespondActivityTaskCompletedRequest {
        namespace: namespace.into(),
        task_token,
        identity: "attacker".into(),
        ..Default::default()
    };
    // Built from ids a client can see, in the plain layout tokens once had.
    let forged = format!("default\n{run_id}\n{scheduled}\n1").into_bytes();
    let mut altered = activity.task_token.clone();
    let last = altered.len() - 1;
    altered[last] ^= 0x80;
    for (what, request, expected) in [
        (
            "forged",
            complete("default", forged),
            "not issued by this server",
        ),
        (
            "altered",
            complete("default", altered),
            "not issued by this server",
        ),
        (
            "another namespace",
            complete("other", activity.task_token.clone()),
            "belongs to namespace \"default\", but the request names \"other\"",
        ),
    ] {
        let error = service
            .respond_activity_task_completed(request)
            .await
            .unwrap_err();
        assert_eq!(error.code(), tonic::Code::InvalidArgument, "{what}");
        assert!(error.message().contains(expected), "{what}: {error:?}");
    }
    // An activity's token does not answer a workflow task, nor heartbeat elsewhere.
    let error = service
        .respond_workflow_task_completed(ws::RespondWorkflowTaskCompletedRequest {
            namespace: "default".into(),
            task_token: activity.task_token.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), tonic::Code::InvalidArgument);
    assert!(
        error
            .message()
            .contains("is an activity task, not a workflow task"),
        "{error:?}"
    );
    let error = service
        .record_activity_task_heartbeat(ws::RecordActivityTaskHeartbeatRequest {
            namespace: "other".into(),
            task_token: activity.task_token.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), tonic::Code::InvalidArgument);

    // None of that touched the run; the real token still completes the activity.
    let history = handle.fetch_history().await.unwrap();
    assert!(
        !history.iter().any(|e| matches!(
            e.attributes,
            Some(Attributes::ActivityTaskCompletedEventAttributes(_))
        )),
        "a refused token completed the activity"
    );
    service
        .respond_activity_task_completed(complete("default", activity.task_token))
        .await
        .unwrap();
    let history = handle.fetch_history().await.unwrap();
    assert!(history.iter().any(|e| matches!(
        e.attributes,
        Some(Attributes::ActivityTaskCompletedEventAttributes(_))
    )));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_summary_is_kept_by_signal_with_start_and_an_oversized_one_is_refused() {
    use workflow_core::definition::SignalRef;
    const POKE: SignalRef<WorkflowRef<String, String>, String> = SignalRef::new("poke");
    let (server, client) = start().await;
    let options = WorkflowOptions::new("summarised", "greetings").summary("greets Ada");
    let handle = client
        .signal_with_start(GREETER, "Ada".to_string(), options, POKE, "now".to_string())
        .await
        .unwrap();
    let described = handle.describe().await.unwrap();
    assert_eq!(described.summary.as_deref(), Some("greets Ada"));

    let huge = "x".repeat(workflow_server::MAX_PAYLOAD_SIZE);
    let error = client
        .start_workflow(
            GREETER,
            "Ada".to_string(),
            WorkflowOptions::new("oversized", "greetings").summary(huge),
        )
        .await
        .unwrap_err();
    let Error::InvalidArgument { message } = &error else {
        panic!("expected InvalidArgument, got {error:?}");
    };
    assert!(
        message.contains("StartWorkflowExecutionRequest.user_metadata is"),
        "{message}"
    );
    server.shutdown().await.unwrap();
}
