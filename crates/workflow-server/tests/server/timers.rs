//! Durable timers on our server: started, fired, cancelled, as Temporal records them.

use std::time::Duration;

use temporalio_protos::temporal::api::enums::v1::EventType;
use workflow_core::failure::FailureInfo;
use workflow_core::prelude::*;
use workflow_server::ServerOptions;

use crate::support::ServerWithWorker;

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
    let setup = ServerWithWorker::start(ServerOptions::new(), "timers", |worker| {
        worker.register_workflow::<Napper>()
    })
    .await;
    let client = &setup.client;

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

    setup.stop().await;
}
