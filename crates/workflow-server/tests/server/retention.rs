//! Retention: closed runs are deleted once their namespace's retention (a day for
//! `default`) has passed since they closed, from memory and from the SQLite file, while
//! newer ones stay.

use std::time::Duration;

use futures::TryStreamExt;

use workflow_client::{Client, Error};
use workflow_core::prelude::*;
use workflow_server::{RunningServer, ServerOptions};

use crate::support::ServerWithWorker;

#[workflow]
#[derive(Default)]
struct Quick;

#[workflow]
impl Quick {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        Ok(())
    }
}

#[workflow]
#[derive(Default)]
struct DayAndAHalf;

#[workflow]
impl DayAndAHalf {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        ctx.sleep(Duration::from_secs(36 * 3600)).await?;
        Ok(())
    }
}

async fn exists(client: &Client, workflow_id: &str) -> bool {
    match client.get_workflow_handle(workflow_id).describe().await {
        Ok(_) => true,
        Err(Error::NotFound { .. }) => false,
        Err(other) => panic!("describe {workflow_id}: {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_runs_past_retention_are_deleted_from_memory_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("retention.db");
    let options = || {
        ServerOptions::new()
            .db_filename(&db)
            .time_skipping(true)
            .retention_sweep_interval(Duration::from_millis(20))
            // No closed run stays in memory: the sweep must find them in the store.
            .run_cache_size(0)
    };
    let setup = ServerWithWorker::start(options(), "retention", |worker| {
        worker
            .register_workflow::<Quick>()
            .register_workflow::<DayAndAHalf>()
    })
    .await;
    let client = &setup.client;

    client
        .execute_workflow(Quick::run, (), WorkflowOptions::new("old", "retention"))
        .await
        .unwrap();
    // Time skips a day and a half while this one sleeps: "old" is then past retention.
    client
        .execute_workflow(
            DayAndAHalf::run,
            (),
            WorkflowOptions::new("newer", "retention"),
        )
        .await
        .unwrap();
    // The sweep runs every 20 ms; there is no event to wait on.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while exists(client, "old").await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "old was never deleted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(exists(client, "newer").await, "newer is within retention");
    let listed: Vec<_> = client.list_workflows("").try_collect().await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|w| w.workflow_id.as_str()).collect();
    assert_eq!(ids, ["newer"]);
    setup.stop().await;

    // The file no longer holds it either.
    let server = RunningServer::start(options()).await.unwrap();
    let client = Client::connect(server.target()).await.unwrap();
    assert!(!exists(&client, "old").await);
    assert!(exists(&client, "newer").await);
    server.shutdown().await.unwrap();
}
