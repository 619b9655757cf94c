//! Workflow updates over the wire, with the test playing the worker in raw gRPC: an
//! accepted update survives a SIGKILL of the server and completes after the restart.

use prost::Message as _;
use temporalio_protos::temporal::api::command::v1::{self as cmd, Command, command};
use temporalio_protos::temporal::api::common::v1::{
    Payload, Payloads, WorkflowExecution, WorkflowType,
};
use temporalio_protos::temporal::api::enums::v1::{
    CommandType, EventType, UpdateWorkflowExecutionLifecycleStage as Stage,
};
use temporalio_protos::temporal::api::history::v1::history_event::Attributes;
use temporalio_protos::temporal::api::protocol::v1::Message;
use temporalio_protos::temporal::api::taskqueue::v1::TaskQueue;
use temporalio_protos::temporal::api::update::v1 as u;
use temporalio_protos::temporal::api::workflowservice::v1 as ws;
use tonic::transport::Channel;
use workflow_client::grpc::WorkflowServiceClient;

use crate::support::{free_port, spawn_server};

const QUEUE: &str = "updates";

async fn connect(port: u16) -> WorkflowServiceClient<Channel> {
    WorkflowServiceClient::connect(format!("http://127.0.0.1:{port}"))
        .await
        .unwrap()
}

fn execution() -> Option<WorkflowExecution> {
    Some(WorkflowExecution {
        workflow_id: "cart".into(),
        run_id: String::new(),
    })
}

fn payloads(data: &str) -> Option<Payloads> {
    Some(Payloads {
        payloads: vec![Payload {
            data: data.as_bytes().to_vec(),
            ..Default::default()
        }],
    })
}

async fn poll_task(
    client: &mut WorkflowServiceClient<Channel>,
) -> ws::PollWorkflowTaskQueueResponse {
    loop {
        let task = client
            .poll_workflow_task_queue(ws::PollWorkflowTaskQueueRequest {
                namespace: "default".into(),
                task_queue: Some(TaskQueue {
                    name: QUEUE.into(),
                    ..Default::default()
                }),
                identity: "test-worker".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        if !task.task_token.is_empty() {
            return task;
        }
    }
}

async fn complete(
    client: &mut WorkflowServiceClient<Channel>,
    task: &ws::PollWorkflowTaskQueueResponse,
    messages: Vec<Message>,
) {
    let commands = messages
        .iter()
        .map(|m| Command {
            command_type: CommandType::ProtocolMessage as i32,
            attributes: Some(command::Attributes::ProtocolMessageCommandAttributes(
                cmd::ProtocolMessageCommandAttributes {
                    message_id: m.id.clone(),
                },
            )),
            ..Default::default()
        })
        .collect();
    client
        .respond_workflow_task_completed(ws::RespondWorkflowTaskCompletedRequest {
            namespace: "default".into(),
            task_token: task.task_token.clone(),
            commands,
            messages,
            identity: "test-worker".into(),
            ..Default::default()
        })
        .await
        .unwrap();
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

async fn poll_update(
    client: &mut WorkflowServiceClient<Channel>,
    stage: Stage,
) -> ws::PollWorkflowExecutionUpdateResponse {
    client
        .poll_workflow_execution_update(ws::PollWorkflowExecutionUpdateRequest {
            namespace: "default".into(),
            update_ref: Some(u::UpdateRef {
                workflow_execution: execution(),
                update_id: "add-1".into(),
            }),
            wait_policy: Some(u::WaitPolicy {
                lifecycle_stage: stage as i32,
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_update_survives_a_sigkill_and_completes_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let port = free_port();
    let mut first = spawn_server(port, &db);
    let mut client = connect(port).await;
    client
        .start_workflow_execution(ws::StartWorkflowExecutionRequest {
            namespace: "default".into(),
            workflow_id: "cart".into(),
            workflow_type: Some(WorkflowType {
                name: "Cart".into(),
            }),
            task_queue: Some(TaskQueue {
                name: QUEUE.into(),
                ..Default::default()
            }),
            request_id: "start-1".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let task = poll_task(&mut client).await;
    complete(&mut client, &task, vec![]).await;

    let mut caller = client.clone();
    let update = tokio::spawn(async move {
        caller
            .update_workflow_execution(ws::UpdateWorkflowExecutionRequest {
                namespace: "default".into(),
                workflow_execution: execution(),
                wait_policy: Some(u::WaitPolicy {
                    lifecycle_stage: Stage::Accepted as i32,
                }),
                request: Some(u::Request {
                    meta: Some(u::Meta {
                        update_id: "add-1".into(),
                        identity: "caller".into(),
                    }),
                    input: Some(u::Input {
                        name: "add_item".into(),
                        args: payloads("apple"),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
    });
    let task = poll_task(&mut client).await;
    let request = &task.messages[0];
    assert_eq!(request.protocol_instance_id, "add-1");
    let accepted_request =
        u::Request::decode(request.body.as_ref().unwrap().value.as_slice()).unwrap();
    let acceptance = u::Acceptance {
        accepted_request_message_id: request.id.clone(),
        accepted_request: Some(accepted_request),
        ..Default::default()
    };
    complete(
        &mut client,
        &task,
        vec![message("add-1", "Acceptance", acceptance.encode_to_vec())],
    )
    .await;
    let accepted = update.await.unwrap();
    assert_eq!(accepted.stage(), Stage::Accepted);

    first.kill().unwrap();
    first.wait().unwrap();
    let mut second = spawn_server(port, &db);
    let mut client = connect(port).await;

    let after = poll_update(&mut client, Stage::Unspecified).await;
    assert_eq!(after.stage(), Stage::Accepted, "acceptance is durable");
    // A signal gives the worker a task in which to finish the update.
    client
        .signal_workflow_execution(ws::SignalWorkflowExecutionRequest {
            namespace: "default".into(),
            workflow_execution: execution(),
            signal_name: "poke".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let task = poll_task(&mut client).await;
    let response = u::Response {
        meta: Some(u::Meta {
            update_id: "add-1".into(),
            identity: "test-worker".into(),
        }),
        outcome: Some(u::Outcome {
            value: payloads("total 5").map(u::outcome::Value::Success),
        }),
    };
    complete(
        &mut client,
        &task,
        vec![message("add-1", "Response", response.encode_to_vec())],
    )
    .await;
    let done = poll_update(&mut client, Stage::Completed).await;
    assert_eq!(done.stage(), Stage::Completed);
    assert_eq!(
        done.outcome.and_then(|o| o.value),
        payloads("total 5").map(u::outcome::Value::Success)
    );

    let history = client
        .get_workflow_execution_history(ws::GetWorkflowExecutionHistoryRequest {
            namespace: "default".into(),
            execution: execution(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .history
        .unwrap()
        .events;
    let accepted_id = history
        .iter()
        .find(|e| e.event_type() == EventType::WorkflowExecutionUpdateAccepted)
        .map(|e| e.event_id)
        .expect("an accepted event");
    let completed = history
        .iter()
        .find_map(|e| match &e.attributes {
            Some(Attributes::WorkflowExecutionUpdateCompletedEventAttributes(a)) => Some(a),
            _ => None,
        })
        .expect("a completed event");
    assert_eq!(completed.accepted_event_id, accepted_id);
    second.kill().unwrap();
    second.wait().unwrap();
}
