//! Memo and search attribute upserts: commands on a new run, matched by their keys on replay.

use std::collections::HashMap;

use workflow_core::options::SearchAttributes;
use workflow_core::prelude::*;

use super::*;

/// Tags itself, then removes the draft fields.
#[workflow]
#[derive(Default)]
struct Tagged {}

#[workflow]
impl Tagged {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<String> {
        ctx.upsert_search_attributes(SearchAttributes::new().keyword("CustomKeyword", "paid"))?;
        ctx.upsert_memo("stage", &"shipping".to_string())?;
        ctx.remove_memo(["draft"]);
        ctx.remove_search_attributes(["CustomInt"]);
        Ok("tagged".into())
    }
}

fn fields(keys: &[&str]) -> HashMap<String, Payload> {
    keys.iter().map(|k| (k.to_string(), text("x"))).collect()
}

#[test]
fn a_new_run_sends_the_upserts_in_order_with_nulls_for_removals() {
    let mut history = HistoryBuilder::started(Tagged::NAME, Vec::new());
    history.workflow_task();
    let commands = run_task(&mut machine::<Tagged>(), &history).unwrap();
    assert_eq!(
        describe(&commands),
        [
            r#"UpsertWorkflowSearchAttributes(names=["CustomKeyword"])"#,
            r#"ModifyWorkflowProperties(memo keys=["stage"])"#,
            r#"ModifyWorkflowProperties(memo keys=["draft"])"#,
            r#"UpsertWorkflowSearchAttributes(names=["CustomInt"])"#,
            "CompleteWorkflowExecution"
        ]
    );
    let CommandRequest::ModifyProperties(removal) = &commands[2] else {
        unreachable!()
    };
    let draft = &removal.upserted_memo.as_ref().unwrap().fields["draft"];
    assert_eq!(draft.metadata["encoding"], b"binary/null");
    let CommandRequest::UpsertSearchAttributes(tag) = &commands[0] else {
        unreachable!()
    };
    let paid = &tag.search_attributes.as_ref().unwrap().indexed_fields["CustomKeyword"];
    assert_eq!(paid.data, br#""paid""#);
}

#[test]
fn recorded_upserts_replay() {
    let mut history = HistoryBuilder::started(Tagged::NAME, Vec::new());
    history.completed_workflow_task();
    history.search_attributes_upserted(fields(&["CustomKeyword"]));
    history.memo_modified(fields(&["stage"]));
    history.memo_modified(fields(&["draft"]));
    history.search_attributes_upserted(fields(&["CustomInt"]));
    history.workflow_completed(text("tagged"));
    replay::<Tagged>(&history).unwrap();
}

#[test]
fn an_upsert_of_other_keys_than_recorded_is_nondeterministic() {
    let mut history = HistoryBuilder::started(Tagged::NAME, Vec::new());
    history.completed_workflow_task();
    history.search_attributes_upserted(fields(&["CustomText"]));
    history.workflow_task();
    let message = nondeterminism(run_task(&mut machine::<Tagged>(), &history));
    assert!(
        message.contains(
            r#"history has UpsertWorkflowSearchAttributes(names=["CustomText"]) at event 5"#
        ) && message.contains(
            r#"the workflow issued UpsertWorkflowSearchAttributes(names=["CustomKeyword"])"#
        ),
        "{message}"
    );
}
