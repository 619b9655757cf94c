//! Runs out of memory are read back from the store whole.

use temporalio_protos::temporal::api::history::v1::history_event::Attributes;

use super::*;

#[tokio::test]
async fn a_closed_run_past_the_cache_is_read_back_with_its_whole_history() {
    let h = Harness::with_cache(1);
    for id in ["a", "b", "c"] {
        h.start(id).await;
        h.step(vec![complete_workflow(id)]).await;
    }
    let in_memory = h.engine.runs_in_memory();
    assert_eq!((in_memory.open, in_memory.closed), (0, 1));
    let result = h.run("a", |run| {
        run.history
            .decode_all()
            .into_iter()
            .find_map(|e| match &e.attributes {
                Some(Attributes::WorkflowExecutionCompletedEventAttributes(a)) => a.result.clone(),
                _ => None,
            })
    });
    assert_eq!(result, payloads("a"), "the close event came back");
    assert_eq!(h.events("a").len(), 5);
}
