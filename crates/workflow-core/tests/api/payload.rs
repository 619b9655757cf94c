//! Payload conversion: encodings, JSON form, argument lists and the size limit.

use std::collections::BTreeMap;

use workflow_core::payload::{
    Args, BINARY_NULL, BINARY_PLAIN, Bytes, JSON_PLAIN, JSON_PROTOBUF, Payload, PayloadArgs,
    PayloadConverter, PayloadError, PayloadValue, ProtoJson, RawPayload, encoding_of,
};
use workflow_core::prelude::{Deserialize, Serialize};
use workflow_core::protos::temporal::api::common::v1::WorkflowType;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Greeting {
    name: String,
    greeting: String,
    times: u32,
}

fn encoding(p: &Payload) -> &str {
    encoding_of(p).unwrap()
}

#[test]
fn unit_and_none_encode_as_binary_null_with_no_data() {
    for payload in [
        ().to_payload().unwrap(),
        None::<String>.to_payload().unwrap(),
    ] {
        assert_eq!(encoding(&payload), BINARY_NULL);
        assert!(payload.data.is_empty());
    }
    let back: Option<String> = Option::from_payload(&().to_payload().unwrap()).unwrap();
    assert_eq!(back, None);
}

#[test]
fn structs_encode_as_compact_json_with_sorted_keys() {
    let value = Greeting {
        name: "Ada".into(),
        greeting: "Hello".into(),
        times: 2,
    };
    let payload = value.to_payload().unwrap();
    assert_eq!(encoding(&payload), JSON_PLAIN);
    assert_eq!(
        payload.data,
        br#"{"greeting":"Hello","name":"Ada","times":2}"#
    );
    assert_eq!(Greeting::from_payload(&payload).unwrap(), value);
}

#[test]
fn non_ascii_text_is_escaped_like_python_json() {
    let payload = "é ✓ 😀\u{7f}".to_string().to_payload().unwrap();
    assert_eq!(payload.data, br#""\u00e9 \u2713 \ud83d\ude00\u007f""#);
    assert_eq!(String::from_payload(&payload).unwrap(), "é ✓ 😀\u{7f}");
}

#[test]
fn bytes_encode_as_binary_plain_and_decode_into_vec_u8() {
    let payload = Bytes::from(vec![0, 1, 255]).to_payload().unwrap();
    assert_eq!(encoding(&payload), BINARY_PLAIN);
    assert_eq!(payload.data, [0, 1, 255]);
    assert_eq!(Bytes::from_payload(&payload).unwrap().0, [0, 1, 255]);
    assert_eq!(Vec::<u8>::from_payload(&payload).unwrap(), [0, 1, 255]);
}

#[test]
fn bytes_refuse_a_json_payload_naming_the_encoding() {
    let err = Bytes::from_payload(&"text".to_string().to_payload().unwrap()).unwrap_err();
    assert!(
        matches!(err, PayloadError::Decode { ref encoding, .. } if encoding == JSON_PLAIN),
        "{err}"
    );
}

#[test]
fn protobuf_messages_encode_as_json_protobuf_with_message_type() {
    let message = WorkflowType {
        name: "Greeting".into(),
    };
    let payload = ProtoJson(message.clone()).to_payload().unwrap();
    assert_eq!(encoding(&payload), JSON_PROTOBUF);
    assert_eq!(
        payload.metadata["messageType"],
        b"temporal.api.common.v1.WorkflowType"
    );
    assert_eq!(
        ProtoJson::<WorkflowType>::from_payload(&payload).unwrap().0,
        message
    );
}

#[test]
fn protobuf_decoding_rejects_another_message_type() {
    let mut payload = ProtoJson(WorkflowType { name: "x".into() })
        .to_payload()
        .unwrap();
    payload
        .metadata
        .insert("messageType".into(), b"other.Message".to_vec());
    let err = ProtoJson::<WorkflowType>::from_payload(&payload).unwrap_err();
    assert!(err.to_string().contains("other.Message"), "{err}");
}

#[test]
fn decoding_the_wrong_type_names_the_type_and_encoding() {
    let payload = "not a number".to_string().to_payload().unwrap();
    let err = u32::from_payload(&payload).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("u32") && text.contains("json/plain"),
        "{text}"
    );
}

#[test]
fn unknown_and_missing_encodings_are_typed_errors() {
    let mut payload = 1.to_payload().unwrap();
    payload
        .metadata
        .insert("encoding".into(), b"binary/encrypted".to_vec());
    assert_eq!(
        i32::from_payload(&payload).unwrap_err(),
        PayloadError::UnknownEncoding {
            encoding: "binary/encrypted".into()
        }
    );
    payload.metadata.clear();
    assert_eq!(
        i32::from_payload(&payload).unwrap_err(),
        PayloadError::MissingEncoding
    );
}

#[test]
fn oversized_payload_is_refused_naming_size_and_limit() {
    let converter = PayloadConverter::default();
    let big = "x".repeat(2 * 1024 * 1024 + 1);
    let err = converter.to_payload(&big).unwrap_err();
    let PayloadError::TooLarge { size, limit } = err else {
        panic!("expected TooLarge, got {err:?}");
    };
    assert!(size > limit);
    assert_eq!(limit, 2 * 1024 * 1024);
    assert!(err.to_string().contains(&size.to_string()));
    assert!(converter.to_payload(&"x".repeat(1024)).is_ok());
}

#[test]
fn size_limit_is_configurable_and_applies_to_the_sum_of_arguments() {
    let converter = PayloadConverter::default().with_size_limit(100);
    let each = "y".repeat(40);
    assert!(converter.to_payload(&each).is_ok());
    let err = converter
        .to_payloads(&Args((each.clone(), each.clone(), each)))
        .unwrap_err();
    assert!(
        matches!(err, PayloadError::TooLarge { limit: 100, .. }),
        "{err:?}"
    );
}

#[test]
fn several_arguments_are_several_payloads() {
    let args = Args(("a".to_string(), 2_i64, None::<String>));
    let payloads = args.to_payloads().unwrap();
    assert_eq!(payloads.len(), 3);
    assert_eq!(payloads[0].data, br#""a""#);
    assert_eq!(payloads[1].data, b"2");
    assert_eq!(encoding(&payloads[2]), BINARY_NULL);
    let back = Args::<(String, i64, Option<String>)>::from_payloads(&payloads).unwrap();
    assert_eq!(back, args);
}

#[test]
fn a_single_value_is_one_payload_and_unit_is_no_arguments() {
    assert_eq!(42.to_payloads().unwrap().len(), 1);
    assert!(().to_payloads().unwrap().is_empty());
    assert!(Args(()).to_payloads().unwrap().is_empty());
    <()>::from_payloads(&[]).unwrap();
}

#[test]
fn missing_optional_arguments_decode_as_none_and_missing_required_ones_fail() {
    let payloads = "a".to_string().to_payloads().unwrap();
    let (a, b) = Args::<(String, Option<u8>)>::from_payloads(&payloads)
        .unwrap()
        .0;
    assert_eq!((a.as_str(), b), ("a", None));
    let err = Args::<(String, u8)>::from_payloads(&payloads).unwrap_err();
    assert_eq!(
        err,
        PayloadError::MissingArgument {
            index: 1,
            received: 1
        }
    );
}

#[test]
fn maps_and_nested_values_round_trip() {
    let value = BTreeMap::from([("b".to_string(), vec![1.5, 2.0]), ("a".to_string(), vec![])]);
    let payload = value.to_payload().unwrap();
    assert_eq!(payload.data, br#"{"a":[],"b":[1.5,2.0]}"#);
    assert_eq!(
        BTreeMap::<String, Vec<f64>>::from_payload(&payload).unwrap(),
        value
    );
}

#[test]
fn raw_payloads_pass_through_untouched() {
    let original = Greeting {
        name: "n".into(),
        greeting: "g".into(),
        times: 1,
    }
    .to_payload()
    .unwrap();
    let raw = RawPayload::from_payload(&original).unwrap();
    assert_eq!(raw.to_payload().unwrap(), original);
}
