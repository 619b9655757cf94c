//! Activities: scheduling, each way they resolve, cancellation, and the ways a changed
//! workflow stops matching the activities history recorded.

use workflow_core::prelude::*;
use workflow_core::workflow::ActivityCancellationType;

use super::*;

/// A history where [`Greet`] scheduled its activity and the worker started it; returns the
/// scheduled and started ids.
fn scheduled_and_started(history: &mut HistoryBuilder) -> (i64, i64) {
    history.completed_workflow_task();
    let scheduled = history.activity_scheduled("1", "greet");
    let started = history.activity_started(scheduled);
    (scheduled, started)
}

#[test]
fn a_new_run_schedules_the_activity_with_its_input() {
    let mut history = history::<Greet>(text("Ada"));
    history.workflow_task();
    let commands = run_task(&mut machine::<Greet>(), &history).unwrap();
    assert_eq!(
        describe(&commands),
        ["ScheduleActivityTask(activity_id=1, activity_type=greet)"]
    );
    let CommandRequest::ScheduleActivity { attributes, .. } = &commands[0] else {
        unreachable!()
    };
    let input = &attributes.input.as_ref().unwrap().payloads[0];
    assert_eq!(String::from_payload(input).unwrap(), "Ada");
}

#[test]
fn a_completed_activity_gives_its_result() {
    let mut history = history::<Greet>(text("Ada"));
    let (scheduled, started) = scheduled_and_started(&mut history);
    history.activity_completed(scheduled, started, text("Hello, Ada"));
    history.workflow_task();
    let commands = run_task(&mut machine::<Greet>(), &history).unwrap();
    assert_eq!(completed_with::<String>(&commands), "Hello, Ada");
}

#[test]
fn a_failed_activity_gives_its_failure() {
    let mut history = history::<Greet>(text("Ada"));
    let (scheduled, started) = scheduled_and_started(&mut history);
    history.activity_failed(scheduled, started, "no greeting today");
    history.workflow_task();
    let commands = run_task(&mut machine::<Greet>(), &history).unwrap();
    assert_eq!(
        completed_with::<String>(&commands),
        "Activity task failed (no greeting today)"
    );
}

#[test]
fn a_timed_out_activity_gives_a_timeout() {
    let mut history = history::<Greet>(text("Ada"));
    let (scheduled, started) = scheduled_and_started(&mut history);
    history.activity_timed_out(scheduled, started);
    history.workflow_task();
    let commands = run_task(&mut machine::<Greet>(), &history).unwrap();
    assert_eq!(
        completed_with::<String>(&commands),
        "Activity task timed out (activity StartToClose timeout)"
    );
}

/// Starts the activity, cancels it when told to stop, and reports how it ended.
#[workflow]
#[derive(Default)]
struct CancelGreeting {
    stop: bool,
}

#[workflow]
impl CancelGreeting {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
        let options =
            options().cancellation_type(ActivityCancellationType::WaitCancellationCompleted);
        let greeting = ctx.start_activity(GREET, name, options);
        ctx.wait_condition(|s: &Self| s.stop).await;
        greeting.cancel();
        match greeting.await {
            Ok(greeting) => Ok(greeting),
            Err(failure) => Ok(failure_text(&failure)),
        }
    }

    #[signal]
    fn stop(&mut self) {
        self.stop = true;
    }
}

#[test]
fn a_cancelled_activity_is_requested_to_cancel_and_reports_the_cancellation() {
    let mut run = machine::<CancelGreeting>();
    let mut history = history::<CancelGreeting>(text("Ada"));
    let (scheduled, _) = scheduled_and_started(&mut history);
    history.signaled("stop", Vec::new());
    history.workflow_task();
    let commands = run_task(&mut run, &history).unwrap();
    assert_eq!(
        describe(&commands),
        ["RequestCancelActivityTask(activity seq=1)"]
    );
    // The command names the activity by the event that scheduled it.
    let proto = run.wire(commands[0].clone()).unwrap().command.unwrap();
    let Some(
        temporalio_protos::temporal::api::command::v1::command::Attributes::RequestCancelActivityTaskCommandAttributes(a),
    ) = proto.attributes
    else {
        panic!("not a cancel request: {proto:?}")
    };
    assert_eq!(a.scheduled_event_id, scheduled);

    history.workflow_task_completed();
    let requested = history.activity_cancel_requested(scheduled);
    history.activity_canceled(scheduled, 0, requested);
    history.workflow_task();
    let commands = run_task(&mut run, &history).unwrap();
    assert_eq!(
        completed_with::<String>(&commands),
        "Activity cancelled (Activity cancelled)"
    );

    history.workflow_task_completed();
    history.workflow_completed(text("Activity cancelled (Activity cancelled)"));
    replay::<CancelGreeting>(&history).unwrap();
}

#[test]
fn a_different_activity_type_is_nondeterministic() {
    let mut history = history::<Greet>(text("Ada"));
    history.completed_workflow_task();
    history.activity_scheduled("1", "farewell");
    history.workflow_task();
    let message = nondeterminism(run_task(&mut machine::<Greet>(), &history));
    assert!(
        message.contains("ActivityTaskScheduled(activity_id=1, activity_type=farewell)")
            && message.contains("ScheduleActivityTask(activity_id=1, activity_type=greet)"),
        "{message}"
    );
}

#[test]
fn a_different_activity_id_is_nondeterministic() {
    let mut history = history::<Greet>(text("Ada"));
    history.completed_workflow_task();
    history.activity_scheduled("greet-1", "greet");
    history.workflow_task();
    let message = nondeterminism(run_task(&mut machine::<Greet>(), &history));
    assert!(
        message.contains("ActivityTaskScheduled(activity_id=greet-1, activity_type=greet)")
            && message.contains("ScheduleActivityTask(activity_id=1, activity_type=greet)"),
        "{message}"
    );
}

#[test]
fn a_timer_where_the_code_schedules_an_activity_is_nondeterministic() {
    let mut history = history::<Greet>(text("Ada"));
    history.completed_workflow_task();
    history.timer_started("1", Duration::from_secs(1));
    history.workflow_task();
    let message = nondeterminism(run_task(&mut machine::<Greet>(), &history));
    assert!(
        message.contains("history has TimerStarted(timer_id=1) at event 5")
            && message.contains(
                "the workflow issued ScheduleActivityTask(activity_id=1, activity_type=greet)"
            ),
        "{message}"
    );
}

#[test]
fn an_event_the_code_no_longer_issues_is_nondeterministic() {
    let mut history = history::<Greet>(text("Ada"));
    history.completed_workflow_task();
    history.activity_scheduled("1", "greet");
    history.timer_started("1", Duration::from_secs(1));
    history.workflow_task();
    let message = nondeterminism(run_task(&mut machine::<Greet>(), &history));
    assert!(
        message.contains(
            "history has TimerStarted(timer_id=1) at event 6 but the workflow issued no command for it"
        ),
        "{message}"
    );
}

#[test]
fn a_command_missing_from_history_is_nondeterministic() {
    // The next task started without the activity the first one must have scheduled.
    let mut history = history::<Greet>(text("Ada"));
    history.completed_workflow_task();
    history.signaled("unrelated", Vec::new());
    history.workflow_task();
    let message = nondeterminism(run_task(&mut machine::<Greet>(), &history));
    assert!(
        message.contains(
            "the workflow issued ScheduleActivityTask(activity_id=1, activity_type=greet) but history has no matching event before event 7"
        ),
        "{message}"
    );
}

#[test]
fn a_command_missing_at_the_end_of_a_replayed_history_is_nondeterministic() {
    let mut history = history::<Greet>(text("Ada"));
    history.completed_workflow_task();
    let message = nondeterminism(replay::<Greet>(&history));
    assert!(
        message.contains(
            "the workflow issued ScheduleActivityTask(activity_id=1, activity_type=greet) but history ends without a matching event"
        ),
        "{message}"
    );
}
