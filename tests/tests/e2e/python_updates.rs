//! Workflow updates with the Temporal Python SDK's client and worker
//! (`tests/python/updates.py`), on whichever server the suite runs against: the real dev
//! server and ours must answer them alike.

use std::process::Command;

use workflow_tests::{address, python, python_dir};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdks_updates_behave_as_on_temporal() {
    let mut command = Command::new(python());
    command.arg(python_dir().join("updates.py")).arg(address());
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("run the Python updates script");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Judged by its lines: the SDK may crash while the interpreter exits.
    assert!(
        stdout.lines().any(|l| l == "UPDATES OK"),
        "{stdout}\n{stderr}"
    );
    for check in [
        "an accepted update returns its result",
        "a validator rejects",
        "a rejection writes no event",
        "an update id answers once",
        "start_update then result",
        "an update handle polls the outcome",
        "an unknown update is rejected",
        "a synchronous handler",
        "a handler's failure is the update's outcome",
        "accepted and completed events",
        "the run completes",
        "a closed run answers a completed update",
        "a closed run refuses a new update",
        "update-with-start starts the workflow",
        "update-with-start updates the running workflow",
        "update-with-start refuses a running id by policy",
        "the update-with-start run completes",
    ] {
        assert!(
            stdout.contains(&format!("ok: {check}:")),
            "{check}: {stdout}"
        );
    }
}
