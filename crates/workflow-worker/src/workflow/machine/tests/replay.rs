//! Whole runs: a finished history replays to the same commands and no new ones; a cached run
//! continues from the new events alone (sticky execution); continue-as-new closes the run.

use temporalio_protos::temporal::api::enums::v1::EventType;
use temporalio_protos::temporal::api::history::v1::{
    MarkerRecordedEventAttributes, history_event::Attributes,
};
use workflow_core::prelude::*;

use super::*;

/// A side effect, an activity and a timer, each in its own task.
#[workflow]
#[derive(Default)]
struct Errand {}

#[workflow]
impl Errand {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
        let ticket: u64 = ctx.side_effect(|| 42)?;
        let greeting = ctx.execute_activity(GREET, name, options()).await?;
        ctx.sleep(Duration::from_secs(5)).await?;
        Ok(format!("{greeting} #{ticket}"))
    }
}

/// Continues as new once, with input 1.
#[workflow]
#[derive(Default)]
struct Again {}

#[workflow]
impl Again {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, round: u32) -> WorkflowResult<u32> {
        if round == 0 {
            return ctx.continue_as_new(&1);
        }
        Ok(round)
    }
}

/// Plays the server for one completed task: records its completion and the events its
/// commands produce, returning those events' ids.
fn record(history: &mut HistoryBuilder, commands: &[CommandRequest]) -> Vec<i64> {
    history.workflow_task_completed();
    commands
        .iter()
        .map(|command| match command {
            CommandRequest::ScheduleActivity { attributes, .. } => history.activity_scheduled(
                &attributes.activity_id,
                &attributes.activity_type.as_ref().unwrap().name,
            ),
            CommandRequest::StartTimer { attributes, .. } => history.timer_started(
                &attributes.timer_id,
                Duration::try_from(attributes.start_to_fire_timeout.unwrap()).unwrap(),
            ),
            CommandRequest::RecordMarker { attributes, .. } => history.add(
                EventType::MarkerRecorded,
                Attributes::MarkerRecordedEventAttributes(MarkerRecordedEventAttributes {
                    marker_name: attributes.marker_name.clone(),
                    details: attributes.details.clone(),
                    workflow_task_completed_event_id: history.last_id(),
                    ..Default::default()
                }),
            ),
            CommandRequest::CompleteWorkflow(a) => {
                history.workflow_completed(a.result.clone().unwrap().payloads.remove(0))
            }
            other => panic!("this test server does not record {other:?}"),
        })
        .collect()
}

/// Runs `Errand` to its end as a live worker would, handing the machine only the events
/// after those it has seen when `sticky`, the whole history otherwise. Returns the history
/// and, for each task, its started event id and the commands it issued.
fn errand(sticky: bool) -> (HistoryBuilder, Vec<(i64, Vec<CommandRequest>)>) {
    let mut run = machine::<Errand>();
    let mut history = history::<Errand>(text("Ada"));
    let mut tasks = Vec::new();
    let mut task = |run: &mut RunMachine, history: &HistoryBuilder| {
        let events = if sticky {
            history.events_after(run.last_event_id)
        } else {
            history.events().to_vec()
        };
        let commands = run.apply(&events, history.last_id()).unwrap().unwrap();
        tasks.push((history.last_id(), commands.clone()));
        commands
    };

    history.workflow_task();
    let commands = task(&mut run, &history);
    let ids = record(&mut history, &commands);
    let started = history.activity_started(ids[1]);
    history.activity_completed(ids[1], started, text("Hello, Ada"));
    history.workflow_task();
    let commands = task(&mut run, &history);
    let ids = record(&mut history, &commands);
    history.timer_fired("1", ids[0]);
    history.workflow_task();
    let commands = task(&mut run, &history);
    record(&mut history, &commands);
    assert!(run.closed);
    (history, tasks)
}

#[test]
fn each_task_issues_what_a_new_run_would() {
    let (_, tasks) = errand(false);
    let issued: Vec<Vec<String>> = tasks.iter().map(|(_, c)| describe(c)).collect();
    assert_eq!(
        issued,
        [
            vec![
                "RecordMarker(SideEffect { seq: 1 })",
                "ScheduleActivityTask(activity_id=1, activity_type=greet)"
            ],
            vec!["StartTimer(timer_id=1)"],
            vec!["CompleteWorkflowExecution"],
        ]
    );
    assert_eq!(completed_with::<String>(&tasks[2].1), "Hello, Ada #42");
}

#[test]
fn replaying_a_finished_history_reproduces_its_commands_and_adds_none() {
    let (history, tasks) = errand(false);
    // Replayed up to each task, as after a cache eviction, the code issues what it issued.
    for (started, commands) in &tasks {
        let events = &history.events()[..*started as usize];
        let replayed = machine::<Errand>().apply(events, *started).unwrap();
        assert_eq!(
            replayed.as_ref(),
            Some(commands),
            "task started at {started}"
        );
    }
    // Replayed whole, it matches every recorded command and has nothing new to send.
    let run = replay::<Errand>(&history).unwrap();
    assert!(run.closed);
    assert_eq!(run.last_event_id, history.last_id());
}

#[test]
fn a_cached_run_continues_from_the_new_events_alone() {
    let (_, full) = errand(false);
    let (history, sticky) = errand(true);
    assert_eq!(
        sticky, full,
        "sticky tasks issue what full-history tasks issue"
    );
    // The later tasks carried no WorkflowExecutionStarted: only the cached run could run them.
    let (second, _) = sticky[1];
    let partial = history.events_after(4);
    assert_eq!(partial.first().map(|e| e.event_id), Some(5));
    let fresh = machine::<Errand>().apply(&partial[..(second - 4) as usize], second);
    assert!(fresh.is_err(), "{fresh:?}");
}

#[test]
fn continue_as_new_closes_the_run_and_replays() {
    let mut started = history::<Again>(payload(0u32));
    started.workflow_task();
    let mut run = machine::<Again>();
    let commands = run_task(&mut run, &started).unwrap();
    assert_eq!(describe(&commands), ["ContinueAsNewWorkflowExecution"]);
    assert!(run.closed);
    let CommandRequest::ContinueAsNew(attributes) = &commands[0] else {
        unreachable!()
    };
    let input = attributes.input.clone().unwrap().payloads;
    assert_eq!(u32::from_payload(&input[0]).unwrap(), 1);

    started.workflow_task_completed();
    started.continued_as_new(Again::NAME, input);
    assert!(replay::<Again>(&started).unwrap().closed);

    // A new run's history that failed instead does not match.
    let mut failed = history::<Again>(payload(0u32));
    failed.completed_workflow_task();
    failed.workflow_failed("gave up");
    let message = nondeterminism(replay::<Again>(&failed));
    assert!(
        message.contains("history has WorkflowExecutionFailed at event 5")
            && message.contains("the workflow issued ContinueAsNewWorkflowExecution"),
        "{message}"
    );
}
