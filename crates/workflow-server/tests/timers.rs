//! Durable timers on our server: started, fired, cancelled, as Temporal records them.

use std::time::Duration;

use temporalio_protos::temporal::api::enums::v1::EventType;
use workflow_client::Client;
use workflow_core::failure::FailureInfo;
use workflow_core::prelude::*;
use workflow_server::{RunningServer, ServerOptions};
use workflow_worker::Worker;

#[workflow]
#[derive(Default)]
struct Napper;

#[workflow]
impl Napper {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<bool> {
        let long = ctx.sleep(Duration::from_secs(3600));
        ctx.sleep(Duration::from_millis(50)).await?;
        long.cancel();
        let cancelled = long
            .await
            .is_err_and(|f| matches!(f.info, FailureInfo::Canceled { .. }));
        Ok(cancelled)
    }
}

#[tokio::test]
async fn timers_fire_and_cancel() {
    let server = RunningServer::start(ServerOptions::new()).await.unwrap();
    let client = Client::connect(server.target()).await.unwrap();
    let worker = Worker::new(client.clone(), "timers").register_workflow::<Napper>();
    let stop = worker.shutdown_handle();
    let running = tokio::spawn(worker.run());

    let handle = client
        .start_workflow(Napper::run, (), WorkflowOptions::new("napper", "timers"))
        .await
        .unwrap();
    assert!(
        handle.result().await.unwrap(),
        "the long timer was cancelled"
    );
    let kinds: Vec<EventType> = handle
        .fetch_history()
        .await
        .unwrap()
        .iter()
        .map(|e| e.event_type())
        .collect();
    let count = |kind: EventType| kinds.iter().filter(|k| **k == kind).count();
    assert_eq!(count(EventType::TimerStarted), 2, "{kinds:?}");
    assert_eq!(count(EventType::TimerFired), 1, "{kinds:?}");
    assert_eq!(count(EventType::TimerCanceled), 1, "{kinds:?}");
    assert_eq!(kinds.last(), Some(&EventType::WorkflowExecutionCompleted));

    stop.shutdown();
    running.await.unwrap().unwrap();
    server.shutdown().await.unwrap();
}
