//! Cancellation from and of Rust workflows on the real Temporal dev server: activities,
//! timers, children and the workflow itself.

use std::time::Duration;

use temporalio_protos::temporal::api::history::v1::history_event::Attributes;
use tokio::sync::mpsc;
use workflow_client::Error;
use workflow_core::activity::CancelReason;
use workflow_core::failure::{Failure, FailureInfo};
use workflow_core::prelude::*;
use workflow_core::workflow::{ActivityCancellationType, ChildWorkflowOptions};
use workflow_tests::*;
use workflow_worker::Worker;

fn is_cancelled(failure: &Failure) -> bool {
    failure
        .causes()
        .any(|f| matches!(f.info, FailureInfo::Canceled { .. }))
}

/// Reports when it starts and why it stopped; heartbeats so it learns of cancellation.
struct Watched {
    started: mpsc::UnboundedSender<()>,
    stopped: mpsc::UnboundedSender<CancelReason>,
}

#[activities]
impl Watched {
    #[activity]
    async fn watched(&self, ctx: ActivityContext) -> Result<String, ActivityError> {
        let _ = self.started.send(());
        loop {
            ctx.heartbeat(&"working".to_string())?;
            tokio::select! {
                reason = ctx.cancelled() => {
                    let _ = self.stopped.send(reason);
                    return Err(ActivityError::cancelled());
                }
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        }
    }
}

#[activity]
async fn clean_up(_ctx: ActivityContext, what: String) -> Result<String, ActivityError> {
    Ok(format!("cleaned up after {what}"))
}

fn watched_options() -> ActivityOptions {
    ActivityOptions::start_to_close(Duration::from_secs(60))
        .heartbeat_timeout(Duration::from_secs(5))
        .retry_policy(RetryPolicy::default().maximum_attempts(1))
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
enum CancelHow {
    TryCancel,
    WaitCancellationCompleted,
}

#[workflow]
#[derive(Default)]
struct CancelsItsActivity {
    go: bool,
}

#[workflow]
impl CancelsItsActivity {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, how: CancelHow) -> WorkflowResult<String> {
        let kind = match how {
            CancelHow::TryCancel => ActivityCancellationType::TryCancel,
            CancelHow::WaitCancellationCompleted => {
                ActivityCancellationType::WaitCancellationCompleted
            }
        };
        let handle = ctx.start_activity(
            Watched::watched,
            (),
            watched_options().cancellation_type(kind),
        );
        // The test signals once the activity runs.
        ctx.wait_condition(|s: &Self| s.go).await;
        handle.cancel();
        let failure = handle.await.expect_err("cancelled");
        assert!(is_cancelled(&failure), "{failure:?}");
        Ok(format!("{how:?} done"))
    }

    #[signal]
    fn go(&mut self) {
        self.go = true;
    }
}

struct Running {
    worker: RunningWorker,
    started: mpsc::UnboundedReceiver<()>,
    stopped: mpsc::UnboundedReceiver<CancelReason>,
    queue: String,
}

fn start(configure: impl FnOnce(Worker) -> Worker, client: &workflow_client::Client) -> Running {
    let queue = unique_id("rust-wf");
    let (started_tx, started) = mpsc::unbounded_channel();
    let (stopped_tx, stopped) = mpsc::unbounded_channel();
    let worker = spawn_worker(configure(
        Worker::new(client.clone(), &queue)
            .register_activities(Watched {
                started: started_tx,
                stopped: stopped_tx,
            })
            .register_activity(clean_up),
    ));
    Running {
        worker,
        started,
        stopped,
        queue,
    }
}

async fn cancel_own_activity(how: CancelHow) {
    let client = client().await;
    let mut running = start(|w| w.register_workflow::<CancelsItsActivity>(), &client);
    let handle = client
        .start_workflow(
            CancelsItsActivity::run,
            how,
            WorkflowOptions::new(unique_id("cancels"), &running.queue),
        )
        .await
        .unwrap();
    running.started.recv().await.expect("the activity started");
    handle.signal(CancelsItsActivity::go, ()).await.unwrap();
    let reason = running.stopped.recv().await;
    match how {
        // The workflow waited for the activity, so the activity saw the request itself.
        CancelHow::WaitCancellationCompleted => assert_eq!(reason, Some(CancelReason::Requested)),
        // The workflow went on at once and may have closed first; either way the activity's
        // heartbeat told it to stop.
        CancelHow::TryCancel => assert!(
            matches!(
                reason,
                Some(CancelReason::Requested | CancelReason::GoneFromServer)
            ),
            "{reason:?}"
        ),
    }
    assert_eq!(handle.result().await.unwrap(), format!("{how:?} done"));
    if let CancelHow::WaitCancellationCompleted = how {
        // The workflow resumed only once the activity reported its cancellation.
        let history = handle.fetch_history().await.unwrap();
        assert!(history.iter().any(|e| matches!(
            e.attributes,
            Some(Attributes::ActivityTaskCanceledEventAttributes(_))
        )));
    }
    stop_worker(running.worker).await;
}

#[tokio::test]
async fn a_workflow_cancels_its_activity_and_the_activity_sees_it() {
    cancel_own_activity(CancelHow::TryCancel).await;
}

#[tokio::test]
async fn wait_cancellation_completed_waits_for_the_activity_to_stop() {
    cancel_own_activity(CancelHow::WaitCancellationCompleted).await;
}

#[workflow]
#[derive(Default)]
struct TimerCanceller;

#[workflow]
impl TimerCanceller {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<bool> {
        let long = ctx.sleep(Duration::from_secs(3600));
        let short = ctx.sleep(Duration::from_millis(100));
        // Sent first, then cancelled in a later task.
        short.await?;
        long.cancel();
        Ok(long.await.is_err_and(|f| is_cancelled(&f)))
    }
}

#[tokio::test]
async fn a_cancelled_timer_resolves_as_cancelled() {
    let client = client().await;
    let running = start(|w| w.register_workflow::<TimerCanceller>(), &client);
    let handle = client
        .start_workflow(
            TimerCanceller::run,
            (),
            WorkflowOptions::new(unique_id("timer"), &running.queue),
        )
        .await
        .unwrap();
    assert!(handle.result().await.unwrap());
    let history = handle.fetch_history().await.unwrap();
    assert!(history.iter().any(|e| matches!(
        e.attributes,
        Some(Attributes::TimerCanceledEventAttributes(_))
    )));
    stop_worker(running.worker).await;
}

#[workflow]
#[derive(Default)]
struct Sleeper;

#[workflow]
impl Sleeper {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        ctx.sleep(Duration::from_secs(3600)).await?;
        Ok(())
    }
}

#[tokio::test]
async fn cancelling_a_sleeping_workflow_cancels_its_timer_and_the_workflow() {
    let client = client().await;
    let running = start(|w| w.register_workflow::<Sleeper>(), &client);
    let handle = client
        .start_workflow(
            Sleeper::run,
            (),
            WorkflowOptions::new(unique_id("sleeper"), &running.queue),
        )
        .await
        .unwrap();
    wait_for_event(&handle, |e| {
        matches!(
            e.attributes,
            Some(Attributes::TimerStartedEventAttributes(_))
        )
    })
    .await;
    handle.cancel().await.unwrap();
    assert!(matches!(
        handle.result().await,
        Err(Error::Cancelled { .. })
    ));
    let history = handle.fetch_history().await.unwrap();
    let has =
        |f: fn(&Attributes) -> bool| history.iter().any(|e| e.attributes.as_ref().is_some_and(f));
    assert!(has(|a| matches!(
        a,
        Attributes::TimerCanceledEventAttributes(_)
    )));
    assert!(has(|a| matches!(
        a,
        Attributes::WorkflowExecutionCanceledEventAttributes(_)
    )));
    stop_worker(running.worker).await;
}

#[workflow]
#[derive(Default)]
struct AwaitsActivity;

#[workflow]
impl AwaitsActivity {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<String> {
        Ok(ctx
            .execute_activity(Watched::watched, (), watched_options())
            .await?)
    }
}

#[tokio::test]
async fn cancelling_a_workflow_cancels_the_activity_it_awaits() {
    let client = client().await;
    let mut running = start(|w| w.register_workflow::<AwaitsActivity>(), &client);
    let handle = client
        .start_workflow(
            AwaitsActivity::run,
            (),
            WorkflowOptions::new(unique_id("awaits"), &running.queue),
        )
        .await
        .unwrap();
    running.started.recv().await.expect("the activity started");
    handle.cancel().await.unwrap();
    // The activity's heartbeat tells it to stop: the request, or the run already closed.
    let reason = running.stopped.recv().await;
    assert!(
        matches!(
            reason,
            Some(CancelReason::Requested | CancelReason::GoneFromServer)
        ),
        "{reason:?}"
    );
    assert!(matches!(
        handle.result().await,
        Err(Error::Cancelled { .. })
    ));
    stop_worker(running.worker).await;
}

#[workflow]
#[derive(Default)]
struct Tidy;

#[workflow]
impl Tidy {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<String> {
        // The timer is cancelled with the workflow, as an awaited sleep is in Python.
        match ctx.sleep(Duration::from_secs(3600)).await {
            Ok(()) => Ok("slept".into()),
            Err(failure) if ctx.is_cancel_requested() => {
                // Steps started after the request run normally: clean up, then finish.
                let reason = ctx.cancelled().await;
                let options = ActivityOptions::start_to_close(Duration::from_secs(10));
                let what = format!("{}: {reason}", failure.message);
                Ok(ctx.execute_activity(clean_up, what, options).await?)
            }
            Err(failure) => Err(failure.into()),
        }
    }
}

#[tokio::test]
async fn a_workflow_can_observe_cancellation_and_clean_up() {
    let client = client().await;
    let running = start(|w| w.register_workflow::<Tidy>(), &client);
    let handle = client
        .start_workflow(
            Tidy::run,
            (),
            WorkflowOptions::new(unique_id("tidy"), &running.queue),
        )
        .await
        .unwrap();
    wait_for_event(&handle, |e| {
        matches!(
            e.attributes,
            Some(Attributes::TimerStartedEventAttributes(_))
        )
    })
    .await;
    handle.cancel().await.unwrap();
    let result = handle.result().await.unwrap();
    assert!(
        result.starts_with("cleaned up after Timer cancelled"),
        "{result}"
    );
    stop_worker(running.worker).await;
}

#[workflow]
#[derive(Default)]
struct SleepyChild;

#[workflow]
impl SleepyChild {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        ctx.sleep(Duration::from_secs(3600)).await?;
        Ok(())
    }
}

#[workflow]
#[derive(Default)]
struct ChildCanceller;

#[workflow]
impl ChildCanceller {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<String> {
        let child = ctx
            .start_child_workflow(SleepyChild::run, (), ChildWorkflowOptions::new())
            .await?;
        child.cancel();
        let failure = child.result().await.expect_err("the child was cancelled");
        assert!(matches!(failure.info, FailureInfo::ChildWorkflow(_)));
        Ok(format!("child cancelled: {}", is_cancelled(&failure)))
    }
}

#[tokio::test]
async fn a_parent_cancels_its_child() {
    let client = client().await;
    let running = start(
        |w| {
            w.register_workflow::<ChildCanceller>()
                .register_workflow::<SleepyChild>()
        },
        &client,
    );
    let handle = client
        .start_workflow(
            ChildCanceller::run,
            (),
            WorkflowOptions::new(unique_id("parent"), &running.queue),
        )
        .await
        .unwrap();
    assert_eq!(handle.result().await.unwrap(), "child cancelled: true");
    stop_worker(running.worker).await;
}
