//! Our payload converter against the Python SDK's: the same values give the same payloads,
//! byte for byte, and Python's payloads decode into the Rust types.

use std::collections::{BTreeMap, HashMap};
use std::process::Command;
use std::sync::OnceLock;

use base64::Engine;
use workflow_core::payload::{
    Args, Bytes, Payload, PayloadArgs, PayloadValue, ProtoJson, encoding_of,
};
use workflow_core::protos::temporal::api::common::v1::WorkflowType;
use workflow_tests::{GreetingInput, python, python_dir};

type PythonPayloads = HashMap<String, Vec<Payload>>;

/// What `tests/python/encode_values.py` prints, run once with the real Python SDK.
fn python_payloads() -> &'static PythonPayloads {
    static CACHE: OnceLock<PythonPayloads> = OnceLock::new();
    CACHE.get_or_init(|| {
        let output = Command::new(python())
            .arg(python_dir().join("encode_values.py"))
            .output()
            .expect("run encode_values.py");
        let stdout = String::from_utf8(output.stdout).unwrap();
        let line = stdout.lines().last().unwrap_or_else(|| {
            panic!(
                "encode_values.py printed nothing: {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        let raw: BTreeMap<String, Vec<serde_json::Value>> = serde_json::from_str(line).unwrap();
        let b64 = |v: &serde_json::Value| {
            base64::engine::general_purpose::STANDARD
                .decode(v.as_str().unwrap())
                .unwrap()
        };
        raw.into_iter()
            .map(|(case, payloads)| {
                let payloads = payloads
                    .iter()
                    .map(|p| Payload {
                        metadata: p["metadata"]
                            .as_object()
                            .unwrap()
                            .iter()
                            .map(|(k, v)| (k.clone(), b64(v)))
                            .collect(),
                        data: b64(&p["data"]),
                        ..Default::default()
                    })
                    .collect();
                (case, payloads)
            })
            .collect()
    })
}

fn python_case(case: &str) -> &'static Payload {
    let payloads = &python_payloads()[case];
    assert_eq!(payloads.len(), 1, "case {case}");
    &payloads[0]
}

/// Asserts Rust encodes `value` exactly as Python did, and decodes Python's payload back to it.
fn assert_same<T: PayloadValue + PartialEq + std::fmt::Debug>(case: &str, value: T) {
    let python = python_case(case);
    let ours = value.to_payload().unwrap();
    assert_eq!(
        encoding_of(&ours).unwrap(),
        encoding_of(python).unwrap(),
        "encoding of {case}"
    );
    assert_eq!(
        String::from_utf8_lossy(&ours.data),
        String::from_utf8_lossy(&python.data),
        "data of {case}"
    );
    assert_eq!(ours.metadata, python.metadata, "metadata of {case}");
    assert_eq!(T::from_payload(python).unwrap(), value, "decoding {case}");
}

#[test]
fn none_matches_python() {
    assert_same("none", None::<String>);
    assert_same("none", ());
}

#[test]
fn text_with_quotes_newlines_and_non_ascii_matches_python() {
    assert_same("string", "héllo wörld ✓ \"quoted\" \n".to_string());
}

#[test]
fn numbers_and_booleans_match_python() {
    assert_same("int", 42_i64);
    assert_same("negative", -7_i32);
    assert_same("float", 1.5_f64);
    assert_same("bool", true);
}

#[test]
fn lists_and_dicts_match_python() {
    assert_same("list", serde_json::json!([1, "two", null, 3.25]));
    assert_same(
        "dict",
        serde_json::json!({"b": 1, "a": [true, false], "c": {"z": null, "y": "x"}}),
    );
}

#[test]
fn bytes_match_python() {
    assert_same("bytes", Bytes::from(b"\x00\x01binary\xff".to_vec()));
}

#[test]
fn a_struct_matches_a_python_dataclass_with_the_same_fields() {
    assert_same(
        "dataclass",
        GreetingInput {
            name: "Ada".into(),
            greeting: "Hello".into(),
            times: 2,
        },
    );
}

#[test]
fn a_protobuf_message_matches_python() {
    assert_same(
        "proto",
        ProtoJson(WorkflowType {
            name: "GreetingWorkflow".into(),
        }),
    );
}

#[test]
fn several_arguments_match_python_payload_for_payload() {
    let python = &python_payloads()["multi"];
    let ours = Args(("a".to_string(), 2_i64, None::<String>))
        .to_payloads()
        .unwrap();
    assert_eq!(&ours, python);
    let back = Args::<(String, i64, Option<String>)>::from_payloads(python).unwrap();
    assert_eq!(back.0, ("a".to_string(), 2, None));
}
