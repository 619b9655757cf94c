//! Rust workflows calling activities on the real Temporal dev server: retries, failures with
//! their causes, each timeout kind, activities of another language, concurrency.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use temporalio_protos::temporal::api::enums::v1::TimeoutType;
use tokio::sync::Barrier;
use workflow_client::Error;
use workflow_core::failure::{Failure, FailureInfo};
use workflow_core::prelude::*;
use workflow_core::workflow::future::join_all;
use workflow_tests::workflows::{COMPOSE_GREETING, FAILING_ACTIVITY};
use workflow_tests::*;
use workflow_worker::Worker;

/// Fails until its third attempt.
struct ThirdTime {
    calls: AtomicU32,
}

#[activities]
impl ThirdTime {
    #[activity]
    async fn third_time(&self, ctx: ActivityContext) -> Result<u32, ActivityError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let attempt = ctx.info().attempt;
        if attempt < 3 {
            return Err(ActivityError::retryable(
                "NotYet",
                format!("attempt {attempt}"),
            ));
        }
        Ok(attempt)
    }
}

#[activity]
async fn refuse(_ctx: ActivityContext, reason: String) -> Result<(), ActivityError> {
    Err(ActivityError::non_retryable("Refused", reason))
}

/// Never finishes by itself (it stops when cancelled or when its worker stops).
#[activity]
async fn hang(ctx: ActivityContext) -> Result<(), ActivityError> {
    ctx.cancelled().await;
    Err(ActivityError::cancelled())
}

/// Heartbeats once, then goes silent.
#[activity]
async fn heartbeat_once(ctx: ActivityContext) -> Result<(), ActivityError> {
    ctx.heartbeat(&"alive".to_string())?;
    ctx.cancelled().await;
    Err(ActivityError::cancelled())
}

/// Which step a workflow runs, and how.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum Plan {
    Retried,
    Refused,
    StartToClose,
    ScheduleToClose,
    ScheduleToStart,
    Heartbeat,
    Python { queue: String },
    PythonFailure { queue: String },
}

/// What the step gave: its result, or the failure as the workflow saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Outcome {
    result: Option<String>,
    outer_is_activity_failure: bool,
    timeout: Option<String>,
    application_type: Option<String>,
}

fn outcome_of(result: Result<String, Failure>) -> Outcome {
    match result {
        Ok(result) => Outcome {
            result: Some(result),
            outer_is_activity_failure: false,
            timeout: None,
            application_type: None,
        },
        Err(failure) => {
            let timeout = failure.causes().find_map(|f| match &f.info {
                FailureInfo::Timeout { timeout_type, .. } => {
                    Some(timeout_type.as_str_name().to_string())
                }
                _ => None,
            });
            Outcome {
                result: None,
                outer_is_activity_failure: matches!(failure.info, FailureInfo::Activity(_)),
                timeout,
                application_type: failure.root_cause().application_type().map(str::to_string),
            }
        }
    }
}

#[workflow]
#[derive(Default)]
struct Stepper;

#[workflow]
impl Stepper {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, plan: Plan) -> WorkflowResult<Outcome> {
        let once = RetryPolicy::default().maximum_attempts(1);
        let short = Duration::from_secs(1);
        let result = match plan {
            Plan::Retried => {
                let options = ActivityOptions::start_to_close(Duration::from_secs(10))
                    .retry_policy(
                        RetryPolicy::default()
                            .initial_interval(Duration::from_millis(50))
                            .maximum_attempts(5),
                    );
                ctx.execute_activity(ThirdTime::third_time, (), options)
                    .await
                    .map(|attempt| format!("succeeded on attempt {attempt}"))
            }
            Plan::Refused => {
                let options = ActivityOptions::start_to_close(Duration::from_secs(10));
                // The failure ends the workflow too: `?` keeps the cause chain.
                ctx.execute_activity(refuse, "policy".to_string(), options)
                    .await?;
                unreachable!("refuse always fails")
            }
            Plan::StartToClose => {
                let options = ActivityOptions::start_to_close(short).retry_policy(once);
                ctx.execute_activity(hang, (), options)
                    .await
                    .map(|()| String::new())
            }
            Plan::ScheduleToClose => {
                let options = ActivityOptions::schedule_to_close(short);
                ctx.execute_activity(hang, (), options)
                    .await
                    .map(|()| String::new())
            }
            Plan::ScheduleToStart => {
                let options = ActivityOptions::start_to_close(Duration::from_secs(10))
                    .schedule_to_start_timeout(short)
                    .task_queue(format!("{}-nobody-polls", ctx.info().task_queue))
                    .retry_policy(once);
                ctx.execute_activity(hang, (), options)
                    .await
                    .map(|()| String::new())
            }
            Plan::Heartbeat => {
                let options = ActivityOptions::start_to_close(Duration::from_secs(30))
                    .heartbeat_timeout(short)
                    .retry_policy(once);
                ctx.execute_activity(heartbeat_once, (), options)
                    .await
                    .map(|()| String::new())
            }
            Plan::Python { queue } => {
                let options =
                    ActivityOptions::start_to_close(Duration::from_secs(10)).task_queue(queue);
                let input = GreetingInput {
                    name: "Rust".into(),
                    greeting: "Hi".into(),
                    times: 2,
                };
                ctx.execute_activity(COMPOSE_GREETING, input, options).await
            }
            Plan::PythonFailure { queue } => {
                let options = ActivityOptions::start_to_close(Duration::from_secs(10))
                    .task_queue(queue)
                    .retry_policy(once);
                ctx.execute_activity(FAILING_ACTIVITY, (), options).await
            }
        };
        Ok(outcome_of(result))
    }
}

async fn run_plan(plan: Plan) -> Result<Outcome, Error> {
    let client = client().await;
    let queue = unique_id("rust-wf");
    let worker = spawn_worker(
        Worker::new(client.clone(), &queue)
            .register_workflow::<Stepper>()
            .register_activities(ThirdTime {
                calls: AtomicU32::new(0),
            })
            .register_activity(refuse)
            .register_activity(hang)
            .register_activity(heartbeat_once),
    );
    let result = client
        .execute_workflow(
            Stepper::run,
            plan,
            WorkflowOptions::new(unique_id("stepper"), &queue),
        )
        .await;
    stop_worker(worker).await;
    result
}

fn timed_out(kind: TimeoutType) -> Outcome {
    Outcome {
        result: None,
        outer_is_activity_failure: true,
        timeout: Some(kind.as_str_name().to_string()),
        application_type: None,
    }
}

#[tokio::test]
async fn a_failing_activity_is_retried_until_it_succeeds() {
    let outcome = run_plan(Plan::Retried).await.unwrap();
    assert_eq!(outcome.result.as_deref(), Some("succeeded on attempt 3"));
}

#[tokio::test]
async fn a_non_retryable_failure_fails_the_workflow_with_its_cause_chain() {
    let error = run_plan(Plan::Refused)
        .await
        .expect_err("the workflow fails");
    let Error::WorkflowFailed { failure, .. } = &error else {
        panic!("expected a workflow failure, got {error}")
    };
    // The workflow failed with the activity's failure, whose cause is the activity's error.
    assert!(
        matches!(&failure.info, FailureInfo::Activity(a) if a.activity_type == "refuse"),
        "{failure:?}"
    );
    let root = failure.root_cause();
    assert_eq!(root.application_type(), Some("Refused"));
    assert_eq!(root.message, "policy");
}

#[tokio::test]
async fn a_start_to_close_timeout_reaches_the_workflow() {
    let outcome = run_plan(Plan::StartToClose).await.unwrap();
    assert_eq!(outcome, timed_out(TimeoutType::StartToClose));
}

#[tokio::test]
async fn a_schedule_to_close_timeout_reaches_the_workflow() {
    let outcome = run_plan(Plan::ScheduleToClose).await.unwrap();
    assert_eq!(outcome, timed_out(TimeoutType::ScheduleToClose));
}

#[tokio::test]
async fn a_schedule_to_start_timeout_reaches_the_workflow() {
    let outcome = run_plan(Plan::ScheduleToStart).await.unwrap();
    assert_eq!(outcome, timed_out(TimeoutType::ScheduleToStart));
}

#[tokio::test]
async fn a_heartbeat_timeout_reaches_the_workflow() {
    let outcome = run_plan(Plan::Heartbeat).await.unwrap();
    assert_eq!(outcome, timed_out(TimeoutType::Heartbeat));
}

#[tokio::test]
async fn a_rust_workflow_calls_a_python_activity_on_its_queue() {
    let outcome = run_plan(Plan::Python {
        queue: task_queue(),
    })
    .await
    .unwrap();
    assert_eq!(outcome.result.as_deref(), Some("Hi, Rust! Hi, Rust!"));
}

#[tokio::test]
async fn a_python_activity_failure_reaches_the_rust_workflow_with_its_type() {
    let outcome = run_plan(Plan::PythonFailure {
        queue: task_queue(),
    })
    .await
    .unwrap();
    assert!(outcome.outer_is_activity_failure);
    assert_eq!(outcome.application_type.as_deref(), Some("ActivityBoom"));
}

/// Each call waits until all of them are running, so the workflow only completes if they run
/// at the same time.
struct Rendezvous {
    barrier: Arc<Barrier>,
}

#[activities]
impl Rendezvous {
    #[activity]
    async fn meet(&self, _ctx: ActivityContext, index: u32) -> Result<u32, ActivityError> {
        self.barrier.wait().await;
        Ok(index)
    }
}

#[workflow]
#[derive(Default)]
struct FanOut;

#[workflow]
impl FanOut {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, count: u32) -> WorkflowResult<Vec<u32>> {
        let options = ActivityOptions::start_to_close(Duration::from_secs(30));
        let handles = (0..count)
            .map(|i| ctx.start_activity(Rendezvous::meet, i, options.clone()))
            .collect::<Vec<_>>();
        let mut results = Vec::new();
        for result in join_all(handles).await {
            results.push(result?);
        }
        Ok(results)
    }
}

#[tokio::test]
async fn activities_started_together_run_concurrently() {
    let client = client().await;
    let queue = unique_id("rust-wf");
    let count = 4;
    let worker = spawn_worker(
        Worker::new(client.clone(), &queue)
            .register_workflow::<FanOut>()
            .register_activities(Rendezvous {
                barrier: Arc::new(Barrier::new(count as usize)),
            }),
    );
    let results = client
        .execute_workflow(
            FanOut::run,
            count,
            WorkflowOptions::new(unique_id("fan-out"), &queue),
        )
        .await
        .unwrap();
    assert_eq!(results, vec![0, 1, 2, 3]);
    stop_worker(worker).await;
}
