//! Nothing acknowledged is lost: the server is killed with SIGKILL in the middle of a
//! workflow (an activity running, a timer pending), started again on the same SQLite file,
//! and the workflow completes. Also: time skipping.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use temporalio_protos::temporal::api::enums::v1::EventType;
use temporalio_protos::temporal::api::history::v1::HistoryEvent;
use tokio::sync::watch;
use workflow_client::Client;
use workflow_core::prelude::*;
use workflow_core::workflow::future::join;
use workflow_server::ServerOptions;
use workflow_worker::Worker;

use crate::support::{ServerWithWorker, free_port, spawn_server};

/// `true` once the test lets the activity finish.
fn gate() -> &'static watch::Sender<bool> {
    static GATE: OnceLock<watch::Sender<bool>> = OnceLock::new();
    GATE.get_or_init(|| watch::channel(false).0)
}

/// Counts the activity's starts.
fn starts() -> &'static watch::Sender<u32> {
    static STARTS: OnceLock<watch::Sender<u32>> = OnceLock::new();
    STARTS.get_or_init(|| watch::channel(0).0)
}

#[activity]
async fn slow_step(_ctx: ActivityContext, input: String) -> Result<String, ActivityError> {
    starts().send_modify(|n| *n += 1);
    let mut open = gate().subscribe();
    open.wait_for(|open| *open).await.expect("gate kept");
    Ok(format!("{input} done"))
}

#[workflow]
#[derive(Default)]
struct Survivor;

#[workflow]
impl Survivor {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, input: String) -> WorkflowResult<String> {
        let timer = ctx.sleep(Duration::from_secs(3));
        let step = ctx.execute_activity(
            slow_step,
            input,
            ActivityOptions::start_to_close(Duration::from_secs(60)),
        );
        let (slept, stepped) = join(timer, step).await;
        slept?;
        Ok(stepped?)
    }
}

fn kinds(history: &[HistoryEvent]) -> Vec<EventType> {
    history.iter().map(|e| e.event_type()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_restarts_from_its_file_and_the_workflow_completes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut first = spawn_server(port, &db);
    let client = Client::connect(format!("127.0.0.1:{port}")).await.unwrap();
    let worker = Worker::new(client.clone(), "durable")
        .register_workflow::<Survivor>()
        .register_activity(slow_step);
    let stop = worker.shutdown_handle();
    let running = tokio::spawn(worker.run());

    let handle = client
        .start_workflow(
            Survivor::run,
            "step".to_string(),
            WorkflowOptions::new("survivor", "durable"),
        )
        .await
        .unwrap();
    starts().subscribe().wait_for(|n| *n >= 1).await.unwrap();
    let before = handle.fetch_history().await.unwrap();
    assert!(
        kinds(&before).contains(&EventType::TimerStarted)
            && kinds(&before).contains(&EventType::ActivityTaskScheduled)
            && !kinds(&before).contains(&EventType::TimerFired),
        "{:?}",
        kinds(&before)
    );

    first.kill().unwrap();
    first.wait().unwrap();
    let mut second = spawn_server(port, &db);

    // Everything acknowledged before the kill is still there, unchanged.
    let after = handle.fetch_history().await.unwrap();
    assert_eq!(after[..before.len()], before[..]);
    gate().send_replace(true);
    assert_eq!(handle.result().await.unwrap(), "step done");
    let history = handle.fetch_history().await.unwrap();
    let kinds = kinds(&history);
    assert!(kinds.contains(&EventType::TimerFired), "{kinds:?}");
    assert!(
        kinds.contains(&EventType::ActivityTaskCompleted),
        "{kinds:?}"
    );
    assert_eq!(kinds.last(), Some(&EventType::WorkflowExecutionCompleted));
    // Event ids and task ids kept increasing across the restart.
    for pair in history.windows(2) {
        assert_eq!(pair[1].event_id, pair[0].event_id + 1);
        assert!(pair[1].task_id > pair[0].task_id, "{pair:?}");
    }

    // The activity ran once: the token it was given before the kill completed it after the
    // restart, since the server keeps its token secret in the file.
    assert_eq!(*starts().borrow(), 1);

    stop.shutdown();
    running.await.unwrap().unwrap();
    second.kill().unwrap();
    second.wait().unwrap();
}

#[tokio::test]
async fn after_a_clean_stop_the_database_file_alone_holds_every_workflow() {
    const STARTED: usize = 40;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let port = free_port();
    let mut server = spawn_server(port, &db);
    let client = Client::connect(format!("127.0.0.1:{port}")).await.unwrap();
    for i in 0..STARTED {
        client
            .start_workflow_by_name(
                "Anything",
                (),
                WorkflowOptions::new(format!("kept-{i}"), "nobody-polls"),
            )
            .await
            .unwrap();
    }
    let pid = server.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert!(server.wait().unwrap().success());
    let wal = dir.path().join("server.db-wal");
    assert!(
        !wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0,
        "a write-ahead log was left beside the file"
    );

    // What an operator does: copy the .db, and only it, somewhere else.
    let elsewhere = tempfile::tempdir().unwrap();
    let copy = elsewhere.path().join("copy.db");
    std::fs::copy(&db, &copy).unwrap();
    let port = free_port();
    let mut restored = spawn_server(port, &copy);
    let client = Client::connect(format!("127.0.0.1:{port}")).await.unwrap();
    let count = client
        .count_workflows("WorkflowId STARTS_WITH 'kept-'")
        .await
        .unwrap();
    assert_eq!(count, STARTED as u64);
    restored.kill().unwrap();
    restored.wait().unwrap();
}

/// Runs `start-dev` on `db`, which must refuse to start; answers what it printed.
fn refused_start(db: &Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_workflow-server"))
        .args([
            "start-dev",
            "--port",
            "0",
            "--headless",
            "--log-level",
            "error",
        ])
        .arg("--db-filename")
        .arg(db)
        .output()
        .expect("run the binary");
    assert!(!output.status.success(), "it started on {}", db.display());
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_file_that_is_not_a_database_or_is_from_a_newer_server_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "these are my notes, not a database\n".repeat(200)).unwrap();
    let message = refused_start(&text);
    assert!(
        message.contains(&format!("{} is not a SQLite database", text.display())),
        "{message}"
    );
    assert_eq!(
        std::fs::read_to_string(&text).unwrap(),
        "these are my notes, not a database\n".repeat(200),
        "the file was changed"
    );

    let newer = dir.path().join("newer.db");
    let connection = rusqlite::Connection::open(&newer).unwrap();
    connection.pragma_update(None, "user_version", 99).unwrap();
    drop(connection);
    let message = refused_start(&newer);
    assert!(
        message.contains(&format!("{} has schema version 99", newer.display())),
        "{message}"
    );
}

#[test]
fn a_read_only_file_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("locked.db");
    // An empty file is an empty database to SQLite.
    std::fs::write(&db, b"").unwrap();
    let mut permissions = std::fs::metadata(&db).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&db, permissions).unwrap();
    // Root ignores permission bits; the immutable attribute binds root too.
    let immutable = Command::new("chattr")
        .arg("+i")
        .arg(&db)
        .status()
        .is_ok_and(|s| s.success());
    if std::fs::OpenOptions::new().append(true).open(&db).is_ok() {
        eprintln!("skipped: this user can write any file here, so none is read-only");
        return;
    }
    let message = refused_start(&db);
    if immutable {
        let _ = Command::new("chattr").arg("-i").arg(&db).status();
    }
    assert!(
        message.contains(&format!("{} is read-only", db.display())),
        "{message}"
    );
}

#[workflow]
#[derive(Default)]
struct Sleeper;

#[workflow]
impl Sleeper {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<u64> {
        let before = ctx.now();
        ctx.sleep(Duration::from_secs(24 * 3600)).await?;
        Ok(ctx
            .now()
            .duration_since(before)
            .unwrap_or_default()
            .as_secs())
    }
}

#[tokio::test]
async fn with_time_skipping_a_day_long_timer_fires_once_nothing_else_runs() {
    let setup = ServerWithWorker::start(
        ServerOptions::new().time_skipping(true),
        "skipping",
        |worker| worker.register_workflow::<Sleeper>(),
    )
    .await;
    let client = &setup.client;
    let started = SystemTime::now();

    let handle = client
        .start_workflow(
            Sleeper::run,
            (),
            WorkflowOptions::new("sleeper", "skipping"),
        )
        .await
        .unwrap();
    // A guard, not a timing claim: without skipping this would wait a day.
    let slept = tokio::time::timeout(Duration::from_secs(120), handle.result())
        .await
        .expect("the timer fired without waiting a day")
        .unwrap();
    assert!(slept >= 24 * 3600, "the workflow saw {slept} s pass");
    let history = handle.fetch_history().await.unwrap();
    let fired = history
        .iter()
        .find(|e| e.event_type() == EventType::TimerFired)
        .expect("a TimerFired event");
    let fired_at = SystemTime::try_from(fired.event_time.unwrap()).unwrap();
    assert!(
        fired_at.duration_since(started).unwrap() >= Duration::from_secs(24 * 3600),
        "the server's clock moved a day ahead"
    );

    setup.stop().await;
}

#[tokio::test]
async fn a_timed_out_run_is_retried_by_its_retry_policy_until_attempts_run_out() {
    use temporalio_protos::temporal::api::enums::v1::RetryState;
    use temporalio_protos::temporal::api::history::v1::history_event::Attributes;
    let setup = ServerWithWorker::start(
        ServerOptions::new().time_skipping(true),
        "timeouts",
        |worker| worker.register_workflow::<Sleeper>(),
    )
    .await;
    let client = &setup.client;

    // Each run sleeps a day but may run an hour.
    let options = WorkflowOptions::new("timing-out", "timeouts")
        .run_timeout(Duration::from_secs(3600))
        .retry_policy(
            RetryPolicy::default()
                .initial_interval(Duration::from_secs(1))
                .maximum_attempts(2),
        );
    let handle = client
        .start_workflow(Sleeper::run, (), options)
        .await
        .unwrap();
    // A guard, not a timing claim: without skipping this would wait two hours.
    let outcome = tokio::time::timeout(Duration::from_secs(120), handle.result())
        .await
        .expect("time skipped to the timeouts");
    match outcome {
        Err(workflow_client::Error::TimedOut { retry_state }) => {
            assert_eq!(retry_state, RetryState::MaximumAttemptsReached)
        }
        other => panic!("expected the last attempt to time out, got {other:?}"),
    }

    let run = |run_id: &str| client.get_workflow_handle("timing-out").with_run_id(run_id);
    let first = run(handle.run_id().unwrap()).fetch_history().await.unwrap();
    let Some(Attributes::WorkflowExecutionTimedOutEventAttributes(timed_out)) =
        &first.last().unwrap().attributes
    else {
        panic!("the first run ends timed out: {first:?}");
    };
    assert_eq!(timed_out.retry_state(), RetryState::InProgress);
    let second = run(&timed_out.new_execution_run_id)
        .fetch_history()
        .await
        .unwrap();
    let Some(Attributes::WorkflowExecutionStartedEventAttributes(started)) = &second[0].attributes
    else {
        panic!("a started event");
    };
    assert_eq!(started.attempt, 2);
    assert_eq!(started.continued_execution_run_id, handle.run_id().unwrap());
    assert_eq!(
        started.continued_failure.as_ref().unwrap().message,
        "workflow timeout"
    );
    setup.stop().await;
}
