//! Protobuf messages as proto3 JSON, the mapping Temporal's HTTP API uses (camelCase names,
//! enums by name, 64-bit integers and bytes as strings), read from the descriptors
//! `temporalio-protos` builds, so every message of the API converts without hand-written code.

use std::sync::OnceLock;

use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor};
use serde_json::{Map, Value};

use crate::error::ApiError;

static DESCRIPTORS: &[u8] = include_bytes!(env!("TEMPORAL_PROTO_DESCRIPTORS"));

fn pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(DESCRIPTORS)
            .expect("the descriptors temporalio-protos built at compile time decode")
    })
}

fn descriptor(full_name: &str) -> Result<MessageDescriptor, ApiError> {
    pool()
        .get_message_by_name(full_name)
        .ok_or_else(|| ApiError::internal(format!("no descriptor for {full_name}")))
}

/// A message as proto3 JSON.
pub(crate) fn to_json<M: Message + prost::Name>(message: &M) -> Result<Value, ApiError> {
    encoded_to_json(&M::full_name(), &message.encode_to_vec())
}

/// Encoded bytes of the message named `full_name` as proto3 JSON.
pub(crate) fn encoded_to_json(full_name: &str, bytes: &[u8]) -> Result<Value, ApiError> {
    let message = DynamicMessage::decode(descriptor(full_name)?, bytes)
        .map_err(|e| ApiError::internal(format!("cannot decode {full_name}: {e}")))?;
    serde_json::to_value(&message)
        .map_err(|e| ApiError::internal(format!("cannot write {full_name} as JSON: {e}")))
}

/// Reads a request from proto3 JSON; a wrong field or value is the caller's error.
pub(crate) fn from_json<M: Message + prost::Name + Default>(value: Value) -> Result<M, ApiError> {
    let name = M::full_name();
    let message = DynamicMessage::deserialize(descriptor(&name)?, value)
        .map_err(|e| ApiError::invalid_argument(format!("invalid {name}: {e}")))?;
    M::decode(message.encode_to_vec().as_slice())
        .map_err(|e| ApiError::internal(format!("cannot re-encode {name}: {e}")))
}

/// Sets `value` at a dotted path (`execution.workflowId`) in a JSON object, creating the
/// objects on the way, as the HTTP API reads path and query parameters.
pub(crate) fn set_path(target: &mut Map<String, Value>, path: &str, value: Value) {
    let mut object = target;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            object.insert(part.to_owned(), value);
            return;
        }
        let next = object
            .entry(part.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !next.is_object() {
            *next = Value::Object(Map::new());
        }
        object = next.as_object_mut().expect("made an object just above");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use temporalio_protos::temporal::api::common::v1::WorkflowExecution;
    use temporalio_protos::temporal::api::workflowservice::v1::{
        DescribeWorkflowExecutionRequest, ListWorkflowExecutionsRequest,
    };

    #[test]
    fn requests_read_camel_case_snake_case_and_numbers_in_strings() {
        let mut object = Map::new();
        set_path(&mut object, "namespace", "default".into());
        set_path(&mut object, "execution.workflowId", "order-1".into());
        set_path(&mut object, "execution.run_id", "r1".into());
        let request: DescribeWorkflowExecutionRequest = from_json(Value::Object(object)).unwrap();
        assert_eq!(request.namespace, "default");
        let execution = request.execution.unwrap();
        assert_eq!(
            (execution.workflow_id.as_str(), execution.run_id.as_str()),
            ("order-1", "r1")
        );

        let list: ListWorkflowExecutionsRequest =
            from_json(serde_json::json!({"pageSize": "20", "nextPageToken": "AQI="})).unwrap();
        assert_eq!((list.page_size, list.next_page_token), (20, vec![1, 2]));
    }

    #[test]
    fn an_unknown_field_is_an_invalid_argument_naming_it() {
        let error = from_json::<ListWorkflowExecutionsRequest>(serde_json::json!({"colour": "x"}))
            .unwrap_err();
        assert_eq!(error.code, tonic::Code::InvalidArgument);
        assert!(error.message.contains("colour"), "{}", error.message);
    }

    #[test]
    fn responses_use_camel_case_and_enum_names() {
        let execution = WorkflowExecution {
            workflow_id: "w".into(),
            run_id: "r".into(),
        };
        assert_eq!(
            to_json(&execution).unwrap(),
            serde_json::json!({"workflowId": "w", "runId": "r"})
        );
    }
}
