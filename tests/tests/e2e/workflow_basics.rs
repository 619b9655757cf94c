//! Rust workflows on our worker against the real Temporal dev server: activities, timers,
//! signals, queries.

use std::time::Duration;

use workflow_core::prelude::*;
use workflow_tests::workflows::*;
use workflow_tests::*;
use workflow_worker::Worker;

#[tokio::test]
async fn hello_workflow_runs_its_activity_on_our_worker() {
    let client = client().await;
    let queue = unique_id("rust-wf");
    let worker = spawn_worker(
        Worker::new(client.clone(), &queue)
            .register_workflow::<YourWorkflow>()
            .register_activity(your_activity),
    );
    let out = client
        .execute_workflow(
            YourWorkflow::run,
            "Ada".to_string(),
            WorkflowOptions::new(unique_id("hello"), &queue),
        )
        .await
        .expect("workflow result");
    assert_eq!(out, "Hello, Ada!");
    stop_worker(worker).await;
}

#[tokio::test]
async fn signals_update_state_and_queries_read_it() {
    let client = client().await;
    let queue = unique_id("rust-wf");
    let worker = spawn_worker(Worker::new(client.clone(), &queue).register_workflow::<Collector>());
    let handle = client
        .start_workflow(
            Collector::run,
            (),
            WorkflowOptions::new(unique_id("collector"), &queue),
        )
        .await
        .unwrap();
    handle
        .signal(Collector::collect, "a".to_string())
        .await
        .unwrap();
    handle
        .signal(Collector::collect, "b".to_string())
        .await
        .unwrap();
    let seen = eventually(Duration::from_secs(10), "both signals applied", || async {
        let items = handle.query(Collector::collected, ()).await.unwrap();
        (items.len() == 2).then_some(items)
    })
    .await;
    assert_eq!(seen, vec!["a", "b"]);
    handle
        .signal(Collector::collect, "c".to_string())
        .await
        .unwrap();
    handle.signal(Collector::done, ()).await.unwrap();
    assert_eq!(handle.result().await.unwrap(), vec!["a", "b", "c"]);
    stop_worker(worker).await;
}

/// Activities sharing one state value, as a database pool would be shared.
struct Ledger {
    entries: std::sync::Mutex<Vec<String>>,
}

#[activities]
impl Ledger {
    #[activity]
    async fn record(&self, _ctx: ActivityContext, entry: String) -> Result<usize, ActivityError> {
        let mut entries = self.entries.lock().unwrap();
        entries.push(entry);
        Ok(entries.len())
    }

    #[activity(name = "ledger_entries")]
    async fn entries(&self, _ctx: ActivityContext) -> Result<Vec<String>, ActivityError> {
        Ok(self.entries.lock().unwrap().clone())
    }
}

#[workflow]
#[derive(Default)]
struct Bookkeeper;

#[workflow]
impl Bookkeeper {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, items: Vec<String>) -> WorkflowResult<Vec<String>> {
        let options = ActivityOptions::start_to_close(Duration::from_secs(10));
        for item in items {
            ctx.execute_activity(Ledger::record, item, options.clone())
                .await?;
        }
        Ok(ctx.execute_activity(Ledger::entries, (), options).await?)
    }
}

#[tokio::test]
async fn activity_methods_share_their_state() {
    let client = client().await;
    let queue = unique_id("rust-wf");
    let worker = spawn_worker(
        Worker::new(client.clone(), &queue)
            .register_workflow::<Bookkeeper>()
            .register_activities(Ledger {
                entries: std::sync::Mutex::new(vec!["opening".to_string()]),
            }),
    );
    let entries = client
        .execute_workflow(
            Bookkeeper::run,
            vec!["a".to_string(), "b".to_string()],
            WorkflowOptions::new(unique_id("ledger"), &queue),
        )
        .await
        .unwrap();
    assert_eq!(entries, vec!["opening", "a", "b"]);
    stop_worker(worker).await;
}
