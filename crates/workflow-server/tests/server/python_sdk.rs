//! The Temporal Python SDK (client and worker) runs against our server: the guide's hello
//! workflow, signals and queries, a timer, activity retries, a child workflow,
//! continue-as-new and cancellation (`tests/python/conformance.py`). `scripts/test.sh` sets
//! `WORKFLOW_TEST_PYTHON` and `WORKFLOW_TEST_PYTHON_DIR`.

use std::process::Command;

use workflow_server::{RunningServer, ServerOptions};

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run the tests with scripts/test.sh"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_runs_its_workflows_on_our_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = RunningServer::start(ServerOptions::new().db_filename(dir.path().join("db")))
        .await
        .unwrap();
    let mut command = Command::new(env("WORKFLOW_TEST_PYTHON"));
    command
        .arg(std::path::Path::new(&env("WORKFLOW_TEST_PYTHON_DIR")).join("conformance.py"))
        .arg(server.target());
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("run the Python conformance script");
    let stdout = String::from_utf8_lossy(&output.stdout);
    // Judged by its last line: the SDK may crash while the interpreter exits.
    assert!(
        stdout.lines().any(|l| l == "CONFORMANCE OK"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for check in [
        "hello",
        "signals then a query",
        "a timer",
        "an activity retried until its third attempt",
        "a child workflow",
        "continue-as-new three times",
        "cancellation",
    ] {
        assert!(
            stdout.contains(&format!("ok: {check}:")),
            "{check}: {stdout}"
        );
    }
    server.shutdown().await.unwrap();
}
