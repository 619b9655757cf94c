//! The worker's memory is bounded by its limits, not by how many workflows it has run: its
//! sticky cache holds at most `max_cached_workflows` runs, closed runs leave it, and finished
//! activity tasks leave its bookkeeping. Runs on an in-process server.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use workflow_client::Client;
use workflow_core::prelude::*;
use workflow_server::{RunningServer, ServerOptions};
use workflow_worker::{Worker, WorkerOptions};

const TASK_QUEUE: &str = "bounded-memory";
/// More runs open at once than the cache holds.
const RUNS: usize = 24;
const CACHE: usize = 4;

const READY: ActivityRef<(), ()> = ActivityRef::new("ready");

/// Reports through an activity that its first workflow task is done, then stays open until
/// released.
#[workflow]
#[derive(Default)]
struct Parked {
    released: bool,
}

#[workflow]
impl Parked {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        let options = ActivityOptions::start_to_close(Duration::from_secs(30));
        ctx.execute_activity(READY, (), options).await?;
        ctx.wait_condition(|s: &Self| s.released).await;
        Ok(())
    }

    #[signal]
    fn release(&mut self) {
        self.released = true;
    }
}

/// Counts the runs whose first workflow task has completed.
struct Ready(Arc<Semaphore>);

impl ActivityDefinition for Ready {
    type Input = ();
    type Output = ();
    fn name(&self) -> &str {
        READY.name()
    }
}

impl Activity for Ready {
    async fn execute(&self, _ctx: ActivityContext, _input: ()) -> Result<(), ActivityError> {
        self.0.add_permits(1);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_and_the_activity_bookkeeping_stay_within_their_limits() {
    let server = RunningServer::start(ServerOptions::new()).await.unwrap();
    let client = Client::connect(server.target()).await.unwrap();
    let ready = Arc::new(Semaphore::new(0));
    let worker = Worker::new(client.clone(), TASK_QUEUE)
        .options(
            WorkerOptions::default()
                .max_cached_workflows(CACHE)
                .workflow_threads(2),
        )
        .register_workflow::<Parked>()
        .register_activity(Ready(ready.clone()));
    let probe = worker.probe();
    let stop = worker.shutdown_handle();
    let running = tokio::spawn(worker.run());

    let mut handles = Vec::new();
    for i in 0..RUNS {
        let options = WorkflowOptions::new(format!("parked-{i}"), TASK_QUEUE);
        handles.push(
            client
                .start_workflow(Parked::run, (), options)
                .await
                .unwrap(),
        );
    }
    // Every run has finished its first task and is still open: each went into the cache.
    ready
        .acquire_many(u32::try_from(RUNS).unwrap())
        .await
        .unwrap()
        .forget();
    assert!(
        probe.cached_runs() <= CACHE,
        "{} runs cached with room for {CACHE}",
        probe.cached_runs()
    );

    for handle in &handles {
        handle.signal(Parked::release, ()).await.unwrap();
    }
    for handle in &handles {
        handle.result().await.unwrap();
    }
    assert_eq!(probe.cached_runs(), 0, "closed runs leave the cache");

    stop.shutdown();
    running.await.unwrap().unwrap();
    assert_eq!(
        probe.running_activities(),
        0,
        "finished activity tasks leave the worker's bookkeeping"
    );
    server.shutdown().await.unwrap();
}
