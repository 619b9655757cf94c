//! The testing toolkit end to end: a real server in-process, real workers, a real client.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use futures::StreamExt;
use workflow_client::WorkflowExecutionStatus;
use workflow_core::activity::CancelReason;
use workflow_core::prelude::*;
use workflow_core::protos::temporal::api::enums::v1::EventType;
use workflow_core::workflow::future::{Either, select};
use workflow_testing::{ActivityEnv, Faults, TestEnv, mock_activity};

const HOUR: Duration = Duration::from_secs(3600);

#[activity]
async fn charge_card(_ctx: ActivityContext, cents: u64) -> Result<String, ActivityError> {
    unimplemented!("charges {cents} cents at the bank; the tests replace it")
}

/// A day in four naps, then a charge retried an hour later, then two hours later.
#[workflow]
#[derive(Default)]
struct DayLong;

#[workflow]
impl DayLong {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, cents: u64) -> WorkflowResult<String> {
        for _ in 0..4 {
            ctx.sleep(6 * HOUR).await?;
        }
        let options =
            ActivityOptions::start_to_close(Duration::from_secs(30)).retry_policy(RetryPolicy {
                initial_interval: HOUR,
                ..Default::default()
            });
        Ok(ctx.execute_activity(charge_card, cents, options).await?)
    }
}

#[tokio::test]
async fn a_day_long_workflow_with_timers_and_retries_finishes_without_waiting_a_day() {
    let env = TestEnv::start().await.unwrap();
    let attempts = Arc::new(AtomicU32::new(0));
    let counted = attempts.clone();
    let worker = env
        .worker("day")
        .register_workflow::<DayLong>()
        .register_activity(mock_activity(charge_card, move |ctx, cents| {
            counted.fetch_add(1, Ordering::SeqCst);
            async move {
                match ctx.info().attempt {
                    1 | 2 => Err(ActivityError::retryable("BankDown", "try later")),
                    _ => Ok(format!("charged {cents} on attempt {}", ctx.info().attempt)),
                }
            }
        }));
    let running = env.run_worker(worker);
    let started = env.now();
    let receipt = env
        .client()
        .execute_workflow(DayLong::run, 500, WorkflowOptions::new("day-long", "day"))
        .await
        .unwrap();
    assert_eq!(receipt, "charged 500 on attempt 3");
    assert_eq!(attempts.load(Ordering::SeqCst), 3);
    // 24 hours of naps and 1 + 2 hours of backoff passed on the server's clock.
    let passed = env.now().duration_since(started).unwrap();
    assert!(passed >= 27 * HOUR, "{passed:?}");
    running.stop().await.unwrap();
    env.shutdown().await.unwrap();
}

/// Waits an hour for an approval.
#[workflow]
#[derive(Default)]
struct Approval {
    approved: bool,
}

#[workflow]
impl Approval {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<String> {
        let approved = ctx.wait_condition(|s: &Self| s.approved);
        Ok(match select(approved, ctx.sleep(HOUR)).await {
            Either::Left(_) => "approved".into(),
            Either::Right(_) => "expired".into(),
        })
    }

    #[signal]
    fn approve(&mut self) {
        self.approved = true;
    }
}

#[tokio::test]
async fn time_stands_still_until_the_test_awaits_a_result_or_sleeps() {
    let env = TestEnv::start().await.unwrap();
    let running = env.run_worker(env.worker("approvals").register_workflow::<Approval>());
    let client = env.client();

    // Nothing awaits a result: the hour does not pass while the workflow waits on its timer,
    // and the signal is in time.
    let handle = client
        .start_workflow(
            Approval::run,
            (),
            WorkflowOptions::new("in-time", "approvals"),
        )
        .await
        .unwrap();
    let mut events = std::pin::pin!(handle.watch_history());
    while let Some(event) = events.next().await {
        if event.unwrap().event_type() == EventType::TimerStarted {
            break;
        }
    }
    let waiting = handle.describe().await.unwrap();
    assert_eq!(waiting.status, WorkflowExecutionStatus::Running);
    handle.signal(Approval::approve, ()).await.unwrap();
    assert_eq!(handle.result().await.unwrap(), "approved");

    // The test sleeps past the hour: the timer fires first.
    let handle = client
        .start_workflow(
            Approval::run,
            (),
            WorkflowOptions::new("too-late", "approvals"),
        )
        .await
        .unwrap();
    let before = env.now();
    let after = env.sleep(2 * HOUR).await.unwrap();
    assert!(after.duration_since(before).unwrap() >= 2 * HOUR);
    assert_eq!(handle.result().await.unwrap(), "expired");

    running.stop().await.unwrap();
    env.shutdown().await.unwrap();
}

#[activity]
async fn count_to(ctx: ActivityContext, n: u32) -> Result<u32, ActivityError> {
    let from = match ctx.last_heartbeat_details::<u32>() {
        Some(last) => last? + 1,
        None => 1,
    };
    for i in from..=n {
        ctx.heartbeat(&i)?;
    }
    Ok(n)
}

#[tokio::test]
async fn an_activity_env_records_heartbeats_and_resumes_from_the_last() {
    let env = ActivityEnv::new();
    assert_eq!(env.run(&count_to, 3).await.unwrap(), 3);
    assert_eq!(env.heartbeats::<u32>().unwrap(), [1, 2, 3]);

    let retry = ActivityEnv::new().with_last_heartbeat(&7u32).unwrap();
    assert_eq!(retry.run(&count_to, 9).await.unwrap(), 9);
    assert_eq!(retry.heartbeats::<u32>().unwrap(), [8, 9]);
}

/// Heartbeats once, then waits to be cancelled.
#[activity]
async fn wait_for_cancel(ctx: ActivityContext) -> Result<String, ActivityError> {
    ctx.heartbeat(&"started".to_string())?;
    let reason = ctx.cancelled().await;
    Err(ActivityError::non_retryable(
        "Cancelled",
        format!("stopped: {reason:?}"),
    ))
}

#[tokio::test]
async fn an_activity_env_cancels_a_running_activity_on_demand() {
    let env = ActivityEnv::new();
    let (result, ()) = tokio::join!(env.run(&wait_for_cancel, ()), async {
        // Cancel once it is running: its first heartbeat says so.
        while env.heartbeat_payloads().is_empty() {
            tokio::task::yield_now().await;
        }
        env.cancel(CancelReason::Requested);
    });
    let error = result.expect_err("cancelled");
    assert!(
        format!("{error:?}").contains("stopped: Requested"),
        "{error:?}"
    );

    // Asked before it starts, the next attempt starts cancelled.
    let env = ActivityEnv::new();
    env.cancel(CancelReason::WorkerShutdown);
    let error = env.run(&wait_for_cancel, ()).await.expect_err("cancelled");
    assert!(
        format!("{error:?}").contains("stopped: WorkerShutdown"),
        "{error:?}"
    );
}

#[activity]
async fn reserve(_ctx: ActivityContext, item: String) -> Result<String, ActivityError> {
    unimplemented!("reserves {item} in the warehouse; the tests replace it")
}

/// Reserves an item, waits a day for second thoughts, charges for it.
#[workflow]
#[derive(Default)]
struct Order;

#[workflow]
impl Order {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, item: String) -> WorkflowResult<String> {
        let options = || ActivityOptions::start_to_close(Duration::from_secs(30));
        let reservation = ctx.execute_activity(reserve, item, options()).await?;
        ctx.sleep(24 * HOUR).await?;
        let receipt = ctx.execute_activity(charge_card, 500, options()).await?;
        Ok(format!("{reservation}, {receipt}"))
    }
}

/// Runs an order on a worker with `faults`; its result, how often each activity's code ran,
/// and its history.
async fn order_under(
    env: &TestEnv,
    faults: Faults,
    id: &str,
) -> (
    String,
    u32,
    Vec<workflow_core::protos::temporal::api::history::v1::HistoryEvent>,
) {
    let calls = Arc::new(AtomicU32::new(0));
    let (reserved, charged) = (calls.clone(), calls.clone());
    let queue = format!("orders-{id}");
    let worker = env
        .faulty_worker(&queue, faults)
        .register_workflow::<Order>()
        .register_activity(mock_activity(reserve, move |_ctx, item| {
            reserved.fetch_add(1, Ordering::SeqCst);
            async move { Ok(format!("reserved {item}")) }
        }))
        .register_activity(mock_activity(charge_card, move |_ctx, cents| {
            charged.fetch_add(1, Ordering::SeqCst);
            async move { Ok(format!("charged {cents}")) }
        }))
        .build();
    let running = env.run_worker(worker);
    let handle = env
        .client()
        .start_workflow(
            Order::run,
            "lamp".to_string(),
            WorkflowOptions::new(id, &queue),
        )
        .await
        .unwrap();
    let result = handle.result().await.unwrap();
    running.stop().await.unwrap();
    let history = handle.fetch_history().await.unwrap();
    (result, calls.load(Ordering::SeqCst), history)
}

/// The attempt each activity's code ran on, from the started events.
fn started_attempts(
    history: &[workflow_core::protos::temporal::api::history::v1::HistoryEvent],
) -> Vec<(i32, String)> {
    use workflow_core::protos::temporal::api::history::v1::history_event::Attributes;
    history
        .iter()
        .filter_map(|e| match &e.attributes {
            Some(Attributes::ActivityTaskStartedEventAttributes(a)) => Some((
                a.attempt,
                a.last_failure
                    .as_ref()
                    .map(|f| f.message.clone())
                    .unwrap_or_default(),
            )),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_workflow_reaches_the_same_result_under_injected_faults() {
    let env = TestEnv::start().await.unwrap();
    let (plain, plain_calls, plain_history) = order_under(&env, Faults::default(), "plain").await;
    assert_eq!(plain, "reserved lamp, charged 500");
    assert_eq!(plain_calls, 2);
    assert_eq!(
        started_attempts(&plain_history),
        [(1, String::new()), (1, String::new())]
    );

    let (faulty, faulty_calls, faulty_history) = order_under(&env, Faults::all(), "faulty").await;
    assert_eq!(faulty, plain, "the same result under faults");
    // Each activity's code ran once, on its third attempt: the first timed out on the
    // server, the second failed on purpose.
    assert_eq!(faulty_calls, 2);
    assert_eq!(
        started_attempts(&faulty_history),
        [
            (3, "attempt 2 failed on purpose".to_string()),
            (3, "attempt 2 failed on purpose".to_string())
        ]
    );
    env.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_first_attempt_that_times_out_is_timed_out_by_the_server() {
    let env = TestEnv::start().await.unwrap();
    let (result, _, history) =
        order_under(&env, Faults::default().time_out_first_attempt(), "timeouts").await;
    assert_eq!(result, "reserved lamp, charged 500");
    assert_eq!(
        started_attempts(&history),
        [
            (2, "activity StartToClose timeout".to_string()),
            (2, "activity StartToClose timeout".to_string())
        ]
    );
    env.shutdown().await.unwrap();
}

/// Keeps state outside the workflow: each time its code runs from the start it takes the
/// other branch, so it completes while cached but cannot replay.
static RUNS_OF_FORGETFUL: AtomicU32 = AtomicU32::new(0);

#[workflow]
#[derive(Default)]
struct Forgetful;

#[workflow]
impl Forgetful {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        let options = ActivityOptions::start_to_close(Duration::from_secs(30));
        if RUNS_OF_FORGETFUL
            .fetch_add(1, Ordering::SeqCst)
            .is_multiple_of(2)
        {
            ctx.execute_activity(reserve, "lamp".to_string(), options)
                .await?;
        } else {
            ctx.execute_activity(charge_card, 1, options).await?;
        }
        ctx.sleep(HOUR).await?;
        Ok(())
    }
}

#[tokio::test]
async fn replaying_every_task_catches_code_that_does_not_replay() {
    use workflow_core::protos::temporal::api::history::v1::history_event::Attributes;
    let env = TestEnv::start().await.unwrap();
    let worker = |queue: &str, faults| {
        env.faulty_worker(queue, faults)
            .register_workflow::<Forgetful>()
            .register_activity(mock_activity(reserve, |_ctx, item| async move { Ok(item) }))
            .register_activity(mock_activity(charge_card, |_ctx, _| async move {
                Ok(String::new())
            }))
            .build()
    };
    let start = |id: &'static str, queue: &'static str| {
        env.client()
            .start_workflow(Forgetful::run, (), WorkflowOptions::new(id, queue))
    };

    // On a worker that keeps the run cached between tasks, the flaw goes unseen.
    let running = env.run_worker(worker("cached", Faults::default()));
    start("cached", "cached")
        .await
        .unwrap()
        .result()
        .await
        .unwrap();
    running.stop().await.unwrap();

    // Replaying at every task, the second task replays the first, whose code now takes
    // the other branch.
    let running = env.run_worker(worker("replayed", Faults::default().replay_every_task()));
    let handle = start("replayed", "replayed").await.unwrap();
    let mut events = std::pin::pin!(handle.watch_history());
    let failure = loop {
        let event = events.next().await.expect("the run stays open").unwrap();
        if let Some(Attributes::WorkflowTaskFailedEventAttributes(a)) = event.attributes {
            break a.failure.unwrap().message;
        }
    };
    assert!(
        failure.contains("history has ActivityTaskScheduled"),
        "{failure}"
    );
    handle.terminate("test over").await.unwrap();
    running.stop().await.unwrap();
    env.shutdown().await.unwrap();
}
