//! Cron workflows on our server: the first run waits for the schedule, each closing run
//! starts the next at the next scheduled time (carrying its result), and a bad schedule is
//! refused naming the field, at start or in a child's start command.

use futures::StreamExt;
use temporalio_protos::temporal::api::enums::v1::{
    ContinueAsNewInitiator, EventType, WorkflowTaskFailedCause,
};
use temporalio_protos::temporal::api::history::v1::history_event::Attributes;
use workflow_client::{Client, Error};
use workflow_core::prelude::*;
use workflow_server::{RunningServer, ServerOptions};

use crate::support::ServerWithWorker;

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

/// Starts a `Tick` child on a schedule that cannot be valid.
#[workflow]
#[derive(Default)]
struct BadParent;

#[workflow]
impl BadParent {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<String> {
        let options = ChildWorkflowOptions::new()
            .id("bad-child")
            .cron_schedule("61 * * * *");
        Ok(ctx.execute_child_workflow(Tick::run, (), options).await?)
    }
}

#[tokio::test]
async fn a_cron_workflow_runs_on_schedule_and_each_run_starts_the_next() {
    // Time skipping turns the hour between runs into no wait at all.
    let setup =
        ServerWithWorker::start(ServerOptions::new().time_skipping(true), "cron", |worker| {
            worker.register_workflow::<Tick>()
        })
        .await;
    let client = &setup.client;

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
    setup.stop().await;
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

#[tokio::test]
async fn a_child_with_a_bad_cron_schedule_fails_the_parents_task_naming_the_field() {
    let setup = ServerWithWorker::start(ServerOptions::new(), "cron", |worker| {
        worker
            .register_workflow::<BadParent>()
            .register_workflow::<Tick>()
    })
    .await;
    let handle = setup
        .client
        .start_workflow(
            BadParent::run,
            (),
            WorkflowOptions::new("bad-parent", "cron"),
        )
        .await
        .unwrap();
    let events = handle.watch_history();
    futures::pin_mut!(events);
    let failed = loop {
        let event = events
            .next()
            .await
            .expect("a failed workflow task")
            .unwrap();
        if let Some(Attributes::WorkflowTaskFailedEventAttributes(failed)) = event.attributes {
            break failed;
        }
    };
    assert_eq!(
        failed.cause(),
        WorkflowTaskFailedCause::BadStartChildExecutionAttributes
    );
    let message = failed.failure.unwrap().message;
    assert!(
        message.contains("StartChildWorkflowExecutionCommandAttributes.cron_schedule is invalid"),
        "{message}"
    );
    handle.terminate("test over").await.unwrap();
    setup.stop().await;
}
