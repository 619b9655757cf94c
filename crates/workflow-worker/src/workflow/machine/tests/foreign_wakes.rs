//! Debug builds watch what wakes workflow code: code waiting on nothing its history drives,
//! or woken by something outside the workflow runtime, fails its task with a message that
//! names the cause, where it would otherwise hang or take other steps on replay.

use std::sync::Mutex;

use futures::channel::oneshot;
use workflow_core::prelude::*;
use workflow_core::workflow::future::select;
use workflow_core::workflow::runtime::ActivationError;

use super::*;

/// Channels handed to the workflows below by the test that runs them, one slot per test.
static AWAITS_ONLY: Mutex<Option<oneshot::Receiver<()>>> = Mutex::new(None);
static RACES_A_TIMER: Mutex<Option<oneshot::Receiver<()>>> = Mutex::new(None);
static RACES_FROM_A_THREAD: Mutex<Option<oneshot::Receiver<()>>> = Mutex::new(None);

fn take(slot: &Mutex<Option<oneshot::Receiver<()>>>) -> oneshot::Receiver<()> {
    slot.lock()
        .unwrap()
        .take()
        .expect("the test hands over a receiver")
}

fn hand_over(slot: &Mutex<Option<oneshot::Receiver<()>>>) -> oneshot::Sender<()> {
    let (sender, receiver) = oneshot::channel();
    *slot.lock().unwrap() = Some(receiver);
    sender
}

/// Waits on a channel alone.
#[workflow]
#[derive(Default)]
struct AwaitsOnlyAChannel {}

#[workflow]
impl AwaitsOnlyAChannel {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        let _ = take(&AWAITS_ONLY).await;
        Ok(())
    }
}

/// Races a channel against an hour's timer, so the first task is accepted.
#[workflow]
#[derive(Default)]
struct RacesATimer {}

#[workflow]
impl RacesATimer {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        let _ = select(ctx.sleep(Duration::from_secs(3600)), take(&RACES_A_TIMER)).await;
        Ok(())
    }
}

#[workflow]
#[derive(Default)]
struct RacesFromAThread {}

#[workflow]
impl RacesFromAThread {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        let _ = select(
            ctx.sleep(Duration::from_secs(3600)),
            take(&RACES_FROM_A_THREAD),
        )
        .await;
        Ok(())
    }
}

/// Runs the first task, then fires the timer and runs the second.
fn second_task_after(
    run: &mut RunMachine,
    history: &mut HistoryBuilder,
    between: impl FnOnce(),
) -> Result<Vec<CommandRequest>, TaskError> {
    history.workflow_task();
    let commands = run_task(run, history).unwrap();
    assert_eq!(describe(&commands), ["StartTimer(timer_id=1)"]);
    between();
    history.workflow_task_completed();
    let started = history.timer_started("1", Duration::from_secs(3600));
    history.timer_fired("1", started);
    history.workflow_task();
    run_task(run, history)
}

#[test]
fn code_waiting_on_nothing_the_history_drives_fails_its_task() {
    let _sender = hand_over(&AWAITS_ONLY);
    let mut run = machine::<AwaitsOnlyAChannel>();
    let mut history = HistoryBuilder::started(AwaitsOnlyAChannel::NAME, Vec::new());
    history.workflow_task();
    match run_task(&mut run, &history) {
        Err(TaskError::Activation(error @ ActivationError::Blocked { .. })) => {
            let message = error.to_string();
            assert!(
                message.contains("workflow AwaitsOnlyAChannel is waiting on something the workflow runtime does not drive"),
                "{message}"
            );
            assert!(message.contains("ctx.sleep(..)"), "{message}");
        }
        other => panic!("expected the task to fail as blocked, got {other:?}"),
    }
}

#[test]
fn a_wake_between_tasks_from_outside_the_runtime_fails_the_next_task() {
    let sender = hand_over(&RACES_A_TIMER);
    let mut run = machine::<RacesATimer>();
    let mut history = HistoryBuilder::started(RacesATimer::NAME, Vec::new());
    let result = second_task_after(&mut run, &mut history, || sender.send(()).unwrap());
    match result {
        Err(TaskError::Activation(error @ ActivationError::ForeignWake { .. })) => {
            let message = error.to_string();
            assert!(
                message.contains("workflow RacesATimer was woken by something other than the workflow runtime (between workflow tasks"),
                "{message}"
            );
            // The calls that woke it are named.
            assert!(
                message.contains("futures_channel::oneshot::Sender<T>::send"),
                "{message}"
            );
        }
        other => panic!("expected the task to fail for a foreign wake, got {other:?}"),
    }
}

#[test]
fn a_wake_from_another_thread_names_the_thread() {
    let sender = hand_over(&RACES_FROM_A_THREAD);
    let mut run = machine::<RacesFromAThread>();
    let mut history = HistoryBuilder::started(RacesFromAThread::NAME, Vec::new());
    let result = second_task_after(&mut run, &mut history, || {
        std::thread::Builder::new()
            .name("outside".into())
            .spawn(move || sender.send(()).unwrap())
            .unwrap()
            .join()
            .unwrap();
    });
    match result {
        Err(TaskError::Activation(ActivationError::ForeignWake { woken_by, .. })) => {
            assert!(
                woken_by.starts_with("from thread \"outside\""),
                "{woken_by}"
            );
        }
        other => panic!("expected the task to fail for a foreign wake, got {other:?}"),
    }
}

#[test]
fn code_woken_only_by_the_runtime_runs_on() {
    // The same race, with the channel left alone: the timer wins on the second task.
    let _sender = hand_over(&RACES_A_TIMER_QUIET);
    let mut run = machine::<RacesQuietly>();
    let mut history = HistoryBuilder::started(RacesQuietly::NAME, Vec::new());
    let commands = second_task_after(&mut run, &mut history, || {}).unwrap();
    assert_eq!(describe(&commands), ["CompleteWorkflowExecution"]);
}

static RACES_A_TIMER_QUIET: Mutex<Option<oneshot::Receiver<()>>> = Mutex::new(None);

#[workflow]
#[derive(Default)]
struct RacesQuietly {}

#[workflow]
impl RacesQuietly {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        let _ = select(
            ctx.sleep(Duration::from_secs(3600)),
            take(&RACES_A_TIMER_QUIET),
        )
        .await;
        Ok(())
    }
}
