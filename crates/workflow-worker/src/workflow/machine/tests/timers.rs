//! Timers: starting, firing, cancelling, and a timer id that no longer matches.

use workflow_core::prelude::*;
use workflow_core::workflow::future::{Either, select};

use super::*;

/// Sleeps a second.
#[workflow]
#[derive(Default)]
struct Nap {}

#[workflow]
impl Nap {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<String> {
        ctx.sleep(Duration::from_secs(1)).await?;
        Ok("rested".into())
    }
}

/// Sleeps a minute unless told to stop first, then cancels the timer.
#[workflow]
#[derive(Default)]
struct NapOrStop {
    stop: bool,
}

#[workflow]
impl NapOrStop {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<String> {
        let timer = ctx.sleep(Duration::from_secs(60));
        let stop = ctx.wait_condition(|s: &Self| s.stop);
        match select(timer, stop).await {
            Either::Left((fired, _)) => Ok(format!("fired: {:?}", fired.is_ok())),
            Either::Right(((), timer)) => {
                timer.cancel();
                Ok(timer.await.err().map(|f| f.message).unwrap_or_default())
            }
        }
    }

    #[signal]
    fn stop(&mut self) {
        self.stop = true;
    }
}

#[test]
fn a_fired_timer_resumes_the_code() {
    let mut run = machine::<Nap>();
    let mut history = HistoryBuilder::started(Nap::NAME, Vec::new());
    history.workflow_task();
    let commands = run_task(&mut run, &history).unwrap();
    assert_eq!(describe(&commands), ["StartTimer(timer_id=1)"]);

    history.workflow_task_completed();
    let started = history.timer_started("1", Duration::from_secs(1));
    history.timer_fired("1", started);
    history.workflow_task();
    let commands = run_task(&mut run, &history).unwrap();
    assert_eq!(completed_with::<String>(&commands), "rested");
}

#[test]
fn a_cancelled_timer_is_cancelled_in_history_and_replays() {
    let mut run = machine::<NapOrStop>();
    let mut history = HistoryBuilder::started(NapOrStop::NAME, Vec::new());
    history.workflow_task();
    run_task(&mut run, &history).unwrap();
    history.workflow_task_completed();
    let started = history.timer_started("1", Duration::from_secs(60));
    history.signaled("stop", Vec::new());
    history.workflow_task();
    let commands = run_task(&mut run, &history).unwrap();
    assert_eq!(
        describe(&commands),
        ["CancelTimer(timer_id=1)", "CompleteWorkflowExecution"]
    );
    assert_eq!(completed_with::<String>(&commands), "Timer cancelled");

    history.workflow_task_completed();
    history.timer_canceled("1", started);
    history.workflow_completed(text("Timer cancelled"));
    replay::<NapOrStop>(&history).unwrap();
}

#[test]
fn a_different_timer_id_is_nondeterministic() {
    let mut history = HistoryBuilder::started(Nap::NAME, Vec::new());
    history.completed_workflow_task();
    history.timer_started("2", Duration::from_secs(1));
    history.workflow_task();
    let message = nondeterminism(run_task(&mut machine::<Nap>(), &history));
    assert!(
        message.contains("history has TimerStarted(timer_id=2) at event 5")
            && message.contains("the workflow issued StartTimer(timer_id=1)"),
        "{message}"
    );
}

#[test]
fn a_cancelled_timer_the_code_lets_run_is_nondeterministic() {
    // History cancelled the timer where this code completes the run.
    let mut history = HistoryBuilder::started(Nap::NAME, Vec::new());
    history.completed_workflow_task();
    let started = history.timer_started("1", Duration::from_secs(1));
    history.timer_fired("1", started);
    history.completed_workflow_task();
    history.timer_canceled("1", started);
    history.workflow_task();
    let message = nondeterminism(run_task(&mut machine::<Nap>(), &history));
    assert!(
        message.contains("history has TimerCanceled(timer_id=1) at event 10")
            && message.contains("the workflow issued CompleteWorkflowExecution"),
        "{message}"
    );
}
