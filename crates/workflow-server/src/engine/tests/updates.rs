//! Workflow updates: admitted, carried by a (speculative) workflow task, rejected without a
//! trace, accepted and completed with events, answered again by id, aborted by a close.

use std::time::Duration;

use prost::Message as _;
use temporalio_protos::temporal::api::enums::v1::UpdateWorkflowExecutionLifecycleStage as Stage;
use temporalio_protos::temporal::api::failure::v1::Failure;
use temporalio_protos::temporal::api::protocol::v1::Message;
use temporalio_protos::temporal::api::update::v1::{self as u, outcome};

use super::*;

/// Sends update `id` to `workflow_id` and answers at once with the stage reached.
async fn update(
    h: &Harness,
    workflow_id: &str,
    id: &str,
) -> Result<ws::UpdateWorkflowExecutionResponse, EngineError> {
    update_within(h, workflow_id, id, Duration::ZERO).await
}

/// Sends update `id` to `workflow_id` and waits up to `budget` for its completion.
async fn update_within(
    h: &Harness,
    workflow_id: &str,
    id: &str,
    budget: Duration,
) -> Result<ws::UpdateWorkflowExecutionResponse, EngineError> {
    h.engine
        .update_workflow(
            ws::UpdateWorkflowExecutionRequest {
                namespace: NAMESPACE.into(),
                workflow_execution: Some(execution(workflow_id, "")),
                request: Some(u::Request {
                    meta: Some(u::Meta {
                        update_id: id.into(),
                        identity: "tester".into(),
                    }),
                    input: Some(u::Input {
                        name: "add".into(),
                        args: payloads(id),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            },
            budget,
        )
        .await
}

fn message(id: &str, kind: &str, body: Vec<u8>) -> Message {
    Message {
        id: format!("{id}/{kind}"),
        protocol_instance_id: id.into(),
        body: Some(prost_types::Any {
            type_url: format!("type.googleapis.com/temporal.api.update.v1.{kind}"),
            value: body,
        }),
        ..Default::default()
    }
}

fn acceptance(id: &str) -> Message {
    let body = u::Acceptance {
        accepted_request_message_id: format!("{id}/request"),
        ..Default::default()
    };
    message(id, "Acceptance", body.encode_to_vec())
}

fn rejection(id: &str, why: &str) -> Message {
    let body = u::Rejection {
        rejected_request_message_id: format!("{id}/request"),
        failure: Some(Failure {
            message: why.into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    message(id, "Rejection", body.encode_to_vec())
}

fn response(id: &str, result: &str) -> Message {
    let body = u::Response {
        meta: Some(u::Meta {
            update_id: id.into(),
            identity: "tester".into(),
        }),
        outcome: Some(u::Outcome {
            value: payloads(result).map(outcome::Value::Success),
        }),
    };
    message(id, "Response", body.encode_to_vec())
}

/// The command that places `message` among a completion's commands.
fn place(message: &Message) -> Command {
    command(
        CommandType::ProtocolMessage,
        C::ProtocolMessageCommandAttributes(cmd::ProtocolMessageCommandAttributes {
            message_id: message.id.clone(),
        }),
    )
}

async fn answer(
    h: &Harness,
    task: &ws::PollWorkflowTaskQueueResponse,
    commands: Vec<Command>,
    messages: Vec<Message>,
) -> Result<ws::RespondWorkflowTaskCompletedResponse, EngineError> {
    h.engine
        .complete_workflow_task(ws::RespondWorkflowTaskCompletedRequest {
            namespace: NAMESPACE.into(),
            task_token: task.task_token.clone(),
            commands,
            messages,
            identity: "tester".into(),
            ..Default::default()
        })
        .await
}

fn failure_message(response: &ws::UpdateWorkflowExecutionResponse) -> String {
    match response.outcome.as_ref().and_then(|o| o.value.as_ref()) {
        Some(outcome::Value::Failure(f)) => f.message.clone(),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn an_update_rides_a_speculative_task_and_its_rejection_leaves_no_event() {
    let h = Harness::new();
    h.start("w").await;
    h.step(vec![]).await;
    let before = h.events("w");
    let (rejected, ()) = tokio::join!(
        update_within(&h, "w", "u1", Duration::from_secs(30)),
        async {
            let task = h.poll().await;
            assert_eq!(task.messages.len(), 1);
            assert_eq!(task.messages[0].protocol_instance_id, "u1");
            let sent = names(&task.history.clone().unwrap().events);
            assert_eq!(
                sent[sent.len() - 2..],
                ["WorkflowTaskScheduled", "WorkflowTaskStarted"]
            );
            assert_eq!(
                h.events("w"),
                before,
                "the speculative task is not in history"
            );
            let done = answer(&h, &task, vec![], vec![rejection("u1", "no")])
                .await
                .unwrap();
            assert_eq!(done.reset_history_event_id, 3, "back to the last task kept");
        }
    );
    let rejected = rejected.unwrap();
    assert_eq!(rejected.stage(), Stage::Completed);
    assert_eq!(failure_message(&rejected), "no");
    assert_eq!(h.events("w"), before, "a rejection writes nothing");
    assert!(h.poll_on(QUEUE).await.is_none(), "no task is left behind");
}

#[tokio::test]
async fn an_accepted_update_writes_its_request_and_outcome_and_its_id_answers_again() {
    let h = Harness::new();
    h.start("w").await;
    h.step(vec![]).await;
    update(&h, "w", "u1").await.unwrap();
    let task = h.poll().await;
    let (accept, respond) = (acceptance("u1"), response("u1", "total 3"));
    answer(
        &h,
        &task,
        vec![place(&accept), place(&respond)],
        vec![accept, respond],
    )
    .await
    .unwrap();
    let events = h.events("w");
    assert_eq!(
        events[events.len() - 5..],
        [
            "WorkflowTaskScheduled",
            "WorkflowTaskStarted",
            "WorkflowTaskCompleted",
            "WorkflowExecutionUpdateAccepted",
            "WorkflowExecutionUpdateCompleted"
        ]
    );
    let again = update(&h, "w", "u1").await.unwrap();
    assert_eq!(again.stage(), Stage::Completed);
    assert_eq!(
        again.outcome.and_then(|o| o.value),
        payloads("total 3").map(outcome::Value::Success)
    );
    assert!(
        h.poll_on(QUEUE).await.is_none(),
        "a repeated id is not sent again"
    );
}

#[tokio::test]
async fn an_update_that_arrives_during_a_task_goes_with_the_next_one() {
    let h = Harness::new();
    h.start("w").await;
    let first = h.poll().await;
    update(&h, "w", "u1").await.unwrap();
    assert!(first.messages.is_empty());
    answer(&h, &first, vec![], vec![]).await.unwrap();
    let next = h.poll().await;
    assert_eq!(next.messages.len(), 1, "the update rides the next task");
}

#[tokio::test]
async fn an_update_the_worker_ignores_is_rejected_as_unprocessed() {
    let h = Harness::new();
    h.start("w").await;
    h.step(vec![]).await;
    let (ignored, ()) = tokio::join!(
        update_within(&h, "w", "u1", Duration::from_secs(30)),
        async {
            let task = h.poll().await;
            answer(&h, &task, vec![], vec![]).await.unwrap();
        }
    );
    let ignored = ignored.unwrap();
    assert!(
        failure_message(&ignored).contains("wasn't processed by worker"),
        "{ignored:?}"
    );
}

#[tokio::test]
async fn closing_the_run_fails_accepted_updates_and_refuses_new_ones() {
    let h = Harness::new();
    h.start("w").await;
    h.step(vec![]).await;
    update(&h, "w", "u1").await.unwrap();
    let task = h.poll().await;
    let accept = acceptance("u1");
    answer(&h, &task, vec![place(&accept)], vec![accept])
        .await
        .unwrap();
    assert_eq!(
        update(&h, "w", "u1").await.unwrap().stage(),
        Stage::Accepted
    );
    h.engine
        .terminate(NAMESPACE, &execution("w", ""), "enough", None, "tester")
        .await
        .unwrap();
    let accepted = update(&h, "w", "u1").await.unwrap();
    assert!(
        failure_message(&accepted).contains("completed before the Update completed"),
        "{accepted:?}"
    );
    let refused = update(&h, "w", "u2").await.unwrap_err();
    assert!(matches!(refused, EngineError::NotFound(_)), "{refused:?}");
}

#[tokio::test]
async fn a_message_for_an_update_the_run_does_not_hold_fails_the_task() {
    let h = Harness::new();
    h.start("w").await;
    let task = h.poll().await;
    let accept = acceptance("nobody");
    let refused = answer(&h, &task, vec![place(&accept)], vec![accept])
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("wasn't found"), "{refused}");
    assert!(h.events("w").contains(&"WorkflowTaskFailed".to_string()));
}

#[tokio::test]
async fn a_speculative_task_over_new_events_is_kept_unless_the_worker_takes_them_again() {
    let h = Harness::new();
    h.start("w").await;
    // The last task's commands leave an event after its completion.
    h.step(vec![timer("t", 60)]).await;
    let (rejected, ()) = tokio::join!(
        update_within(&h, "w", "u1", Duration::from_secs(30)),
        async {
            let task = h.poll().await;
            let done = answer(&h, &task, vec![], vec![rejection("u1", "no")])
                .await
                .unwrap();
            assert_eq!(done.reset_history_event_id, 0, "the task is kept");
        }
    );
    assert_eq!(failure_message(&rejected.unwrap()), "no");
    let events = h.events("w");
    assert_eq!(
        events[events.len() - 3..],
        [
            "WorkflowTaskScheduled",
            "WorkflowTaskStarted",
            "WorkflowTaskCompleted"
        ]
    );
}
