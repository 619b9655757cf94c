//! Sticky execution under pressure: a small cache evicts runs, long histories replay without
//! a cache, and workflows signal and cancel each other.

use std::time::Duration;

use workflow_client::Error;
use workflow_core::prelude::*;
use workflow_tests::workflows::*;
use workflow_tests::*;
use workflow_worker::{Worker, WorkerOptions};

#[tokio::test]
async fn runs_evicted_from_a_full_cache_are_rebuilt_from_history() {
    let client = client().await;
    let queue = unique_id("rust-wf");
    let worker = spawn_worker(
        Worker::new(client.clone(), &queue)
            .options(
                WorkerOptions::default()
                    .max_cached_workflows(1)
                    .workflow_threads(1),
            )
            .register_workflow::<Collector>(),
    );
    let mut handles = Vec::new();
    for _ in 0..3 {
        handles.push(
            client
                .start_workflow(
                    Collector::run,
                    (),
                    WorkflowOptions::new(unique_id("evicted"), &queue),
                )
                .await
                .unwrap(),
        );
    }
    // Interleaved signals: each task finds its run evicted by another run's task.
    for round in 0..3 {
        for (i, handle) in handles.iter().enumerate() {
            handle
                .signal(Collector::collect, format!("{i}.{round}"))
                .await
                .unwrap();
        }
    }
    for handle in &handles {
        handle.signal(Collector::done, ()).await.unwrap();
    }
    for (i, handle) in handles.iter().enumerate() {
        let expected: Vec<String> = (0..3).map(|round| format!("{i}.{round}")).collect();
        assert_eq!(handle.result().await.unwrap(), expected);
    }
    stop_worker(worker).await;
}

#[workflow]
#[derive(Default)]
struct ManySteps;

#[workflow]
impl ManySteps {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, count: u32) -> WorkflowResult<u32> {
        for i in 0..count {
            let params = YourParams {
                greeting: "Step".into(),
                name: i.to_string(),
            };
            let options = ActivityOptions::start_to_close(Duration::from_secs(10));
            ctx.execute_activity(your_activity, params, options).await?;
        }
        Ok(ctx.history_length())
    }
}

#[tokio::test]
async fn long_histories_replay_from_the_first_event_on_every_task() {
    let client = client().await;
    let queue = unique_id("rust-wf");
    // No cache: every task carries, and replays, the whole history so far.
    let worker = spawn_worker(
        Worker::new(client.clone(), &queue)
            .options(WorkerOptions::default().max_cached_workflows(0))
            .register_workflow::<ManySteps>()
            .register_activity(your_activity),
    );
    let length = client
        .execute_workflow(
            ManySteps::run,
            55,
            WorkflowOptions::new(unique_id("steps"), &queue),
        )
        .await
        .unwrap();
    assert!(length > 300, "history length {length}");
    stop_worker(worker).await;
}

/// Signals a collector and cancels another workflow, both by id.
#[workflow]
#[derive(Default)]
struct Messenger;

#[workflow]
impl Messenger {
    #[run]
    async fn run(
        ctx: WorkflowContext<Self>,
        (collector_id, victim_id): (String, String),
    ) -> WorkflowResult<String> {
        let collector = ctx.external_workflow(&collector_id, None);
        collector
            .signal(Collector::collect, "from a workflow".to_string())
            .await?;
        collector.signal(Collector::done, ()).await?;
        ctx.external_workflow(&victim_id, None).cancel().await?;
        let missing = ctx
            .external_workflow("no-such-workflow", None)
            .signal(Collector::collect, "lost".to_string())
            .await
            .expect_err("no such workflow");
        Ok(missing.message)
    }
}

#[tokio::test]
async fn workflows_signal_and_cancel_other_workflows() {
    let client = client().await;
    let queue = unique_id("rust-wf");
    let worker = spawn_worker(
        Worker::new(client.clone(), &queue)
            .register_workflow::<Collector>()
            .register_workflow::<Messenger>(),
    );
    let collector = client
        .start_workflow(
            Collector::run,
            (),
            WorkflowOptions::new(unique_id("collector"), &queue),
        )
        .await
        .unwrap();
    let victim = client
        .start_workflow(WAIT_FOREVER, (), options("victim"))
        .await
        .unwrap();
    let message = client
        .execute_workflow(
            Messenger::run,
            (
                collector.workflow_id().to_string(),
                victim.workflow_id().to_string(),
            ),
            WorkflowOptions::new(unique_id("messenger"), &queue),
        )
        .await
        .unwrap();
    assert!(message.contains("no-such-workflow"), "{message}");
    assert_eq!(collector.result().await.unwrap(), vec!["from a workflow"]);
    assert!(matches!(
        victim.result().await,
        Err(Error::Cancelled { .. })
    ));
    stop_worker(worker).await;
}
