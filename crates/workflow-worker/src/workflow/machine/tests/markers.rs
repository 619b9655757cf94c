//! Markers: side effects record their value and replay it; `patched` records a marker on new
//! runs and follows the recorded markers on replay; markers that no longer match.

use workflow_core::prelude::*;
use workflow_core::workflow::runtime::Marker;

use super::*;

/// Takes a value through a side effect and greets with it.
#[workflow]
#[derive(Default)]
struct Stamp {}

#[workflow]
impl Stamp {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<String> {
        let stamp: String = ctx.side_effect(|| "fresh".to_string())?;
        let greeting = ctx
            .execute_activity(GREET, stamp.clone(), options())
            .await?;
        Ok(format!("{stamp}: {greeting}"))
    }
}

/// Calls the activity `greet_v2` on runs that took patch `v2`, `greet` on older ones.
#[workflow]
#[derive(Default)]
struct Versioned {}

const GREET_V2: ActivityRef<String, String> = ActivityRef::new("greet_v2");

#[workflow]
impl Versioned {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<String> {
        let greeting = if ctx.patched("v2") {
            ctx.execute_activity(GREET_V2, "Ada".into(), options())
                .await?
        } else {
            ctx.execute_activity(GREET, "Ada".into(), options()).await?
        };
        // Asked again in a later task, the answer does not change.
        let again = ctx.patched("v2");
        Ok(format!("{greeting} (v2 again: {again})"))
    }
}

/// `Versioned` once every run older than `v2` has closed.
#[workflow]
#[derive(Default)]
struct Deprecated {}

#[workflow]
impl Deprecated {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<String> {
        ctx.deprecate_patch("v2");
        Ok(ctx
            .execute_activity(GREET_V2, "Ada".into(), options())
            .await?)
    }
}

/// Completes the activity scheduled at `scheduled` with `result` and starts the next task.
fn finish_activity(history: &mut HistoryBuilder, scheduled: i64, result: &str) {
    let started = history.activity_started(scheduled);
    history.activity_completed(scheduled, started, text(result));
    history.workflow_task();
}

#[test]
fn a_new_run_records_the_side_effect_and_uses_its_value() {
    let mut history = HistoryBuilder::started(Stamp::NAME, Vec::new());
    history.workflow_task();
    let commands = run_task(&mut machine::<Stamp>(), &history).unwrap();
    assert_eq!(
        describe(&commands),
        [
            "RecordMarker(SideEffect { seq: 1 })",
            "ScheduleActivityTask(activity_id=1, activity_type=greet)"
        ]
    );
    let CommandRequest::ScheduleActivity { attributes, .. } = &commands[1] else {
        unreachable!()
    };
    let input = &attributes.input.as_ref().unwrap().payloads[0];
    assert_eq!(String::from_payload(input).unwrap(), "fresh");
}

#[test]
fn a_replayed_side_effect_returns_the_recorded_value() {
    let mut history = HistoryBuilder::started(Stamp::NAME, Vec::new());
    history.completed_workflow_task();
    history.side_effect_marker(1, text("recorded"));
    let scheduled = history.activity_scheduled("1", "greet");
    finish_activity(&mut history, scheduled, "hi");
    let commands = run_task(&mut machine::<Stamp>(), &history).unwrap();
    assert_eq!(completed_with::<String>(&commands), "recorded: hi");
}

#[test]
fn a_side_effect_history_does_not_have_is_nondeterministic() {
    let mut history = HistoryBuilder::started(Stamp::NAME, Vec::new());
    history.completed_workflow_task();
    history.activity_scheduled("1", "greet");
    history.workflow_task();
    let message = nondeterminism(run_task(&mut machine::<Stamp>(), &history));
    assert!(
        message.contains(
            "history has ActivityTaskScheduled(activity_id=1, activity_type=greet) at event 5"
        ) && message.contains("the workflow issued RecordMarker(SideEffect { seq: 1 })"),
        "{message}"
    );
}

#[test]
fn a_recorded_side_effect_the_code_no_longer_takes_is_nondeterministic() {
    let mut history = history::<Greet>(text("Ada"));
    history.completed_workflow_task();
    history.side_effect_marker(1, text("recorded"));
    history.activity_scheduled("1", "greet");
    history.workflow_task();
    let message = nondeterminism(run_task(&mut machine::<Greet>(), &history));
    assert!(
        message.contains("history has MarkerRecorded(SideEffect { seq: 1 }) at event 5")
            && message.contains(
                "the workflow issued ScheduleActivityTask(activity_id=1, activity_type=greet)"
            ),
        "{message}"
    );
}

#[test]
fn a_patch_marker_where_the_code_takes_a_side_effect_is_nondeterministic() {
    let mut history = HistoryBuilder::started(Stamp::NAME, Vec::new());
    history.completed_workflow_task();
    history.patch_marker("v2", false);
    history.workflow_task();
    let message = nondeterminism(run_task(&mut machine::<Stamp>(), &history));
    assert!(
        message.contains(
            r#"history has MarkerRecorded(Patch { id: "v2", deprecated: false }) at event 5"#
        ) && message.contains("the workflow issued RecordMarker(SideEffect { seq: 1 })"),
        "{message}"
    );
}

#[test]
fn patched_is_true_on_a_new_run_and_records_the_marker() {
    let mut history = HistoryBuilder::started(Versioned::NAME, Vec::new());
    history.workflow_task();
    let commands = run_task(&mut machine::<Versioned>(), &history).unwrap();
    assert_eq!(
        describe(&commands),
        [
            r#"RecordMarker(Patch { id: "v2", deprecated: false })"#,
            "ScheduleActivityTask(activity_id=1, activity_type=greet_v2)"
        ]
    );
    let CommandRequest::RecordMarker { attributes, .. } = &commands[0] else {
        unreachable!()
    };
    // What the server records from the command reads back as the same marker.
    let recorded = temporalio_protos::temporal::api::history::v1::MarkerRecordedEventAttributes {
        marker_name: attributes.marker_name.clone(),
        details: attributes.details.clone(),
        ..Default::default()
    };
    assert_eq!(
        Marker::from_event(&recorded).map(|(marker, _)| marker),
        Some(Marker::Patch {
            id: "v2".into(),
            deprecated: false
        })
    );
}

#[test]
fn patched_follows_the_marker_on_replay() {
    let mut history = HistoryBuilder::started(Versioned::NAME, Vec::new());
    history.completed_workflow_task();
    history.patch_marker("v2", false);
    let scheduled = history.activity_scheduled("1", "greet_v2");
    finish_activity(&mut history, scheduled, "hello from v2");
    let commands = run_task(&mut machine::<Versioned>(), &history).unwrap();
    assert_eq!(
        completed_with::<String>(&commands),
        "hello from v2 (v2 again: true)"
    );
}

#[test]
fn patched_is_false_replaying_a_history_from_before_the_patch() {
    let mut history = HistoryBuilder::started(Versioned::NAME, Vec::new());
    history.completed_workflow_task();
    let scheduled = history.activity_scheduled("1", "greet");
    finish_activity(&mut history, scheduled, "hello from v1");
    let commands = run_task(&mut machine::<Versioned>(), &history).unwrap();
    assert_eq!(describe(&commands), ["CompleteWorkflowExecution"]);
    assert_eq!(
        completed_with::<String>(&commands),
        "hello from v1 (v2 again: false)"
    );
}

#[test]
fn a_deprecated_patch_replays_histories_with_and_without_its_marker() {
    for with_marker in [true, false] {
        let mut history = HistoryBuilder::started(Deprecated::NAME, Vec::new());
        history.completed_workflow_task();
        if with_marker {
            history.patch_marker("v2", false);
        }
        let scheduled = history.activity_scheduled("1", "greet_v2");
        finish_activity(&mut history, scheduled, "hi");
        let commands = run_task(&mut machine::<Deprecated>(), &history)
            .unwrap_or_else(|e| panic!("with marker {with_marker}: {e}"));
        assert_eq!(completed_with::<String>(&commands), "hi");
    }
}
