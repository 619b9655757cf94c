//! Signals on our server: delivered in order however they interleave with workflow tasks
//! (those arriving while a task runs are written after it); refused for closed runs.

use workflow_client::Error;
use workflow_core::prelude::*;
use workflow_server::ServerOptions;

use crate::support::ServerWithWorker;

#[workflow]
#[derive(Default)]
struct Collector {
    items: Vec<String>,
    done: bool,
}

#[workflow]
impl Collector {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<Vec<String>> {
        ctx.wait_condition(|s: &Self| s.done).await;
        Ok(ctx.state(|s| s.items.clone()))
    }

    #[signal]
    fn collect(&mut self, item: String) {
        self.items.push(item);
    }

    #[signal]
    fn done(&mut self) {
        self.done = true;
    }
}

#[tokio::test]
async fn signals_arrive_in_order_and_closed_runs_refuse_them() {
    let setup = ServerWithWorker::start(ServerOptions::new(), "signals", |worker| {
        worker.register_workflow::<Collector>()
    })
    .await;
    let client = &setup.client;

    let handle = client
        .start_workflow(
            Collector::run,
            (),
            WorkflowOptions::new("collector", "signals"),
        )
        .await
        .unwrap();
    let expected: Vec<String> = (0..30).map(|i| format!("item-{i}")).collect();
    // Sent back to back, many land while a workflow task runs and wait for it to end.
    for item in &expected {
        handle
            .signal(Collector::collect, item.clone())
            .await
            .unwrap();
    }
    handle.signal(Collector::done, ()).await.unwrap();
    assert_eq!(handle.result().await.unwrap(), expected);

    let late = handle
        .signal(Collector::collect, "late".to_string())
        .await
        .unwrap_err();
    assert!(matches!(late, Error::NotFound { .. }), "{late:?}");

    setup.stop().await;
}
