//! Signals, queries and cancellation of the run itself: signals reach the code in history
//! order, queries read the replayed state, a cancellation request cancels what the code
//! waits on.

use workflow_core::prelude::*;

use super::*;

/// Collects three items sent by signal, in arrival order.
#[workflow]
#[derive(Default)]
struct Collector {
    items: Vec<String>,
}

#[workflow]
impl Collector {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<Vec<String>> {
        ctx.wait_condition(|s: &Self| s.items.len() >= 3).await;
        Ok(ctx.state(|s| s.items.clone()))
    }

    #[signal]
    fn add(&mut self, item: String) {
        self.items.push(item);
    }

    #[query]
    fn items(&self) -> Vec<String> {
        self.items.clone()
    }
}

/// Sleeps an hour; cancelled, it closes as cancelled.
#[workflow]
#[derive(Default)]
struct LongNap {}

#[workflow]
impl LongNap {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        ctx.sleep(Duration::from_secs(3600)).await?;
        Ok(())
    }
}

/// Answers a query on the run's current state.
fn query<T: PayloadValue>(machine: &RunMachine, name: &str) -> T {
    let instance = machine.instance().expect("the run started");
    let answer = instance
        .query(name, Vec::new())
        .expect("the query succeeds");
    T::from_payload(&answer[0]).expect("the answer decodes")
}

fn add(history: &mut HistoryBuilder, item: &str) {
    history.signaled("add", vec![payload(item.to_string())]);
}

#[test]
fn signals_reach_the_code_in_history_order() {
    let mut run = machine::<Collector>();
    let mut history = HistoryBuilder::started(Collector::NAME, Vec::new());
    add(&mut history, "first");
    history.workflow_task();
    assert!(run_task(&mut run, &history).unwrap().is_empty());
    assert_eq!(query::<Vec<String>>(&run, "items"), ["first"]);

    history.workflow_task_completed();
    add(&mut history, "second");
    add(&mut history, "third");
    history.workflow_task();
    let commands = run_task(&mut run, &history).unwrap();
    assert_eq!(
        completed_with::<Vec<String>>(&commands),
        ["first", "second", "third"]
    );
}

#[test]
fn queries_answer_from_the_replayed_state() {
    let mut history = HistoryBuilder::started(Collector::NAME, Vec::new());
    add(&mut history, "first");
    add(&mut history, "second");
    history.completed_workflow_task();
    // A task with nothing new, as after a failed one: all the state comes from replay.
    history.workflow_task();
    // A worker that lost the run replays it before answering.
    let mut run = machine::<Collector>();
    assert!(run_task(&mut run, &history).unwrap().is_empty());
    assert_eq!(query::<Vec<String>>(&run, "items"), ["first", "second"]);

    // And on a closed history, as for a query after the run ended.
    history.workflow_task_completed();
    add(&mut history, "third");
    history.completed_workflow_task();
    history.workflow_completed(payload(["first", "second", "third"].map(String::from)));
    let run = replay::<Collector>(&history).unwrap();
    assert!(run.closed);
    assert_eq!(
        query::<Vec<String>>(&run, "items"),
        ["first", "second", "third"]
    );
}

#[test]
fn signals_before_a_failed_task_reach_the_next_one() {
    let mut history = HistoryBuilder::started(Collector::NAME, Vec::new());
    add(&mut history, "first");
    history.workflow_task();
    history.workflow_task_failed();
    add(&mut history, "second");
    history.workflow_task();
    history.workflow_task_timed_out();
    add(&mut history, "third");
    history.workflow_task();
    let commands = run_task(&mut machine::<Collector>(), &history).unwrap();
    assert_eq!(
        completed_with::<Vec<String>>(&commands),
        ["first", "second", "third"]
    );
}

#[test]
fn a_cancellation_request_cancels_the_timer_and_the_run() {
    let mut run = machine::<LongNap>();
    let mut history = HistoryBuilder::started(LongNap::NAME, Vec::new());
    history.workflow_task();
    run_task(&mut run, &history).unwrap();
    history.workflow_task_completed();
    history.timer_started("1", Duration::from_secs(3600));
    history.cancel_requested("no time");
    history.workflow_task();
    let commands = run_task(&mut run, &history).unwrap();
    assert_eq!(
        describe(&commands),
        ["CancelTimer(timer_id=1)", "CancelWorkflowExecution"]
    );
    assert!(run.closed);
}
