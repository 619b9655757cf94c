//! The run cache: closed runs leave memory once more than the cache holds have closed, and
//! every read still finds them (describe, result, history, list, count, queries, the id
//! reuse policy), on a SQLite file, after a restart, and in memory.

use std::time::Duration;

use futures::TryStreamExt;
use temporalio_protos::temporal::api::enums::v1::EventType;

use workflow_client::{Client, Error, WorkflowExecutionStatus};
use workflow_core::prelude::*;
use workflow_server::ServerOptions;

use crate::support::ServerWithWorker;

#[workflow]
#[derive(Default)]
struct Tally {
    total: i64,
}

#[workflow]
impl Tally {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, n: i64) -> WorkflowResult<i64> {
        ctx.state_mut(|s| s.total = n * 10);
        ctx.sleep(Duration::from_millis(1)).await?;
        Ok(n * 10)
    }

    #[query]
    fn total(&self) -> i64 {
        self.total
    }
}

const RUNS: i64 = 6;
const CACHE: usize = 2;
const HISTORY_LENGTH: usize = 10;

/// Runs `RUNS` workflows to completion, checks that at most `CACHE` closed runs stayed in
/// memory, then reads every one back.
async fn closed_runs_are_read_back(options: ServerOptions) -> ServerWithWorker {
    let setup = ServerWithWorker::start(options.run_cache_size(CACHE), "cache", |worker| {
        worker.register_workflow::<Tally>()
    })
    .await;
    let client = &setup.client;
    for n in 0..RUNS {
        let out = client
            .execute_workflow(
                Tally::run,
                n,
                WorkflowOptions::new(format!("tally-{n}"), "cache"),
            )
            .await
            .unwrap();
        assert_eq!(out, n * 10);
    }
    // A batch's runs leave memory once it is durable; one more change lets the cache trim.
    client
        .execute_workflow(Tally::run, 100, WorkflowOptions::new("last", "cache"))
        .await
        .unwrap();
    let in_memory = setup.server.runs_in_memory();
    assert_eq!(in_memory.open, 0);
    assert!(
        in_memory.closed <= CACHE + 1,
        "closed runs in memory: {in_memory:?}, cache {CACHE}"
    );
    read_every_run(client).await;
    setup
}

async fn read_every_run(client: &Client) {
    for n in 0..RUNS {
        let handle = client.get_workflow_handle_for(Tally::run, format!("tally-{n}"));
        // A request that changes only running runs refuses a closed one: first, while
        // the run is out of memory.
        let signal = handle.signal_by_name("nudge", ()).await;
        assert!(
            matches!(&signal, Err(Error::NotFound { message, .. }) if message.contains("already completed")),
            "tally-{n}: {signal:?}"
        );
        let description = handle.describe().await.unwrap();
        assert_eq!(
            description.info.status,
            WorkflowExecutionStatus::Completed,
            "tally-{n}"
        );
        assert_eq!(handle.result().await.unwrap(), n * 10);
        let history = handle.fetch_history().await.unwrap();
        // Started, three workflow tasks, a timer, completed.
        assert_eq!(history.len(), HISTORY_LENGTH, "tally-{n}");
        assert_eq!(
            history.last().unwrap().event_type(),
            EventType::WorkflowExecutionCompleted
        );
        assert_eq!(handle.query(Tally::total, ()).await.unwrap(), n * 10);
    }
    let listed: Vec<_> = client
        .list_workflows("WorkflowType = 'Tally'")
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed.len() as i64, RUNS + 1);
    assert!(
        listed
            .iter()
            .all(|w| w.history_length == HISTORY_LENGTH as i64),
        "{listed:?}"
    );
    // The id reuse policy reads the closed run it would replace.
    let refused = client
        .start_workflow(
            Tally::run,
            1,
            WorkflowOptions::new("tally-0", "cache")
                .id_reuse_policy(WorkflowIdReusePolicy::RejectDuplicate),
        )
        .await;
    assert!(
        matches!(refused, Err(Error::AlreadyStarted { .. })),
        "{refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_file_closed_runs_leave_memory_and_are_read_back_also_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.db");
    let setup = closed_runs_are_read_back(ServerOptions::new().db_filename(&db)).await;
    setup.stop().await;

    let options = ServerOptions::new().db_filename(&db).run_cache_size(CACHE);
    let setup = ServerWithWorker::start(options, "cache", |w| w.register_workflow::<Tally>()).await;
    // A restart loads no closed run; each is read when asked for.
    assert_eq!(setup.server.runs_in_memory().closed, 0);
    read_every_run(&setup.client).await;
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_memory_closed_runs_leave_the_cache_and_are_read_back() {
    closed_runs_are_read_back(ServerOptions::new())
        .await
        .stop()
        .await;
}

#[tokio::test]
async fn a_server_restarted_on_its_file_continues_task_ids_past_closed_runs() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ids.db");
    let options = || ServerOptions::new().db_filename(&db).run_cache_size(0);
    let setup = ServerWithWorker::start(options(), "ids", |w| w.register_workflow::<Tally>()).await;
    setup
        .client
        .execute_workflow(Tally::run, 1, WorkflowOptions::new("first", "ids"))
        .await
        .unwrap();
    let first = setup
        .client
        .get_workflow_handle("first")
        .fetch_history()
        .await
        .unwrap();
    setup.stop().await;

    let setup = ServerWithWorker::start(options(), "ids", |w| w.register_workflow::<Tally>()).await;
    setup
        .client
        .execute_workflow(Tally::run, 2, WorkflowOptions::new("second", "ids"))
        .await
        .unwrap();
    let second = setup
        .client
        .get_workflow_handle("second")
        .fetch_history()
        .await
        .unwrap();
    let last_before = first.iter().map(|e| e.task_id).max().unwrap();
    let first_after = second.iter().map(|e| e.task_id).min().unwrap();
    assert!(
        first_after > last_before,
        "task ids went back: {first_after} after {last_before}"
    );
    setup.stop().await;
}
