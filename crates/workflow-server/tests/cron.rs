//! Cron workflows on our server: the first run waits for the schedule, each closing run
//! starts the next at the next scheduled time (carrying its result), and a bad schedule is
//! refused at start naming the field.

use futures::StreamExt;
use temporalio_protos::temporal::api::enums::v1::{ContinueAsNewInitiator, EventType};
use temporalio_protos::temporal::api::history::v1::history_event::Attributes;
use workflow_client::{Client, Error};
use workflow_core::prelude::*;
use workflow_server::{RunningServer, ServerOptions};
use workflow_worker::Worker;

#[workflow]
#[derive(Default)]
struct Tick;

#[workflow]
impl Tick {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>) -> WorkflowResult<String> {
        Ok("tick".to_string())
    }
}

#[tokio::test]
async fn a_cron_workflow_runs_on_schedule_and_each_run_starts_the_next() {
    // Time skipping turns the hour between runs into no wait at all.
    let server = RunningServer::start(ServerOptions::new().time_skipping(true))
        .await
        .unwrap();
    let client = Client::connect(server.target()).await.unwrap();
    let worker = Worker::new(client.clone(), "cron").register_workflow::<Tick>();
    let stop = worker.shutdown_handle();
    let running = tokio::spawn(worker.run());

    let options = WorkflowOptions::new("ticker", "cron").cron_schedule("@every 1h");
    let handle = client.start_workflow(Tick::run, (), options).await.unwrap();
    let first_run = handle.run_id().unwrap().to_owned();
    let run = |id: &str| client.get_workflow_handle("ticker").with_run_id(id);

    // The first run waits for the schedule, then completes naming the next run.
    let mut first = Vec::new();
    let events = run(&first_run).watch_history();
    futures::pin_mut!(events);
    while let Some(event) = events.next().await {
        let event = event.unwrap();
        let done = event.event_type() == EventType::WorkflowExecutionCompleted;
        first.push(event);
        if done {
            break;
        }
    }
    let Some(Attributes::WorkflowExecutionStartedEventAttributes(started)) = &first[0].attributes
    else {
        panic!("a started event");
    };
    let backoff = started.first_workflow_task_backoff.unwrap();
    assert!(
        backoff.seconds > 0 && backoff.seconds <= 3600,
        "waits for the next whole-hour mark: {backoff:?}"
    );
    assert_eq!(started.cron_schedule, "@every 1h");
    let Some(Attributes::WorkflowExecutionCompletedEventAttributes(completed)) =
        &first.last().unwrap().attributes
    else {
        panic!("a completed event");
    };
    assert!(!completed.new_execution_run_id.is_empty());

    // The next run continues it, carrying the result, and waits an hour.
    let second = run(&completed.new_execution_run_id)
        .fetch_history()
        .await
        .unwrap();
    let Some(Attributes::WorkflowExecutionStartedEventAttributes(next)) = &second[0].attributes
    else {
        panic!("a started event");
    };
    assert_eq!(next.initiator(), ContinueAsNewInitiator::CronSchedule);
    assert_eq!(next.continued_execution_run_id, first_run);
    assert_eq!(next.last_completion_result, completed.result);
    assert_eq!(next.cron_schedule, "@every 1h");
    // The next whole hour after the first run's start, less the moments that run took.
    let wait = next.first_workflow_task_backoff.unwrap();
    assert!((3500..=3600).contains(&wait.seconds), "{wait:?}");

    // Terminating stops the schedule.
    client
        .get_workflow_handle("ticker")
        .terminate("enough")
        .await
        .unwrap();
    assert!(matches!(
        handle.result().await,
        Err(Error::Terminated { .. })
    ));
    stop.shutdown();
    running.await.unwrap().unwrap();
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_bad_cron_schedule_is_refused_naming_the_field() {
    let server = RunningServer::start(ServerOptions::new()).await.unwrap();
    let client = Client::connect(server.target()).await.unwrap();
    let options = WorkflowOptions::new("bad-cron", "cron").cron_schedule("61 * * * *");
    match client.start_workflow(Tick::run, (), options).await {
        Err(Error::InvalidArgument { message }) => assert!(
            message.contains("StartWorkflowExecutionRequest.cron_schedule is invalid"),
            "{message}"
        ),
        other => panic!("expected InvalidArgument, got {:?}", other.map(|_| ())),
    }
    server.shutdown().await.unwrap();
}
