//! Hand-made workflow task completions, as a hostile or buggy worker could send them: the
//! server checks each command as Temporal does, refuses what is wrong naming it, and stays up.

use temporalio_protos::temporal::api::command::v1::{self as cmd, Command, command::Attributes};
use temporalio_protos::temporal::api::common::v1::{WorkflowExecution, WorkflowType};
use temporalio_protos::temporal::api::enums::v1::{
    CommandType, EventType, WorkflowTaskFailedCause,
};
use temporalio_protos::temporal::api::history::v1::{HistoryEvent, history_event};
use temporalio_protos::temporal::api::taskqueue::v1::TaskQueue;
use temporalio_protos::temporal::api::workflowservice::v1 as ws;
use workflow_client::{Client, Error};
use workflow_server::{RunningServer, ServerOptions};

async fn start_server() -> (RunningServer, Client) {
    let server = RunningServer::start(ServerOptions::new()).await.unwrap();
    let client = Client::connect(server.target()).await.unwrap();
    (server, client)
}

fn start_request(id: &str, workflow_type: &str, queue: &str) -> ws::StartWorkflowExecutionRequest {
    ws::StartWorkflowExecutionRequest {
        namespace: "default".into(),
        workflow_id: id.into(),
        workflow_type: Some(WorkflowType {
            name: workflow_type.into(),
        }),
        task_queue: Some(TaskQueue {
            name: queue.into(),
            ..Default::default()
        }),
        request_id: format!("{id}-request"),
        ..Default::default()
    }
}

async fn start(client: &Client, request: ws::StartWorkflowExecutionRequest) -> Result<(), Error> {
    client
        .call(|mut s| {
            let request = request.clone();
            async move { s.start_workflow_execution(request).await }
        })
        .await
        .map(drop)
}

/// Starts workflow `id` on its own queue and takes its first workflow task.
async fn first_task(client: &Client, id: &str) -> Vec<u8> {
    start(client, start_request(id, "Hostile", id))
        .await
        .unwrap();
    let poll = ws::PollWorkflowTaskQueueRequest {
        namespace: "default".into(),
        task_queue: Some(TaskQueue {
            name: id.into(),
            ..Default::default()
        }),
        identity: "hand".into(),
        ..Default::default()
    };
    let task = client
        .call(|mut s| {
            let poll = poll.clone();
            async move { s.poll_workflow_task_queue(poll).await }
        })
        .await
        .unwrap();
    assert!(!task.task_token.is_empty());
    task.task_token
}

async fn complete(client: &Client, token: Vec<u8>, commands: Vec<Command>) -> Result<(), Error> {
    let request = ws::RespondWorkflowTaskCompletedRequest {
        namespace: "default".into(),
        task_token: token,
        commands,
        identity: "hand".into(),
        ..Default::default()
    };
    client
        .call(|mut s| {
            let request = request.clone();
            async move { s.respond_workflow_task_completed(request).await }
        })
        .await
        .map(drop)
}

async fn history(client: &Client, id: &str) -> Vec<HistoryEvent> {
    let request = ws::GetWorkflowExecutionHistoryRequest {
        namespace: "default".into(),
        execution: Some(WorkflowExecution {
            workflow_id: id.into(),
            run_id: String::new(),
        }),
        ..Default::default()
    };
    client
        .call(|mut s| {
            let request = request.clone();
            async move { s.get_workflow_execution_history(request).await }
        })
        .await
        .unwrap()
        .history
        .unwrap()
        .events
}

fn event_types(events: &[HistoryEvent]) -> Vec<EventType> {
    events.iter().map(|e| e.event_type()).collect()
}

fn invalid_argument(error: Error) -> String {
    match error {
        Error::InvalidArgument { message } => message,
        other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
    }
}

fn timer(id: &str, seconds: i64) -> Command {
    Command {
        command_type: CommandType::StartTimer as i32,
        attributes: Some(Attributes::StartTimerCommandAttributes(
            cmd::StartTimerCommandAttributes {
                timer_id: id.into(),
                start_to_fire_timeout: Some(prost_types::Duration { seconds, nanos: 0 }),
            },
        )),
        ..Default::default()
    }
}

#[tokio::test]
async fn attributes_of_another_type_do_not_complete_the_workflow_and_fail_the_task_naming_both() {
    let (server, client) = start_server().await;
    let token = first_task(&client, "mismatch").await;
    let disguised = Command {
        command_type: CommandType::ScheduleActivityTask as i32,
        attributes: Some(Attributes::CompleteWorkflowExecutionCommandAttributes(
            Default::default(),
        )),
        ..Default::default()
    };
    let message = invalid_argument(complete(&client, token, vec![disguised]).await.unwrap_err());
    assert!(
        message.contains("ScheduleActivityTaskCommandAttributes is not set")
            && message.contains("CompleteWorkflowExecutionCommandAttributes"),
        "{message}"
    );
    let events = history(&client, "mismatch").await;
    assert!(
        !event_types(&events).contains(&EventType::WorkflowExecutionCompleted),
        "{:?}",
        event_types(&events)
    );
    let failed = events
        .iter()
        .find_map(|e| match &e.attributes {
            Some(history_event::Attributes::WorkflowTaskFailedEventAttributes(a)) => Some(a),
            _ => None,
        })
        .expect("the task failed");
    assert_eq!(
        failed.cause(),
        WorkflowTaskFailedCause::BadScheduleActivityAttributes
    );
    // A new attempt is scheduled for the run, which is still open.
    assert_eq!(
        event_types(&events).last(),
        Some(&EventType::WorkflowTaskScheduled)
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_unknown_command_type_is_invalid_argument_naming_it_and_changes_nothing() {
    let (server, client) = start_server().await;
    let token = first_task(&client, "unknown").await;
    let before = history(&client, "unknown").await.len();
    let unknown = Command {
        command_type: 999,
        ..Default::default()
    };
    let message = invalid_argument(complete(&client, token, vec![unknown]).await.unwrap_err());
    assert_eq!(message, "unknown command type: 999");
    assert_eq!(history(&client, "unknown").await.len(), before);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_start_with_a_one_megabyte_type_or_queue_name_is_refused_naming_the_field_and_limit() {
    let (server, client) = start_server().await;
    let huge = "x".repeat(1 << 20);
    let cases = [
        (
            start_request("big-type", &huge, "q"),
            "StartWorkflowExecutionRequest.workflow_type",
        ),
        (
            start_request("big-queue", "W", &huge),
            "StartWorkflowExecutionRequest.task_queue",
        ),
    ];
    for (request, field) in cases {
        let id = request.workflow_id.clone();
        let message = invalid_argument(start(&client, request).await.unwrap_err());
        assert!(
            message.contains(field) && message.contains("the limit is 1000"),
            "{message}"
        );
        let described = client.get_workflow_handle(&id).describe().await;
        assert!(
            matches!(described, Err(Error::NotFound { .. })),
            "{described:?}"
        );
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn commands_past_the_history_limit_are_refused_and_terminate_the_run() {
    let (server, client) = start_server().await;
    let token = first_task(&client, "too-many").await;
    let commands: Vec<_> = (0..60_000).map(|i| timer(&i.to_string(), 60)).collect();
    let message = invalid_argument(complete(&client, token, commands).await.unwrap_err());
    assert!(
        message.contains("history count exceeds limit") && message.contains("51200"),
        "{message}"
    );
    let events = history(&client, "too-many").await;
    let types = event_types(&events);
    assert!(!types.contains(&EventType::TimerStarted), "{types:?}");
    assert_eq!(types.last(), Some(&EventType::WorkflowExecutionTerminated));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_timer_of_a_hundred_billion_seconds_is_cut_to_a_hundred_years_and_the_server_stays_up() {
    let (server, client) = start_server().await;
    let token = first_task(&client, "long-timer").await;
    complete(&client, token, vec![timer("t", 100_000_000_000)])
        .await
        .unwrap();
    let events = history(&client, "long-timer").await;
    let started = events
        .iter()
        .find_map(|e| match &e.attributes {
            Some(history_event::Attributes::TimerStartedEventAttributes(a)) => Some(a),
            _ => None,
        })
        .expect("the timer started");
    assert_eq!(
        started.start_to_fire_timeout.unwrap().seconds,
        100 * 365 * 24 * 3600
    );
    // Still serving: a negative one on a new workflow is refused, typed.
    let token = first_task(&client, "negative-timer").await;
    let message = invalid_argument(
        complete(&client, token, vec![timer("t", -1)])
            .await
            .unwrap_err(),
    );
    assert!(
        message.contains("BadStartTimerAttributes")
            && message.contains("start_to_fire_timeout is invalid"),
        "{message}"
    );
    server.shutdown().await.unwrap();
}
