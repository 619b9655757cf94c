//! Rust activities on our worker, called by Python SDK workflows across languages.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, mpsc};
use workflow_client::{Client, Error};
use workflow_core::activity::CancelReason;
use workflow_core::definition::WorkflowRef;
use workflow_core::failure::{Failure, FailureInfo};
use workflow_core::prelude::*;
use workflow_tests::*;
use workflow_worker::{Worker, WorkerError, WorkerOptions};

/// Python `RustActivityCall` dataclass.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RustActivityCall {
    activity: String,
    task_queue: String,
    args: Vec<serde_json::Value>,
    maximum_attempts: u32,
    heartbeat_timeout_ms: u64,
    start_to_close_ms: u64,
    cancel_on_signal: bool,
}

const RUN_RUST_ACTIVITY: WorkflowRef<RustActivityCall, serde_json::Value> =
    WorkflowRef::new("RunRustActivity");

fn call(activity: &str, task_queue: &str, args: Vec<serde_json::Value>) -> RustActivityCall {
    RustActivityCall {
        activity: activity.into(),
        task_queue: task_queue.into(),
        args,
        maximum_attempts: 1,
        heartbeat_timeout_ms: 0,
        start_to_close_ms: 30_000,
        cancel_on_signal: false,
    }
}

fn activity_queue() -> String {
    unique_id("rust-activities")
}

#[activity]
async fn greet(
    ctx: ActivityContext,
    input: GreetingInput,
) -> Result<GreetingOutput, ActivityError> {
    let message = format!(
        "{}, {}! (attempt {})",
        input.greeting,
        input.name,
        ctx.info().attempt
    );
    Ok(GreetingOutput {
        length: message.len(),
        words: message.split(' ').map(str::to_owned).collect(),
        message,
    })
}

/// Fails with a retryable error until its `succeed_on` attempt, recording each attempt and
/// resuming from the previous attempt's heartbeat.
struct Flaky {
    attempts: AtomicU32,
    succeed_on: u32,
}

#[activities]
impl Flaky {
    #[activity]
    async fn flaky(&self, ctx: ActivityContext) -> Result<String, ActivityError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        let attempt = ctx.info().attempt;
        let resumed: Option<String> = ctx.last_heartbeat_details().map(|d| d.unwrap());
        if attempt < self.succeed_on {
            ctx.heartbeat(&format!("progress of attempt {attempt}"))?;
            return Err(ActivityError::retryable(
                "Transient",
                format!("attempt {attempt} failed"),
            ));
        }
        Ok(format!("attempt {attempt} resumed from {resumed:?}"))
    }
}

#[activity]
async fn refuse(_ctx: ActivityContext, input: String) -> Result<String, ActivityError> {
    if input == "parse" {
        // Any std error converts with `?`, named after its type.
        let n: u32 = "not a number".parse()?;
        return Ok(n.to_string());
    }
    Err(ActivityError::failure(
        Failure::application("Refused", format!("will not do {input}"))
            .non_retryable()
            .with_cause(Failure::application("Policy", "rule 7")),
    ))
}

/// Tells the test when it runs, heartbeats until cancelled, and reports why it stopped.
struct UntilCancelled {
    started: mpsc::UnboundedSender<()>,
    stopped: mpsc::UnboundedSender<CancelReason>,
}

#[activities]
impl UntilCancelled {
    #[activity]
    async fn until_cancelled(&self, ctx: ActivityContext) -> Result<String, ActivityError> {
        self.started.send(()).unwrap();
        loop {
            ctx.heartbeat(&"waiting".to_string())?;
            tokio::select! {
                reason = ctx.cancelled() => {
                    self.stopped.send(reason).unwrap();
                    return Err(ActivityError::cancelled());
                }
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
            }
        }
    }
}

/// Tells the test when it runs, then finishes when the test releases it.
struct Gate {
    started: mpsc::UnboundedSender<()>,
    release: Arc<Notify>,
}

#[activities]
impl Gate {
    #[activity]
    async fn gate(&self, _ctx: ActivityContext) -> Result<String, ActivityError> {
        self.started.send(()).unwrap();
        self.release.notified().await;
        Ok("released".into())
    }
}

/// A worker running `UntilCancelled`, and the channels it reports on.
struct CancellableWorker {
    shutdown: workflow_worker::ShutdownHandle,
    worker: tokio::task::JoinHandle<Result<(), WorkerError>>,
    started: mpsc::UnboundedReceiver<()>,
    stopped: mpsc::UnboundedReceiver<CancelReason>,
}

fn spawn_until_cancelled(
    client: &Client,
    queue: &str,
    options: WorkerOptions,
) -> CancellableWorker {
    let (started_tx, started) = mpsc::unbounded_channel();
    let (stopped_tx, stopped) = mpsc::unbounded_channel();
    let activity = UntilCancelled {
        started: started_tx,
        stopped: stopped_tx,
    };
    let (shutdown, worker) = spawn_worker(
        Worker::new(client.clone(), queue)
            .options(options)
            .register_activities(activity),
    );
    CancellableWorker {
        shutdown,
        worker,
        started,
        stopped,
    }
}

/// Hands its task token to the test and leaves completion to it.
struct HandOff {
    tokens: mpsc::UnboundedSender<Vec<u8>>,
}

#[activities]
impl HandOff {
    #[activity]
    async fn hand_off(&self, ctx: ActivityContext) -> Result<String, ActivityError> {
        self.tokens.send(ctx.info().task_token.clone()).unwrap();
        Err(ActivityError::WillCompleteAsync)
    }
}

async fn run_call(client: &Client, call: RustActivityCall) -> Result<serde_json::Value, Error> {
    client
        .execute_workflow(RUN_RUST_ACTIVITY, call, options("run-rust-activity"))
        .await
}

#[tokio::test]
async fn a_python_workflow_runs_a_rust_activity_with_structs_both_ways() {
    let client = client().await;
    let queue = activity_queue();
    let (shutdown, worker) =
        spawn_worker(Worker::new(client.clone(), &queue).register_activity(greet));
    let input = serde_json::json!({"name": "Ada", "greeting": "Hello", "times": 1});
    let output = run_call(&client, call("greet", &queue, vec![input]))
        .await
        .unwrap();
    let output: GreetingOutput = serde_json::from_value(output).unwrap();
    assert_eq!(output.message, "Hello, Ada! (attempt 1)");
    assert_eq!(output.words.len(), 4);
    shutdown.shutdown();
    worker.await.unwrap().unwrap();
}

#[tokio::test]
async fn retryable_failures_are_retried_and_the_next_attempt_sees_the_last_heartbeat() {
    let client = client().await;
    let queue = activity_queue();
    let flaky = Flaky {
        attempts: AtomicU32::new(0),
        succeed_on: 3,
    };
    let (shutdown, worker) =
        spawn_worker(Worker::new(client.clone(), &queue).register_activities(flaky));
    let mut request = call("flaky", &queue, vec![]);
    request.maximum_attempts = 5;
    let output = run_call(&client, request).await.unwrap();
    assert_eq!(
        output,
        "attempt 3 resumed from Some(\"progress of attempt 2\")"
    );
    shutdown.shutdown();
    worker.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_non_retryable_failure_reaches_the_workflow_with_type_message_and_cause() {
    let client = client().await;
    let queue = activity_queue();
    let (shutdown, worker) =
        spawn_worker(Worker::new(client.clone(), &queue).register_activity(refuse));
    let mut request = call("refuse", &queue, vec!["the dishes".into()]);
    request.maximum_attempts = 5;
    let Error::WorkflowFailed { failure } = run_call(&client, request).await.unwrap_err() else {
        panic!("expected the workflow to fail");
    };
    let FailureInfo::Activity(activity) = &failure.info else {
        panic!("expected an activity failure: {failure:?}");
    };
    assert_eq!(activity.activity_type, "refuse");
    let cause = failure.cause.as_deref().unwrap();
    assert_eq!(cause.application_type(), Some("Refused"));
    assert_eq!(cause.message, "will not do the dishes");
    let root = cause.cause.as_deref().unwrap();
    assert_eq!(
        (root.application_type(), root.message.as_str()),
        (Some("Policy"), "rule 7")
    );
    shutdown.shutdown();
    worker.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_std_error_returned_with_question_mark_is_named_after_its_type() {
    let client = client().await;
    let queue = activity_queue();
    let (shutdown, worker) =
        spawn_worker(Worker::new(client.clone(), &queue).register_activity(refuse));
    let Error::WorkflowFailed { failure } =
        run_call(&client, call("refuse", &queue, vec!["parse".into()]))
            .await
            .unwrap_err()
    else {
        panic!("expected the workflow to fail");
    };
    let cause = failure.cause.as_deref().unwrap();
    assert_eq!(cause.application_type(), Some("ParseIntError"));
    assert_eq!(cause.message, "invalid digit found in string");
    shutdown.shutdown();
    worker.await.unwrap().unwrap();
}

#[tokio::test]
async fn an_unregistered_activity_type_fails_naming_it_and_the_registered_ones() {
    let client = client().await;
    let queue = activity_queue();
    let (shutdown, worker) = spawn_worker(
        Worker::new(client.clone(), &queue)
            .register_activity(greet)
            .register_activity(refuse),
    );
    let Error::WorkflowFailed { failure } =
        run_call(&client, call("no_such_activity", &queue, vec![]))
            .await
            .unwrap_err()
    else {
        panic!("expected the workflow to fail");
    };
    let cause = failure.cause.as_deref().unwrap();
    assert_eq!(cause.application_type(), Some("NotFoundError"));
    assert!(
        cause.message.contains("`no_such_activity`"),
        "{}",
        cause.message
    );
    assert!(cause.message.contains("greet, refuse"), "{}", cause.message);
    shutdown.shutdown();
    worker.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_cancelled_activity_learns_it_from_its_heartbeat_and_reports_cancelled() {
    let client = client().await;
    let queue = activity_queue();
    let mut worker = spawn_until_cancelled(&client, &queue, WorkerOptions::default());
    let mut request = call("until_cancelled", &queue, vec![]);
    request.heartbeat_timeout_ms = 1_000;
    request.cancel_on_signal = true;
    let handle = client
        .start_workflow(RUN_RUST_ACTIVITY, request, options("cancel-activity"))
        .await
        .unwrap();
    worker.started.recv().await.unwrap();
    handle.signal_by_name("cancel_activity", ()).await.unwrap();
    assert_eq!(
        worker.stopped.recv().await.unwrap(),
        CancelReason::Requested
    );
    assert_eq!(handle.result().await.unwrap(), "cancelled");
    worker.shutdown.shutdown();
    worker.worker.await.unwrap().unwrap();
}

#[tokio::test]
async fn shutdown_lets_a_running_activity_finish_and_report_its_result() {
    let client = client().await;
    let queue = activity_queue();
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let release = Arc::new(Notify::new());
    let gate = Gate {
        started: started_tx,
        release: release.clone(),
    };
    let (shutdown, worker) = spawn_worker(
        Worker::new(client.clone(), &queue)
            .options(WorkerOptions::default().graceful_shutdown_timeout(Duration::from_secs(60)))
            .register_activities(gate),
    );
    let handle = client
        .start_workflow(
            RUN_RUST_ACTIVITY,
            call("gate", &queue, vec![]),
            options("drain"),
        )
        .await
        .unwrap();
    started.recv().await.unwrap();
    shutdown.shutdown();
    // The activity is still blocked, so the worker cannot have finished draining.
    assert!(!worker.is_finished());
    release.notify_one();
    worker.await.unwrap().unwrap();
    assert_eq!(handle.result().await.unwrap(), "released");
}

#[tokio::test]
async fn after_the_grace_period_shutdown_cancels_running_activities() {
    let client = client().await;
    let queue = activity_queue();
    let worker_options =
        WorkerOptions::default().graceful_shutdown_timeout(Duration::from_millis(200));
    let mut worker = spawn_until_cancelled(&client, &queue, worker_options);
    let handle = client
        .start_workflow(
            RUN_RUST_ACTIVITY,
            call("until_cancelled", &queue, vec![]),
            options("grace"),
        )
        .await
        .unwrap();
    worker.started.recv().await.unwrap();
    worker.shutdown.shutdown();
    assert_eq!(
        worker.stopped.recv().await.unwrap(),
        CancelReason::WorkerShutdown
    );
    worker.worker.await.unwrap().unwrap();
    handle.terminate("test done").await.unwrap();
}

#[tokio::test]
async fn registering_two_activities_with_one_name_fails_before_polling() {
    let client = client().await;
    let err = Worker::new(client, activity_queue())
        .register_activity(greet)
        .register_activity(greet)
        .run()
        .await
        .unwrap_err();
    assert!(
        matches!(err, WorkerError::DuplicateActivity { ref name } if name == "greet"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_worker_with_nothing_registered_refuses_to_run() {
    let client = client().await;
    let err = Worker::new(client, "empty").run().await.unwrap_err();
    assert!(
        matches!(err, WorkerError::NothingRegistered { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn polling_an_unknown_namespace_stops_the_worker_with_the_error() {
    let client = workflow_client::ClientOptions::new(address())
        .namespace("no-such-namespace")
        .connect()
        .await
        .unwrap();
    let err = Worker::new(client, activity_queue())
        .register_activity(greet)
        .run()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            WorkerError::Poll {
                source: Error::NotFound { .. },
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn the_worker_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = runtime.enter();
    // Built without connecting: only the future's type matters here.
    let future = async {
        let client = client().await;
        Worker::new(client, "q")
            .register_activity(greet)
            .run()
            .await
    };
    assert_send(&future);
}

#[tokio::test]
async fn an_async_activity_learns_of_cancellation_by_heartbeat_and_reports_it_by_token() {
    let client = client().await;
    let queue = activity_queue();
    let (tokens_tx, mut tokens) = mpsc::unbounded_channel();
    let (shutdown, worker) = spawn_worker(
        Worker::new(client.clone(), &queue).register_activities(HandOff { tokens: tokens_tx }),
    );
    let mut request = call("hand_off", &queue, vec![]);
    request.cancel_on_signal = true;
    let handle = client
        .start_workflow(RUN_RUST_ACTIVITY, request, options("async-cancel"))
        .await
        .unwrap();
    let activity = client.async_activity_handle(tokens.recv().await.unwrap());
    assert!(!activity.heartbeat(()).await.unwrap().cancel_requested);
    handle.signal_by_name("cancel_activity", ()).await.unwrap();
    // The cancellation request is recorded by the workflow task the signal triggers.
    eventually(Duration::from_secs(30), "the cancellation request", || {
        let activity = activity.clone();
        async move {
            activity
                .heartbeat(())
                .await
                .unwrap()
                .cancel_requested
                .then_some(())
        }
    })
    .await;
    activity.report_cancellation(()).await.unwrap();
    assert_eq!(handle.result().await.unwrap(), "cancelled");
    shutdown.shutdown();
    worker.await.unwrap().unwrap();
}
