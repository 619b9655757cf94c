//! Protobuf messages as proto3 JSON, the mapping Temporal's HTTP API uses (camelCase names,
//! enums by name, 64-bit integers and bytes as strings), read from the descriptors
//! `temporalio-protos` builds, so every message of the API converts without hand-written code.
//!
//! Payloads get the HTTP API's shorthand: a `Payload` whose only metadata is the
//! `json/plain` encoding is written as its JSON value, and `Payloads` whose every payload
//! is such as an array of values. Anything else keeps the full form (`metadata`, `data` in
//! base64). Requests may use either form.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, Kind, MessageDescriptor};
use serde_json::{Map, Value};

use crate::error::ApiError;

const PAYLOAD: &str = "temporal.api.common.v1.Payload";
const PAYLOADS: &str = "temporal.api.common.v1.Payloads";
const JSON_PLAIN: &str = "json/plain";

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
    let descriptor = descriptor(full_name)?;
    let message = DynamicMessage::decode(descriptor.clone(), bytes)
        .map_err(|e| ApiError::internal(format!("cannot decode {full_name}: {e}")))?;
    let mut value = serde_json::to_value(&message)
        .map_err(|e| ApiError::internal(format!("cannot write {full_name} as JSON: {e}")))?;
    walk_payloads(&mut value, &descriptor, &shorten);
    Ok(value)
}

/// Reads a request from proto3 JSON; a wrong field or value is the caller's error.
pub(crate) fn from_json<M: Message + prost::Name + Default>(value: Value) -> Result<M, ApiError> {
    let name = M::full_name();
    let descriptor = descriptor(&name)?;
    let mut value = value;
    walk_payloads(&mut value, &descriptor, &lengthen);
    let message = DynamicMessage::deserialize(descriptor, value)
        .map_err(|e| ApiError::invalid_argument(format!("invalid {name}: {e}")))?;
    M::decode(message.encode_to_vec().as_slice())
        .map_err(|e| ApiError::internal(format!("cannot re-encode {name}: {e}")))
}

/// Calls `change` on every `Payload` and `Payloads` value inside a message's JSON, found
/// through the message's descriptor (fields, lists and map values, at any depth).
fn walk_payloads(
    value: &mut Value,
    message: &MessageDescriptor,
    change: &dyn Fn(&mut Value, &str),
) {
    let Value::Object(object) = value else {
        return;
    };
    for field in message.fields() {
        let Kind::Message(inner) = field.kind() else {
            continue;
        };
        // Requests may name fields either way; responses use the JSON name.
        let name = if object.contains_key(field.json_name()) {
            field.json_name()
        } else {
            field.name()
        };
        if let Some(child) = object.get_mut(name) {
            visit(child, &field, &inner, change);
        }
    }
}

fn visit(
    child: &mut Value,
    field: &prost_reflect::FieldDescriptor,
    inner: &MessageDescriptor,
    change: &dyn Fn(&mut Value, &str),
) {
    let one = |value: &mut Value, message: &MessageDescriptor| match message.full_name() {
        name @ (PAYLOAD | PAYLOADS) => change(value, name),
        _ => walk_payloads(value, message, change),
    };
    if field.is_map() {
        if let (Kind::Message(values), Value::Object(entries)) =
            (inner.map_entry_value_field().kind(), child)
        {
            entries.values_mut().for_each(|v| one(v, &values));
        }
    } else if field.is_list() {
        if let Value::Array(items) = child {
            items.iter_mut().for_each(|v| one(v, inner));
        }
    } else {
        one(child, inner);
    }
}

/// The JSON value of a full-form payload whose only metadata is the `json/plain` encoding.
fn plain_value(payload: &Value) -> Option<Value> {
    let object = payload.as_object()?;
    let metadata = object.get("metadata")?.as_object()?;
    if metadata.len() != 1 || object.keys().any(|k| k != "metadata" && k != "data") {
        return None;
    }
    let encoding = BASE64.decode(metadata.get("encoding")?.as_str()?).ok()?;
    if encoding != JSON_PLAIN.as_bytes() {
        return None;
    }
    let data = BASE64
        .decode(object.get("data").and_then(Value::as_str).unwrap_or(""))
        .ok()?;
    serde_json::from_slice(&data).ok()
}

fn shorten(value: &mut Value, kind: &str) {
    if kind == PAYLOAD {
        if let Some(plain) = plain_value(value) {
            *value = plain;
        }
        return;
    }
    let Some(payloads) = value.get("payloads").and_then(Value::as_array) else {
        // No payloads at all: an empty list.
        *value = Value::Array(Vec::new());
        return;
    };
    let plain: Option<Vec<Value>> = payloads.iter().map(plain_value).collect();
    if let Some(plain) = plain {
        *value = Value::Array(plain);
    }
}

/// Whether a request's payload is in the full form rather than a shorthand JSON value.
fn is_full_payload(value: &Value) -> bool {
    value.as_object().is_some_and(|object| {
        !object.is_empty()
            && object.keys().all(|k| k == "metadata" || k == "data")
            && object.get("metadata").is_none_or(Value::is_object)
    })
}

fn full_payload(value: &Value) -> Value {
    serde_json::json!({
        "metadata": {"encoding": BASE64.encode(JSON_PLAIN)},
        "data": BASE64.encode(value.to_string()),
    })
}

fn lengthen(value: &mut Value, kind: &str) {
    match (kind, &*value) {
        (PAYLOAD, payload) if !is_full_payload(payload) => *value = full_payload(payload),
        (PAYLOADS, Value::Array(items)) => {
            let payloads: Vec<Value> = items
                .iter()
                .map(|item| {
                    if is_full_payload(item) {
                        item.clone()
                    } else {
                        full_payload(item)
                    }
                })
                .collect();
            *value = serde_json::json!({ "payloads": payloads });
        }
        _ => {}
    }
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

    fn full(encoding: &str, data: &str) -> Value {
        serde_json::json!({
            "metadata": {"encoding": BASE64.encode(encoding)},
            "data": BASE64.encode(data),
        })
    }

    #[test]
    fn plain_json_payloads_are_written_as_their_values_and_others_in_full() {
        use temporalio_protos::temporal::api::common::v1::{Payload, Payloads};
        use temporalio_protos::temporal::api::history::v1::WorkflowExecutionSignaledEventAttributes;
        let payload = |encoding: &str, data: &str| Payload {
            metadata: [("encoding".to_string(), encoding.as_bytes().to_vec())].into(),
            data: data.as_bytes().to_vec(),
            ..Default::default()
        };
        let signaled = |payloads: Vec<Payload>| WorkflowExecutionSignaledEventAttributes {
            signal_name: "go".into(),
            input: Some(Payloads { payloads }),
            ..Default::default()
        };
        let plain = signaled(vec![
            payload("json/plain", "\"a\""),
            payload("json/plain", "{\"b\":2}"),
        ]);
        assert_eq!(
            to_json(&plain).unwrap(),
            serde_json::json!({"signalName": "go", "input": ["a", {"b": 2}]})
        );
        let mixed = signaled(vec![
            payload("json/plain", "1"),
            payload("binary/plain", "x"),
        ]);
        assert_eq!(
            to_json(&mixed).unwrap()["input"],
            serde_json::json!({"payloads": [full("json/plain", "1"), full("binary/plain", "x")]})
        );
    }

    #[test]
    fn requests_take_payloads_as_values_or_in_full() {
        use temporalio_protos::temporal::api::workflowservice::v1::SignalWorkflowExecutionRequest;
        let short: SignalWorkflowExecutionRequest =
            from_json(serde_json::json!({"input": ["a", {"b": 2}]})).unwrap();
        let payloads = short.input.unwrap().payloads;
        assert_eq!(payloads.len(), 2);
        assert_eq!(payloads[0].metadata["encoding"], b"json/plain");
        assert_eq!(payloads[1].data, br#"{"b":2}"#);
        let long: SignalWorkflowExecutionRequest =
            from_json(serde_json::json!({"input": {"payloads": [full("binary/plain", "x")]}}))
                .unwrap();
        let payloads = long.input.unwrap().payloads;
        assert_eq!(
            (
                payloads[0].metadata["encoding"].as_slice(),
                payloads[0].data.as_slice()
            ),
            (&b"binary/plain"[..], &b"x"[..])
        );
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
