//! The builder's own checks: ids count up and every reference points at its event.

use super::*;
use workflow_core::workflow::runtime::Marker;

/// The attributes of event `id`, which must be of the variant `$kind`.
macro_rules! event {
    ($history:expr, $id:expr, $kind:ident) => {
        match $history.event($id) {
            Some(A::$kind(a)) => a.clone(),
            other => panic!("event {} is not {}: {other:?}", $id, stringify!($kind)),
        }
    };
}

#[test]
fn workflow_tasks_and_activities_refer_to_their_events() {
    let mut history = HistoryBuilder::started("W", Vec::new());
    let started = history.workflow_task();
    history.workflow_task_failed();
    history.workflow_task();
    history.workflow_task_timed_out();
    let completed = history.completed_workflow_task();
    assert_eq!((started, completed), (3, 10));
    let ids: Vec<i64> = history.events().iter().map(|e| e.event_id).collect();
    assert_eq!(ids, (1..=10).collect::<Vec<_>>());
    assert_eq!((history.last_id(), history.next_id()), (10, 11));
    let failed = event!(history, 4, WorkflowTaskFailedEventAttributes);
    assert_eq!((failed.scheduled_event_id, failed.started_event_id), (2, 3));
    let timed_out = event!(history, 7, WorkflowTaskTimedOutEventAttributes);
    assert_eq!(
        (timed_out.scheduled_event_id, timed_out.started_event_id),
        (5, 6)
    );
    let task = event!(history, 10, WorkflowTaskCompletedEventAttributes);
    assert_eq!((task.scheduled_event_id, task.started_event_id), (8, 9));

    let scheduled = history.activity_scheduled("1", "greet");
    let started = history.activity_started(scheduled);
    let done = history.activity_completed(scheduled, started, 1.to_payload().unwrap());
    let failed = history.activity_failed(scheduled, started, "boom");
    let timed_out = history.activity_timed_out(scheduled, started);
    let requested = history.activity_cancel_requested(scheduled);
    let canceled = history.activity_canceled(scheduled, started, requested);
    let a = event!(history, scheduled, ActivityTaskScheduledEventAttributes);
    assert_eq!(a.workflow_task_completed_event_id, completed);
    let a = event!(history, started, ActivityTaskStartedEventAttributes);
    assert_eq!(a.scheduled_event_id, scheduled);
    let a = event!(history, done, ActivityTaskCompletedEventAttributes);
    assert_eq!(
        (a.scheduled_event_id, a.started_event_id),
        (scheduled, started)
    );
    let a = event!(history, failed, ActivityTaskFailedEventAttributes);
    assert_eq!(
        (a.scheduled_event_id, a.started_event_id),
        (scheduled, started)
    );
    let a = event!(history, timed_out, ActivityTaskTimedOutEventAttributes);
    assert_eq!(
        (a.scheduled_event_id, a.started_event_id),
        (scheduled, started)
    );
    let a = event!(
        history,
        requested,
        ActivityTaskCancelRequestedEventAttributes
    );
    assert_eq!(a.scheduled_event_id, scheduled);
    assert_eq!(a.workflow_task_completed_event_id, completed);
    let a = event!(history, canceled, ActivityTaskCanceledEventAttributes);
    assert_eq!(
        (
            a.scheduled_event_id,
            a.started_event_id,
            a.latest_cancel_requested_event_id
        ),
        (scheduled, started, requested)
    );
    assert_eq!(history.events_after(done).len(), 4);
}

#[test]
fn timers_children_markers_and_closing_events_refer_to_their_events() {
    let mut history = HistoryBuilder::started("W", Vec::new());
    let task = history.completed_workflow_task();
    let timer = history.timer_started("1", Duration::from_secs(1));
    let fired = history.timer_fired("1", timer);
    let canceled = history.timer_canceled("1", timer);
    assert_eq!(
        event!(history, timer, TimerStartedEventAttributes).workflow_task_completed_event_id,
        task
    );
    assert_eq!(
        event!(history, fired, TimerFiredEventAttributes).started_event_id,
        timer
    );
    assert_eq!(
        event!(history, canceled, TimerCanceledEventAttributes).started_event_id,
        timer
    );

    let initiated = history.child_initiated("child-1", "Child");
    let started = history.child_started(initiated);
    let done = history.child_completed(initiated, started, 1.to_payload().unwrap());
    let a = event!(
        history,
        started,
        ChildWorkflowExecutionStartedEventAttributes
    );
    assert_eq!(a.initiated_event_id, initiated);
    assert_eq!(a.workflow_execution.unwrap().workflow_id, "child-1");
    let a = event!(
        history,
        done,
        ChildWorkflowExecutionCompletedEventAttributes
    );
    assert_eq!(
        (a.initiated_event_id, a.started_event_id),
        (initiated, started)
    );
    assert_eq!(a.workflow_type.unwrap().name, "Child");

    let signal = history.external_signal_initiated("other", "ping");
    let signaled = history.external_signaled(signal);
    let cancel = history.external_cancel_initiated("other");
    let requested = history.external_cancel_requested(cancel);
    let a = event!(
        history,
        signaled,
        ExternalWorkflowExecutionSignaledEventAttributes
    );
    assert_eq!(a.initiated_event_id, signal);
    let a = event!(
        history,
        requested,
        ExternalWorkflowExecutionCancelRequestedEventAttributes
    );
    assert_eq!(a.initiated_event_id, cancel);

    // The markers read back as the SDK's own.
    let side_effect = history.side_effect_marker(3, "v".to_string().to_payload().unwrap());
    let patch = history.patch_marker("fix-\"1\"", true);
    let a = event!(history, side_effect, MarkerRecordedEventAttributes);
    let (marker, data) = Marker::from_event(&a).unwrap();
    assert_eq!(marker, Marker::SideEffect { seq: 3 });
    assert_eq!(String::from_payload(&data.unwrap()).unwrap(), "v");
    let a = event!(history, patch, MarkerRecordedEventAttributes);
    assert_eq!(
        Marker::from_event(&a).unwrap().0,
        Marker::Patch {
            id: "fix-\"1\"".into(),
            deprecated: true
        }
    );

    history.signaled("s", Vec::new());
    history.cancel_requested("why");
    for close in [
        HistoryBuilder::workflow_failed as fn(&mut HistoryBuilder, &str) -> i64,
        |h, t| h.continued_as_new(t, Vec::new()),
        |h, _| h.workflow_completed(1.to_payload().unwrap()),
    ] {
        let mut closed = history.clone();
        let id = close(&mut closed, "W");
        let references = match closed.event(id) {
            Some(A::WorkflowExecutionFailedEventAttributes(a)) => {
                a.workflow_task_completed_event_id
            }
            Some(A::WorkflowExecutionContinuedAsNewEventAttributes(a)) => {
                a.workflow_task_completed_event_id
            }
            Some(A::WorkflowExecutionCompletedEventAttributes(a)) => {
                a.workflow_task_completed_event_id
            }
            other => panic!("not a closing event: {other:?}"),
        };
        assert_eq!(references, task);
    }
}
