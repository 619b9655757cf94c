//! History reads: a run's events a page at a time, or only its close event, and the long
//! poll that waits for events not yet written.

use std::time::Duration;

use temporalio_protos::temporal::api::common::v1::WorkflowExecution;
use temporalio_protos::temporal::api::history::v1::HistoryEvent;

use super::Engine;
use super::error::EngineError;
use super::events::is_close_event;
use super::execution::Execution;

/// Which events a history read asks for.
#[derive(Debug, Clone)]
pub(crate) struct HistoryRequest {
    /// The id of the first event to send (1 for the start).
    pub from: i64,
    /// At most this many events.
    pub page_size: usize,
    /// Only the close event, once the run has one.
    pub close_only: bool,
    /// Wait for events (or the close) that are not there yet.
    pub wait_new_event: bool,
}

/// One page of a run's history.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct HistoryPage {
    pub events: Vec<HistoryEvent>,
    /// The id of the first event the next page starts at, when one may follow.
    pub next: Option<i64>,
}

/// The page `request` asks for from what `run` holds now, or `None` when it must wait
/// (or, not waiting, has no close event yet).
fn page(run: &Execution, request: &HistoryRequest) -> Option<HistoryPage> {
    let closed = !run.is_running();
    if request.close_only {
        if closed {
            let last = run.history.last().filter(is_close_event);
            return Some(HistoryPage {
                events: last.into_iter().collect(),
                next: None,
            });
        }
        return None;
    }
    let start = usize::try_from(request.from - 1).unwrap_or(usize::MAX);
    let events = run
        .history
        .decode(start..start.saturating_add(request.page_size));
    if events.is_empty() && request.wait_new_event && !closed {
        return None;
    }
    let next = request.from + events.len() as i64;
    let more = (next as usize) <= run.history.len() || (request.wait_new_event && !closed);
    Some(HistoryPage {
        events,
        next: more.then_some(next),
    })
}

impl Engine {
    /// Reads a page of the history of the run `execution` names, waiting up to `budget`
    /// for new events when the request waits. A wait that sees nothing new answers an
    /// empty page that continues where it started.
    pub(crate) async fn history(
        &self,
        namespace: &str,
        execution: &WorkflowExecution,
        request: HistoryRequest,
        budget: Duration,
    ) -> Result<HistoryPage, EngineError> {
        let deadline = tokio::time::Instant::now() + budget;
        let _awaiting =
            (request.close_only && request.wait_new_event).then(|| self.awaiting_result());
        let mut changes = self.with_run(namespace, execution, |run| run.subscribe())?;
        loop {
            if let Some(found) = self.with_run(namespace, execution, |run| page(run, &request))? {
                return Ok(found);
            }
            if !request.wait_new_event {
                // Asked for the close event without waiting, of a run still open.
                return Ok(HistoryPage::default());
            }
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => {}
                // The run left memory (it closed and others took its place): read it back.
                Ok(Err(_)) => {
                    changes = self.with_run(namespace, execution, |run| run.subscribe())?;
                }
                Err(_) => {
                    return Ok(HistoryPage {
                        events: Vec::new(),
                        next: Some(request.from),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use temporalio_protos::temporal::api::enums::v1::WorkflowExecutionStatus;
    use temporalio_protos::temporal::api::history::v1::history_event::Attributes;
    use temporalio_protos::temporal::api::history::v1::{
        WorkflowExecutionCompletedEventAttributes, WorkflowExecutionStartedEventAttributes,
    };

    use super::*;
    use crate::engine::record::RunState;

    fn run(events: i64, status: WorkflowExecutionStatus) -> Execution {
        let mut history: Vec<HistoryEvent> = (1..=events)
            .map(|id| HistoryEvent {
                event_id: id,
                attributes: Some(Attributes::WorkflowExecutionStartedEventAttributes(
                    WorkflowExecutionStartedEventAttributes::default(),
                )),
                ..Default::default()
            })
            .collect();
        if status == WorkflowExecutionStatus::Completed {
            history.push(HistoryEvent {
                event_id: events + 1,
                attributes: Some(Attributes::WorkflowExecutionCompletedEventAttributes(
                    WorkflowExecutionCompletedEventAttributes::default(),
                )),
                ..Default::default()
            });
        }
        let state = RunState {
            status: status as i32,
            ..Default::default()
        };
        Execution::new("default", state, history.into_iter().collect())
    }

    fn request(from: i64, page_size: usize, close_only: bool, wait: bool) -> HistoryRequest {
        HistoryRequest {
            from,
            page_size,
            close_only,
            wait_new_event: wait,
        }
    }

    fn ids(page: &HistoryPage) -> Vec<i64> {
        page.events.iter().map(|e| e.event_id).collect()
    }

    #[test]
    fn pages_continue_at_the_next_event_while_more_may_follow() {
        let open = run(3, WorkflowExecutionStatus::Running);
        let first = page(&open, &request(1, 2, false, false)).unwrap();
        assert_eq!((ids(&first), first.next), (vec![1, 2], Some(3)));
        let last = page(&open, &request(3, 2, false, false)).unwrap();
        assert_eq!((ids(&last), last.next), (vec![3], None));
        // A waiting reader of an open run may get more, so the token stays.
        let waiting = page(&open, &request(3, 2, false, true)).unwrap();
        assert_eq!((ids(&waiting), waiting.next), (vec![3], Some(4)));
        assert_eq!(page(&open, &request(4, 2, false, true)), None, "waits");
    }

    #[test]
    fn the_close_event_alone_once_the_run_closed() {
        let open = run(2, WorkflowExecutionStatus::Running);
        assert_eq!(page(&open, &request(1, 10, true, true)), None);
        let closed = run(2, WorkflowExecutionStatus::Completed);
        let close = page(&closed, &request(1, 10, true, false)).unwrap();
        assert_eq!((ids(&close), close.next), (vec![3], None));
        let past_end = page(&closed, &request(4, 10, false, true)).unwrap();
        assert_eq!((ids(&past_end), past_end.next), (vec![], None));
    }
}
