//! What a workflow task's start tells the code: history length, size and the server's
//! continue-as-new suggestion.

use temporalio_protos::temporal::api::history::v1::history_event::Attributes;
use workflow_core::prelude::*;

use super::*;

/// Returns what its first task was told.
#[workflow]
#[derive(Default)]
struct Sizes {}

#[workflow]
impl Sizes {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<(u32, u64, bool)> {
        Ok((
            ctx.history_length(),
            ctx.history_size(),
            ctx.continue_as_new_suggested(),
        ))
    }
}

#[test]
fn the_code_reads_the_history_size_and_the_suggestion_of_its_task() {
    let mut history = HistoryBuilder::started(Sizes::NAME, Vec::new());
    history.workflow_task();
    let mut events = history.events().to_vec();
    let Some(Attributes::WorkflowTaskStartedEventAttributes(started)) =
        events.last_mut().and_then(|e| e.attributes.as_mut())
    else {
        panic!("the history ends with a task's start");
    };
    started.history_size_bytes = 5_000_000;
    started.suggest_continue_as_new = true;
    let last = events.last().unwrap().event_id;
    let commands = machine::<Sizes>()
        .apply(&events, last)
        .unwrap()
        .expect("the task runs");
    assert_eq!(
        completed_with::<(u32, u64, bool)>(&commands),
        (3, 5_000_000, true)
    );
}
