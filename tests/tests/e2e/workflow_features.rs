//! Rust workflows on our worker against the real Temporal dev server: child workflows,
//! continue-as-new, deterministic values across replays, versioning, non-determinism,
//! crashes, and cross-language starts.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use temporalio_protos::temporal::api::enums::v1::WorkflowTaskFailedCause;
use temporalio_protos::temporal::api::history::v1::History;
use temporalio_protos::temporal::api::history::v1::history_event::Attributes;
use tokio::sync::mpsc;
use workflow_core::definition::{SignalRef, WorkflowRef};
use workflow_core::failure::FailureInfo;
use workflow_core::options::{SearchAttributeValue, SearchAttributes};
use workflow_core::prelude::*;
use workflow_core::workflow::ChildWorkflowOptions;
use workflow_tests::workflows::*;
use workflow_tests::*;
use workflow_worker::{ReplayError, Replayer, Worker, WorkerOptions};

/// Options that make every workflow task replay the whole history.
fn no_cache() -> WorkerOptions {
    WorkerOptions::default().max_cached_workflows(0)
}

// ---- child workflows -------------------------------------------------------------------

#[workflow]
#[derive(Default)]
struct Doubler;

#[workflow]
impl Doubler {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, n: i64) -> WorkflowResult<i64> {
        if n < 0 {
            return Err(WorkflowError::non_retryable(
                "Negative",
                format!("{n} is negative"),
            ));
        }
        let parent = ctx.info().parent.clone().expect("a child knows its parent");
        assert!(!parent.workflow_id.is_empty());
        Ok(n * 2)
    }
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct ParentOutput {
    doubled: i64,
    child_id: String,
    failure_type: Option<String>,
}

#[workflow]
#[derive(Default)]
struct Parent;

#[workflow]
impl Parent {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, n: i64) -> WorkflowResult<ParentOutput> {
        let child_id = format!("{}-child", ctx.info().workflow_id);
        let handle = ctx
            .start_child_workflow(Doubler::run, n, ChildWorkflowOptions::new().id(&child_id))
            .await?;
        assert_eq!(handle.workflow_id(), child_id);
        let doubled = handle.result().await?;
        let failed = ctx
            .execute_child_workflow(Doubler::run, -1, ChildWorkflowOptions::new())
            .await
            .expect_err("a negative input fails the child");
        assert!(matches!(failed.info, FailureInfo::ChildWorkflow(_)));
        Ok(ParentOutput {
            doubled,
            child_id,
            failure_type: failed.root_cause().application_type().map(str::to_string),
        })
    }
}

#[tokio::test]
async fn child_workflows_return_results_and_failures_to_the_parent() {
    let client = client().await;
    let queue = unique_id("rust-wf");
    let worker = spawn_worker(
        Worker::new(client.clone(), &queue)
            .register_workflow::<Parent>()
            .register_workflow::<Doubler>(),
    );
    let id = unique_id("parent");
    let out = client
        .execute_workflow(Parent::run, 21, WorkflowOptions::new(&id, &queue))
        .await
        .unwrap();
    assert_eq!(
        out,
        ParentOutput {
            doubled: 42,
            child_id: format!("{id}-child"),
            failure_type: Some("Negative".into()),
        }
    );
    stop_worker(worker).await;
}

// ---- continue-as-new -------------------------------------------------------------------

#[workflow]
#[derive(Default)]
struct Countdown;

#[workflow]
impl Countdown {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, n: u32) -> WorkflowResult<String> {
        if n > 0 {
            return ctx.continue_as_new(&(n - 1));
        }
        let previous = ctx.info().continued_run_id.clone().unwrap_or_default();
        Ok(format!("done; continued from {}", !previous.is_empty()))
    }
}

#[tokio::test]
async fn continue_as_new_starts_fresh_runs_until_the_last_returns() {
    let client = client().await;
    let queue = unique_id("rust-wf");
    let worker = spawn_worker(Worker::new(client.clone(), &queue).register_workflow::<Countdown>());
    let handle = client
        .start_workflow(
            Countdown::run,
            3,
            WorkflowOptions::new(unique_id("countdown"), &queue),
        )
        .await
        .unwrap();
    assert_eq!(handle.result().await.unwrap(), "done; continued from true");
    // The first run's history ends in continue-as-new.
    let first_run = handle
        .run_id()
        .expect("started runs have an id")
        .to_string();
    let first = handle.with_run_id(first_run).fetch_history().await.unwrap();
    assert!(matches!(
        first.last().and_then(|e| e.attributes.as_ref()),
        Some(Attributes::WorkflowExecutionContinuedAsNewEventAttributes(
            _
        ))
    ));
    stop_worker(worker).await;
}

// ---- deterministic values across replays ------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Draws {
    uuid: String,
    random: u64,
    now_ms: u128,
    side_effect: String,
}

/// Hands what the workflow drew to the test.
struct Recorder(mpsc::UnboundedSender<Draws>);

#[activities]
impl Recorder {
    #[activity(name = "record_draws")]
    async fn record(&self, _ctx: ActivityContext, draws: Draws) -> Result<(), ActivityError> {
        let _ = self.0.send(draws);
        Ok(())
    }
}

#[workflow]
#[derive(Default)]
struct Dice;

#[workflow]
impl Dice {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<Draws> {
        let draws = Draws {
            uuid: ctx.uuid4().to_string(),
            random: ctx.random_u64(),
            now_ms: ctx
                .now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis(),
            // Not deterministic by itself: recorded once, replayed from history.
            side_effect: ctx.side_effect(|| uuid::Uuid::new_v4().to_string())?,
        };
        let options = ActivityOptions::start_to_close(Duration::from_secs(10));
        ctx.execute_activity(Recorder::record, draws.clone(), options)
            .await?;
        ctx.sleep(Duration::from_millis(10)).await?;
        Ok(draws)
    }
}

#[tokio::test]
async fn time_randomness_and_side_effects_replay_identically() {
    let client = client().await;
    let queue = unique_id("rust-wf");
    let (sender, mut recorded) = mpsc::unbounded_channel();
    // Without a cache every task replays from the first event, so the result is computed
    // by a replay and the activity's input by the first execution.
    let worker = spawn_worker(
        Worker::new(client.clone(), &queue)
            .options(no_cache())
            .register_workflow::<Dice>()
            .register_activities(Recorder(sender)),
    );
    let out = client
        .execute_workflow(
            Dice::run,
            (),
            WorkflowOptions::new(unique_id("dice"), &queue),
        )
        .await
        .unwrap();
    let first = recorded.recv().await.unwrap();
    assert_eq!(out, first);
    assert_eq!(
        uuid::Uuid::parse_str(&out.uuid).unwrap().get_version_num(),
        4
    );
    stop_worker(worker).await;
}

// ---- queries and signals without a cache ------------------------------------------------

#[tokio::test]
async fn queries_and_signals_work_when_every_task_replays() {
    let client = client().await;
    let queue = unique_id("rust-wf");
    let worker = spawn_worker(
        Worker::new(client.clone(), &queue)
            .options(no_cache())
            .register_workflow::<Collector>(),
    );
    let handle = client
        .start_workflow(
            Collector::run,
            (),
            WorkflowOptions::new(unique_id("collector"), &queue),
        )
        .await
        .unwrap();
    for item in ["x", "y"] {
        handle
            .signal(Collector::collect, item.to_string())
            .await
            .unwrap();
    }
    let seen = eventually(Duration::from_secs(10), "both signals applied", || async {
        let items = handle.query(Collector::collected, ()).await.unwrap();
        (items.len() == 2).then_some(items)
    })
    .await;
    assert_eq!(seen, vec!["x", "y"]);
    let unknown = handle
        .query_by_name::<String>("no_such_query", ())
        .await
        .expect_err("unknown query");
    assert!(unknown.to_string().contains("collected"), "{unknown}");
    handle.signal(Collector::done, ()).await.unwrap();
    assert_eq!(handle.result().await.unwrap(), vec!["x", "y"]);
    stop_worker(worker).await;
}

// ---- unknown workflow type --------------------------------------------------------------

/// The run's first failed workflow task, once its history shows one.
async fn first_task_failure<W>(
    handle: &workflow_client::WorkflowHandle<W>,
) -> temporalio_protos::temporal::api::history::v1::WorkflowTaskFailedEventAttributes {
    let failed = wait_for_event(handle, |e| {
        matches!(
            e.attributes,
            Some(Attributes::WorkflowTaskFailedEventAttributes(_))
        )
    })
    .await;
    let Some(Attributes::WorkflowTaskFailedEventAttributes(a)) = failed.attributes else {
        unreachable!("the event matched")
    };
    a
}

#[tokio::test]
async fn an_unknown_workflow_type_fails_the_task_not_the_workflow() {
    let client = client().await;
    let queue = unique_id("rust-wf");
    let worker =
        spawn_worker(Worker::new(client.clone(), &queue).register_workflow::<YourWorkflow>());
    let handle = client
        .start_workflow(
            WorkflowRef::<(), ()>::new("NoSuchWorkflow"),
            (),
            WorkflowOptions::new(unique_id("unknown"), &queue),
        )
        .await
        .unwrap();
    let a = first_task_failure(&handle).await;
    let message = a.failure.unwrap().message;
    assert!(
        message.contains("NoSuchWorkflow") && message.contains("YourWorkflow"),
        "{message}"
    );
    let status = handle.describe().await.unwrap().status;
    assert_eq!(status, workflow_client::WorkflowExecutionStatus::Running);
    handle.terminate("test over").await.unwrap();
    stop_worker(worker).await;
}

// ---- run-time determinism checks (debug builds) -----------------------------------------

/// Awaits a future nothing in its history can complete.
#[workflow]
#[derive(Default)]
struct WaitsOnNothing;

#[workflow]
impl WaitsOnNothing {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        futures::future::pending::<()>().await;
        Ok(())
    }
}

#[tokio::test]
async fn code_waiting_on_nothing_the_history_drives_fails_its_task_and_says_why() {
    let client = client().await;
    let queue = unique_id("rust-wf");
    let worker =
        spawn_worker(Worker::new(client.clone(), &queue).register_workflow::<WaitsOnNothing>());
    let handle = client
        .start_workflow(
            WaitsOnNothing::run,
            (),
            WorkflowOptions::new(unique_id("waits-on-nothing"), &queue),
        )
        .await
        .unwrap();
    let a = first_task_failure(&handle).await;
    let message = a.failure.unwrap().message;
    assert!(
        message.contains(
            "workflow WaitsOnNothing is waiting on something the workflow runtime does not drive"
        ),
        "{message}"
    );
    let status = handle.describe().await.unwrap().status;
    assert_eq!(status, workflow_client::WorkflowExecutionStatus::Running);
    handle.terminate("test over").await.unwrap();
    stop_worker(worker).await;
}

// ---- versioning and the replayer -------------------------------------------------------

#[activity]
async fn step_a(_ctx: ActivityContext) -> Result<String, ActivityError> {
    Ok("step_a".into())
}

#[activity]
async fn step_b(_ctx: ActivityContext) -> Result<String, ActivityError> {
    Ok("step_b".into())
}

fn step_options() -> ActivityOptions {
    ActivityOptions::start_to_close(Duration::from_secs(10))
}

/// Version 1: runs `step_a`, waits for `go`, then `step_a` again.
#[workflow(name = "Versioned")]
#[derive(Default)]
struct VersionedV1 {
    go: bool,
}

/// Version 2: the second step became `step_b`, behind a patch.
#[workflow(name = "Versioned")]
#[derive(Default)]
struct VersionedV2 {
    go: bool,
}

/// Version 3: `step_b` without the patch (breaks runs started by version 1).
#[workflow(name = "Versioned")]
#[derive(Default)]
struct VersionedV3 {
    go: bool,
}

/// Version 4: the patch is deprecated, its old path gone.
#[workflow(name = "Versioned")]
#[derive(Default)]
struct VersionedV4 {
    go: bool,
}

/// A broken version: the first step changed.
#[workflow(name = "Versioned")]
#[derive(Default)]
struct VersionedBroken {
    go: bool,
}

macro_rules! versioned {
    ($ty:ident, |$ctx:ident| $second:expr) => {
        versioned!(
            $ty,
            |$ctx| $ctx.execute_activity(step_a, (), step_options()),
            $second
        );
    };
    ($ty:ident, |$ctx:ident| $first:expr, $second:expr) => {
        #[workflow]
        impl $ty {
            #[run]
            async fn run($ctx: WorkflowContext<Self>) -> WorkflowResult<Vec<String>> {
                let first: String = $first.await?;
                $ctx.wait_condition(|s: &Self| s.go).await;
                let second: String = $second.await?;
                Ok(vec![first, second])
            }
            #[signal]
            fn go(&mut self) {
                self.go = true;
            }
        }
    };
}

versioned!(VersionedV1, |ctx| ctx.execute_activity(
    step_a,
    (),
    step_options()
));
versioned!(VersionedV2, |ctx| if ctx.patched("use-step-b") {
    ctx.execute_activity(step_b, (), step_options())
} else {
    ctx.execute_activity(step_a, (), step_options())
});
versioned!(VersionedV3, |ctx| ctx.execute_activity(
    step_b,
    (),
    step_options()
));
versioned!(VersionedV4, |ctx| {
    ctx.deprecate_patch("use-step-b");
    ctx.execute_activity(step_b, (), step_options())
});
versioned!(
    VersionedBroken,
    |ctx| ctx.execute_activity(step_b, (), step_options()),
    ctx.execute_activity(step_a, (), step_options())
);

type VersionedRun = WorkflowRef<(), Vec<String>>;
const VERSIONED: VersionedRun = WorkflowRef::new("Versioned");
const GO: SignalRef<VersionedRun, ()> = SignalRef::new("go");

fn steps(worker: Worker) -> Worker {
    worker.register_activity(step_a).register_activity(step_b)
}

/// Runs version 1 to completion; its workflow id and history.
async fn run_versioned_v1(
    client: &workflow_client::Client,
) -> (
    String,
    Vec<temporalio_protos::temporal::api::history::v1::HistoryEvent>,
) {
    let queue = unique_id("rust-wf");
    let worker = spawn_worker(steps(
        Worker::new(client.clone(), &queue).register_workflow::<VersionedV1>(),
    ));
    let handle = client
        .start_workflow(
            VERSIONED,
            (),
            WorkflowOptions::new(unique_id("versioned"), &queue),
        )
        .await
        .unwrap();
    handle.signal(GO, ()).await.unwrap();
    assert_eq!(handle.result().await.unwrap(), vec!["step_a", "step_a"]);
    stop_worker(worker).await;
    (
        handle.workflow_id().to_string(),
        handle.fetch_history().await.unwrap(),
    )
}

#[tokio::test]
async fn the_replayer_accepts_patched_code_and_reports_a_breaking_change() {
    let client = client().await;
    let history = History {
        events: run_versioned_v1(&client).await.1,
    };
    Replayer::new()
        .register_workflow::<VersionedV1>()
        .replay(&history)
        .expect("the same code replays");
    Replayer::new()
        .register_workflow::<VersionedV2>()
        .replay(&history)
        .expect("patched code takes the old path on old histories");
    let error = Replayer::new()
        .register_workflow::<VersionedV3>()
        .replay(&history)
        .expect_err("an unpatched change is nondeterministic");
    let ReplayError::Nondeterminism(message) = &error else {
        panic!("expected nondeterminism, got {error:?}")
    };
    assert!(
        message.contains("activity_type=step_a") && message.contains("activity_type=step_b"),
        "{message}"
    );
    let unknown = Replayer::new()
        .register_workflow::<Collector>()
        .replay(&history)
        .expect_err("Versioned is not registered");
    assert!(
        matches!(unknown, ReplayError::UnknownWorkflowType { .. }),
        "{unknown:?}"
    );
}

#[tokio::test]
async fn histories_downloaded_by_query_replay_from_a_folder() {
    let client = client().await;
    let (first, _) = run_versioned_v1(&client).await;
    let (second, _) = run_versioned_v1(&client).await;
    let query = format!("WorkflowId = '{first}' OR WorkflowId = '{second}'");
    // Visibility may trail the runs' closing on a real server.
    eventually(Duration::from_secs(10), "both runs listed", || async {
        (client.count_workflows(query.clone()).await.unwrap() == 2).then_some(())
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("histories");
    let written = workflow_worker::download_histories(&client, &query, &folder, 10)
        .await
        .unwrap();
    assert_eq!(written.len(), 2, "{written:?}");
    let mut names: Vec<_> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut ids = [first.clone(), second.clone()];
    ids.sort();
    for (name, id) in names.iter().zip(&ids) {
        assert!(name.starts_with(&format!("{id}__")), "{names:?}");
    }
    assert!(names.iter().all(|n| n.ends_with(".binpb")), "{names:?}");
    let limited = workflow_worker::download_histories(&client, &query, dir.path().join("one"), 1)
        .await
        .unwrap();
    assert_eq!(limited.len(), 1);

    // The code that wrote them, and a patched change, replay; an unpatched change does not.
    for replayer in [
        Replayer::new().register_workflow::<VersionedV1>(),
        Replayer::new().register_workflow::<VersionedV2>(),
    ] {
        let report = replayer.replay_dir(&folder).unwrap();
        assert_eq!(report.files.len(), 2);
        report.assert_all_replayed();
    }
    let report = Replayer::new()
        .register_workflow::<VersionedV3>()
        .replay_dir(&folder)
        .unwrap();
    let failures: Vec<_> = report.failures().collect();
    assert_eq!(failures.len(), 2, "{report:?}");
    assert!(
        failures
            .iter()
            .all(|(_, e)| matches!(e, ReplayError::Nondeterminism(m) if m.contains("step_b"))),
        "{failures:?}"
    );
}

#[tokio::test]
async fn patched_code_takes_the_new_path_on_new_runs() {
    let client = client().await;
    let queue = unique_id("rust-wf");
    let worker = spawn_worker(steps(
        Worker::new(client.clone(), &queue).register_workflow::<VersionedV2>(),
    ));
    let handle = client
        .start_workflow(
            VERSIONED,
            (),
            WorkflowOptions::new(unique_id("versioned"), &queue),
        )
        .await
        .unwrap();
    handle.signal(GO, ()).await.unwrap();
    assert_eq!(handle.result().await.unwrap(), vec!["step_a", "step_b"]);
    stop_worker(worker).await;
    let history = History {
        events: handle.fetch_history().await.unwrap(),
    };
    Replayer::new()
        .register_workflow::<VersionedV2>()
        .replay(&history)
        .expect("a patched run replays with its own code");
    Replayer::new()
        .register_workflow::<VersionedV4>()
        .replay(&history)
        .expect("deprecate_patch replays histories with the marker");
    let error = Replayer::new()
        .register_workflow::<VersionedV3>()
        .replay(&history)
        .expect_err("removing `patched` before deprecating it breaks runs that took it");
    assert!(format!("{error}").contains("use-step-b"), "{error}");
}

#[tokio::test]
async fn the_replayer_reads_the_json_the_temporal_cli_writes() {
    let client = client().await;
    let queue = unique_id("rust-wf");
    let worker = spawn_worker(steps(
        Worker::new(client.clone(), &queue).register_workflow::<VersionedV1>(),
    ));
    let id = unique_id("versioned");
    let handle = client
        .start_workflow(VERSIONED, (), WorkflowOptions::new(&id, &queue))
        .await
        .unwrap();
    handle.signal(GO, ()).await.unwrap();
    handle.result().await.unwrap();
    stop_worker(worker).await;
    let cli = python().with_file_name("temporal");
    let output = Command::new(cli)
        .args([
            "workflow",
            "show",
            "--output",
            "json",
            "--address",
            &address(),
            "--workflow-id",
            &id,
        ])
        .output()
        .expect("run the temporal CLI");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json = String::from_utf8(output.stdout).unwrap();
    Replayer::new()
        .register_workflow::<VersionedV1>()
        .replay_json(&json)
        .expect("the saved history replays");
    let error = Replayer::new()
        .register_workflow::<VersionedV3>()
        .replay_json(&json)
        .expect_err("the breaking change is caught");
    assert!(matches!(error, ReplayError::Nondeterminism(_)), "{error:?}");
    let malformed = Replayer::new()
        .register_workflow::<VersionedV1>()
        .replay_json("{\"events\": [{\"eventId\": \"x\"}]}")
        .expect_err("malformed JSON");
    assert!(
        matches!(malformed, ReplayError::History(_)),
        "{malformed:?}"
    );
}

// ---- non-determinism on a live worker --------------------------------------------------

#[tokio::test]
async fn a_breaking_change_fails_the_task_and_a_fixed_worker_continues() {
    let client = client().await;
    let queue = unique_id("rust-wf");
    let quick_sticky =
        || WorkerOptions::default().sticky_queue_schedule_to_start_timeout(Duration::from_secs(1));
    let v1 = spawn_worker(steps(
        Worker::new(client.clone(), &queue)
            .options(quick_sticky())
            .register_workflow::<VersionedV1>(),
    ));
    let handle = client
        .start_workflow(
            VERSIONED,
            (),
            WorkflowOptions::new(unique_id("versioned"), &queue),
        )
        .await
        .unwrap();
    wait_for_event(&handle, |e| {
        matches!(
            e.attributes,
            Some(Attributes::ActivityTaskCompletedEventAttributes(_))
        )
    })
    .await;
    stop_worker(v1).await;

    let broken = spawn_worker(steps(
        Worker::new(client.clone(), &queue)
            .options(quick_sticky())
            .register_workflow::<VersionedBroken>(),
    ));
    handle.signal(GO, ()).await.unwrap();
    let a = first_task_failure(&handle).await;
    assert_eq!(a.cause(), WorkflowTaskFailedCause::NonDeterministicError);
    let message = a.failure.unwrap().message;
    assert!(
        message.contains("step_a") && message.contains("step_b"),
        "the error names both sides: {message}"
    );
    stop_worker(broken).await;

    let fixed = spawn_worker(steps(
        Worker::new(client.clone(), &queue)
            .options(quick_sticky())
            .register_workflow::<VersionedV2>(),
    ));
    // The signal's task is new work, so the patched code takes its new path.
    assert_eq!(handle.result().await.unwrap(), vec!["step_a", "step_b"]);
    stop_worker(fixed).await;
}

// ---- worker crash ----------------------------------------------------------------------

/// Hangs on its first attempt (the worker running it crashes), succeeds afterwards.
struct Flaky {
    attempts: Arc<AtomicU32>,
    started: mpsc::UnboundedSender<u32>,
}

#[activities]
impl Flaky {
    #[activity]
    async fn flaky(&self, ctx: ActivityContext) -> Result<String, ActivityError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        let _ = self.started.send(ctx.info().attempt);
        if ctx.info().attempt == 1 {
            std::future::pending::<()>().await;
        }
        Ok(format!("attempt {}", ctx.info().attempt))
    }
}

#[workflow]
#[derive(Default)]
struct Survivor {
    go: bool,
}

#[workflow]
impl Survivor {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<Vec<String>> {
        let first = ctx.execute_activity(step_a, (), step_options()).await?;
        ctx.wait_condition(|s: &Self| s.go).await;
        let options = ActivityOptions::start_to_close(Duration::from_secs(2))
            .retry_policy(RetryPolicy::default().initial_interval(Duration::from_millis(100)));
        let second = ctx.execute_activity(Flaky::flaky, (), options).await?;
        Ok(vec![first, second])
    }
    #[signal]
    fn go(&mut self) {
        self.go = true;
    }
}

#[tokio::test]
async fn a_workflow_survives_a_worker_crash_and_completes_on_a_new_worker() {
    let client = client().await;
    let queue = unique_id("rust-wf");
    let attempts = Arc::new(AtomicU32::new(0));
    let (started, mut started_rx) = mpsc::unbounded_channel();
    let worker = || {
        steps(
            Worker::new(client.clone(), &queue)
                .options(
                    WorkerOptions::default()
                        .sticky_queue_schedule_to_start_timeout(Duration::from_secs(1)),
                )
                .register_workflow::<Survivor>()
                .register_activities(Flaky {
                    attempts: attempts.clone(),
                    started: started.clone(),
                }),
        )
    };
    let first = tokio::spawn(worker().run());
    let handle = client
        .start_workflow(
            WorkflowRef::<(), Vec<String>>::new("Survivor"),
            (),
            WorkflowOptions::new(unique_id("survivor"), &queue),
        )
        .await
        .unwrap();
    handle.signal_by_name("go", ()).await.unwrap();
    assert_eq!(
        started_rx.recv().await,
        Some(1),
        "the first attempt is running"
    );
    // The crash: the worker's future is dropped mid-activity, with its cached run and its
    // sticky queue, without any goodbye to the server.
    first.abort();
    let _ = first.await;

    let second = spawn_worker(worker());
    let result = handle.result().await.unwrap();
    assert_eq!(result, vec!["step_a".to_string(), "attempt 2".to_string()]);
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    stop_worker(second).await;
}

// ---- cross-language start ---------------------------------------------------------------

#[tokio::test]
async fn a_python_client_starts_a_rust_workflow() {
    let client = client().await;
    let queue = unique_id("rust-wf");
    let worker = spawn_worker(
        Worker::new(client.clone(), &queue)
            .register_workflow::<YourWorkflow>()
            .register_activity(your_activity),
    );
    let output = tokio::process::Command::new(python())
        .arg(python_dir().join("start_workflow.py"))
        .args([
            &address(),
            &queue,
            "YourWorkflow",
            &unique_id("from-python"),
            "\"Python\"",
        ])
        .output()
        .await
        .expect("run start_workflow.py");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    assert_eq!(
        last,
        "RESULT \"Hello, Python!\"",
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    stop_worker(worker).await;
}

#[workflow]
#[derive(Default)]
struct Napper;

#[workflow]
impl Napper {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        ctx.sleep(Duration::from_secs(3600)).await?;
        Ok(())
    }
}

/// `__stack_trace`, which the Temporal UI and CLI send, names what the run is blocked on.
#[tokio::test]
async fn the_stack_trace_query_names_what_a_workflow_waits_on() {
    let client = client().await;
    let queue = unique_id("rust-wf");
    let worker = spawn_worker(Worker::new(client.clone(), &queue).register_workflow::<Napper>());
    let handle = client
        .start_workflow(
            Napper::run,
            (),
            WorkflowOptions::new(unique_id("napper"), &queue),
        )
        .await
        .unwrap();
    let stack = eventually(Duration::from_secs(10), "the timer started", || async {
        let stack: String = handle.query_by_name("__stack_trace", ()).await.unwrap();
        stack.contains("timer 1").then_some(stack)
    })
    .await;
    assert!(
        stack.starts_with("workflow Napper is waiting on:"),
        "{stack}"
    );
    handle.terminate("done").await.unwrap();
    stop_worker(worker).await;
}

// ---- memo and search attribute upserts -------------------------------------------------

#[workflow]
#[derive(Default)]
struct Tagger;

#[workflow]
impl Tagger {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, tag: String) -> WorkflowResult<()> {
        ctx.upsert_search_attributes(
            SearchAttributes::new()
                .keyword("CustomKeyword", tag)
                .int("CustomInt", 7),
        )?;
        ctx.upsert_memo("stage", &"shipping".to_string())?;
        ctx.sleep(Duration::from_millis(10)).await?;
        ctx.remove_memo(["draft"]);
        ctx.remove_search_attributes(["CustomInt"]);
        Ok(())
    }
}

#[tokio::test]
async fn a_workflow_upserts_and_removes_its_memo_fields_and_search_attributes() {
    let client = client().await;
    let queue = unique_id("rust-wf");
    let worker = spawn_worker(Worker::new(client.clone(), &queue).register_workflow::<Tagger>());
    let tag = unique_id("tagged");
    let options = WorkflowOptions::new(unique_id("tagger"), &queue)
        .memo("draft", &true)
        .memo("owner", &"team-a".to_string());
    let handle = client
        .start_workflow(Tagger::run, tag.clone(), options)
        .await
        .unwrap();
    handle.result().await.unwrap();
    let described = handle.describe().await.unwrap();
    let mut memo_keys: Vec<_> = described.info.memo.keys().cloned().collect();
    memo_keys.sort();
    assert_eq!(memo_keys, ["owner", "stage"], "draft was removed");
    assert_eq!(
        described
            .info
            .memo_value::<String>("stage")
            .unwrap()
            .unwrap(),
        "shipping"
    );
    assert_eq!(
        described.info.search_attributes.get("CustomKeyword"),
        Some(&SearchAttributeValue::Keyword(tag.clone()))
    );
    assert_eq!(described.info.search_attributes.get("CustomInt"), None);
    // The list index follows the upserts too.
    let query = format!("CustomKeyword = '{tag}'");
    eventually(Duration::from_secs(30), "the tagged run listed", || {
        let client = client.clone();
        let query = query.clone();
        async move { (client.count_workflows(query).await.unwrap() == 1).then_some(()) }
    })
    .await;
    stop_worker(worker).await;
}

// ---- history size and the continue-as-new suggestion -----------------------------------

#[workflow]
#[derive(Default)]
struct Measured;

#[workflow]
impl Measured {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<(u32, u64, bool, u64)> {
        let first = ctx.history_size();
        ctx.sleep(Duration::from_millis(10)).await?;
        Ok((
            ctx.history_length(),
            ctx.history_size(),
            ctx.continue_as_new_suggested(),
            first,
        ))
    }
}

#[tokio::test]
async fn a_workflow_task_reports_the_history_size_and_no_suggestion_for_a_short_history() {
    let client = client().await;
    let queue = unique_id("rust-wf");
    let worker = spawn_worker(Worker::new(client.clone(), &queue).register_workflow::<Measured>());
    let (length, size, suggested, first) = client
        .execute_workflow(
            Measured::run,
            (),
            WorkflowOptions::new(unique_id("measured"), &queue),
        )
        .await
        .unwrap();
    // Started, a task (scheduled, started, completed), the timer (started, fired), and the
    // second task scheduled: it starts at event 8, with more history behind it.
    assert_eq!(length, 8);
    assert!(first > 0, "the first task sees the start events");
    assert!(size > first, "{size} after the timer, {first} before");
    assert!(!suggested);
    stop_worker(worker).await;
}

// ---- an activity's summary -------------------------------------------------------------

#[activity]
async fn noted_step(_ctx: ActivityContext, item: String) -> Result<String, ActivityError> {
    Ok(format!("noted {item}"))
}

#[workflow]
#[derive(Default)]
struct Noted;

#[workflow]
impl Noted {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<String> {
        let options =
            ActivityOptions::start_to_close(Duration::from_secs(10)).summary("note the item");
        Ok(ctx
            .execute_activity(noted_step, "jam".to_string(), options)
            .await?)
    }
}

#[tokio::test]
async fn an_activitys_summary_is_kept_on_its_scheduled_event() {
    let client = client().await;
    let queue = unique_id("rust-wf");
    let worker = spawn_worker(
        Worker::new(client.clone(), &queue)
            .register_workflow::<Noted>()
            .register_activity(noted_step),
    );
    let handle = client
        .start_workflow(
            Noted::run,
            (),
            WorkflowOptions::new(unique_id("noted"), &queue),
        )
        .await
        .unwrap();
    assert_eq!(handle.result().await.unwrap(), "noted jam");
    let history = handle.fetch_history().await.unwrap();
    let scheduled = history
        .iter()
        .find(|e| {
            matches!(
                e.attributes,
                Some(Attributes::ActivityTaskScheduledEventAttributes(_))
            )
        })
        .expect("the activity was scheduled");
    let summary = scheduled
        .user_metadata
        .as_ref()
        .and_then(|m| m.summary.as_ref())
        .expect("the scheduled event keeps the summary");
    assert_eq!(summary.data, br#""note the item""#);
    stop_worker(worker).await;
}
