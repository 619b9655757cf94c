//! Workflow updates on the worker's side of the protocol: request messages from the server
//! become update jobs, updates a replayed task accepted are delivered again from their
//! accepted events, and the code's accept, reject and complete commands become the
//! messages (and protocol message commands) the completion carries.

use std::collections::HashMap;

use prost::Message as _;
use temporalio_protos::temporal::api::command::v1::{self as command, Command};
use temporalio_protos::temporal::api::common::v1::{Payload, Payloads};
use temporalio_protos::temporal::api::enums::v1::CommandType;
use temporalio_protos::temporal::api::history::v1::{HistoryEvent, history_event::Attributes};
use temporalio_protos::temporal::api::protocol::v1::{Message, message::SequencingId};
use temporalio_protos::temporal::api::update::v1 as u;
use workflow_core::failure::Failure;
use workflow_core::workflow::runtime::Job;

use super::TaskError;

const PREFIX: &str = "type.googleapis.com/";
const REQUEST: &str = "temporal.api.update.v1.Request";

/// An update request the server sent, kept until the code answers it.
#[derive(Debug, Clone)]
pub(super) struct Request {
    message_id: String,
    sequencing_event_id: i64,
    request: u::Request,
}

/// The update jobs of a task's request messages; each request is kept by update id for
/// the answer.
pub(super) fn request_jobs(
    messages: &[Message],
    requests: &mut HashMap<String, Request>,
) -> Result<Vec<Job>, TaskError> {
    let mut jobs = Vec::new();
    for message in messages {
        let Some(body) = &message.body else {
            continue;
        };
        if body.type_url.strip_prefix(PREFIX) != Some(REQUEST) {
            return Err(TaskError::History(format!(
                "message {} carries {}, which this worker does not handle",
                message.id, body.type_url
            )));
        }
        let request = u::Request::decode(body.value.as_slice()).map_err(|e| {
            TaskError::History(format!(
                "update request {} does not decode: {e}",
                message.id
            ))
        })?;
        let id = message.protocol_instance_id.clone();
        jobs.push(job(&id, &request, true));
        let sequencing_event_id = match message.sequencing_id {
            Some(SequencingId::EventId(id)) => id,
            _ => 0,
        };
        requests.insert(
            id,
            Request {
                message_id: message.id.clone(),
                sequencing_event_id,
                request,
            },
        );
    }
    Ok(jobs)
}

fn job(id: &str, request: &u::Request, run_validator: bool) -> Job {
    let input = request.input.clone().unwrap_or_default();
    Job::Update {
        id: id.to_string(),
        name: input.name,
        input: input.args.map(|p| p.payloads).unwrap_or_default(),
        run_validator,
    }
}

/// The updates a replayed task accepted, from the accepted events among its command
/// events: delivered again without their validators, as they were accepted once.
pub(super) fn replayed_jobs<'a>(events: impl Iterator<Item = &'a HistoryEvent>) -> Vec<Job> {
    events
        .filter_map(|e| match &e.attributes {
            Some(Attributes::WorkflowExecutionUpdateAcceptedEventAttributes(a)) => Some(job(
                &a.protocol_instance_id,
                &a.accepted_request.clone().unwrap_or_default(),
                false,
            )),
            _ => None,
        })
        .collect()
}

fn body<M: prost::Message>(kind: &str, message: &M) -> Option<prost_types::Any> {
    Some(prost_types::Any {
        type_url: format!("{PREFIX}temporal.api.update.v1.{kind}"),
        value: message.encode_to_vec(),
    })
}

/// The command that places a message among a completion's commands.
fn placed(message_id: &str) -> Command {
    Command {
        command_type: CommandType::ProtocolMessage as i32,
        attributes: Some(
            command::command::Attributes::ProtocolMessageCommandAttributes(
                command::ProtocolMessageCommandAttributes {
                    message_id: message_id.to_string(),
                },
            ),
        ),
        ..Default::default()
    }
}

fn request_of<'a>(
    requests: &'a HashMap<String, Request>,
    id: &str,
) -> Result<&'a Request, TaskError> {
    requests
        .get(id)
        .ok_or_else(|| TaskError::History(format!("update {id} was answered but never received")))
}

/// The acceptance of update `id`, and its command.
pub(super) fn accept(
    requests: &HashMap<String, Request>,
    id: &str,
) -> Result<(Command, Message), TaskError> {
    let request = request_of(requests, id)?;
    let acceptance = u::Acceptance {
        accepted_request_message_id: request.message_id.clone(),
        accepted_request_sequencing_event_id: request.sequencing_event_id,
        accepted_request: Some(request.request.clone()),
    };
    let message_id = format!("{id}/accept");
    let message = Message {
        id: message_id.clone(),
        protocol_instance_id: id.to_string(),
        sequencing_id: None,
        body: body("Acceptance", &acceptance),
    };
    Ok((placed(&message_id), message))
}

/// The rejection of update `id`: a message only, since a rejection writes no event.
pub(super) fn reject(
    requests: &mut HashMap<String, Request>,
    id: &str,
    failure: Failure,
) -> Result<Message, TaskError> {
    let request = requests.remove(id).ok_or_else(|| {
        TaskError::History(format!("update {id} was answered but never received"))
    })?;
    let rejection = u::Rejection {
        rejected_request_message_id: request.message_id,
        rejected_request_sequencing_event_id: request.sequencing_event_id,
        rejected_request: Some(request.request),
        failure: Some(failure.to_proto()),
    };
    Ok(Message {
        id: format!("{id}/reject"),
        protocol_instance_id: id.to_string(),
        sequencing_id: None,
        body: body("Rejection", &rejection),
    })
}

/// The response of update `id` with its outcome, and its command.
pub(super) fn complete(
    requests: &mut HashMap<String, Request>,
    id: &str,
    result: Result<Payload, Failure>,
) -> (Command, Message) {
    requests.remove(id);
    let outcome = match result {
        Ok(payload) => u::outcome::Value::Success(Payloads {
            payloads: vec![payload],
        }),
        Err(failure) => u::outcome::Value::Failure(failure.to_proto()),
    };
    let response = u::Response {
        meta: Some(u::Meta {
            update_id: id.to_string(),
            identity: String::new(),
        }),
        outcome: Some(u::Outcome {
            value: Some(outcome),
        }),
    };
    let message_id = format!("{id}/complete");
    let message = Message {
        id: message_id.clone(),
        protocol_instance_id: id.to_string(),
        sequencing_id: None,
        body: body("Response", &response),
    };
    (placed(&message_id), message)
}

/// Whether a message of ours rejects an update.
pub fn is_rejection(message: &Message) -> bool {
    message
        .body
        .as_ref()
        .is_some_and(|b| b.type_url.ends_with(".Rejection"))
}
