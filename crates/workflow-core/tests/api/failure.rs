//! Failure conversion to and from Temporal's `Failure` proto.

use std::error::Error as _;
use std::time::Duration;

use workflow_core::failure::{
    ActivityFailure, ApplicationFailure, ChildWorkflowFailure, Failure, FailureInfo, RetryState,
    TimeoutType,
};
use workflow_core::payload::PayloadValue;
use workflow_core::protos::temporal::api::failure::v1 as proto;

fn with_info(info: FailureInfo) -> Failure {
    Failure {
        message: "m".into(),
        source: "RustSDK".into(),
        stack_trace: "at main".into(),
        info,
        cause: None,
    }
}

#[test]
fn every_failure_kind_survives_a_proto_round_trip() {
    let kinds = [
        FailureInfo::Application(ApplicationFailure {
            type_name: "Boom".into(),
            non_retryable: true,
            details: vec![7.to_payload().unwrap()],
            next_retry_delay: Some(Duration::from_secs(3)),
            ..Default::default()
        }),
        FailureInfo::Timeout {
            timeout_type: TimeoutType::StartToClose,
            last_heartbeat_details: vec!["beat".to_string().to_payload().unwrap()],
        },
        FailureInfo::Canceled {
            details: vec![],
            identity: "me".into(),
        },
        FailureInfo::Terminated {
            identity: "ops".into(),
        },
        FailureInfo::Server {
            non_retryable: true,
        },
        FailureInfo::ResetWorkflow {
            last_heartbeat_details: vec![],
        },
        FailureInfo::Activity(ActivityFailure {
            activity_type: "charge".into(),
            activity_id: "1".into(),
            scheduled_event_id: 5,
            started_event_id: 6,
            identity: "worker".into(),
            retry_state: RetryState::MaximumAttemptsReached,
        }),
        FailureInfo::ChildWorkflow(ChildWorkflowFailure {
            namespace: "default".into(),
            workflow_id: "child".into(),
            run_id: "r".into(),
            workflow_type: "Child".into(),
            initiated_event_id: 3,
            started_event_id: 4,
            retry_state: RetryState::NonRetryableFailure,
        }),
        FailureInfo::Unspecified,
    ];
    for info in kinds {
        let failure = with_info(info);
        assert_eq!(Failure::from_proto(failure.to_proto()), failure);
    }
}

#[test]
fn the_cause_chain_is_kept_and_exposed_as_error_sources() {
    let failure = Failure::application("Outer", "outer").with_cause(
        Failure::application("Middle", "middle").with_cause(Failure::application("Root", "root")),
    );
    let proto = failure.to_proto();
    assert_eq!(
        proto
            .cause
            .as_ref()
            .unwrap()
            .cause
            .as_ref()
            .unwrap()
            .message,
        "root"
    );
    let back = Failure::from_proto(proto);
    let types: Vec<_> = back
        .causes()
        .map(|f| f.application_type().unwrap())
        .collect();
    assert_eq!(types, ["Outer", "Middle", "Root"]);
    assert_eq!(back.root_cause().message, "root");
    assert_eq!(back.source().unwrap().to_string(), "Middle: middle");
}

#[test]
fn application_failure_builder_sets_type_retryability_and_details() {
    let failure = Failure::application("Invalid", "bad input")
        .non_retryable()
        .with_detail(&"field x".to_string())
        .unwrap();
    let Some(proto::failure::FailureInfo::ApplicationFailureInfo(info)) =
        failure.to_proto().failure_info
    else {
        panic!("not an application failure");
    };
    assert_eq!(info.r#type, "Invalid");
    assert!(info.non_retryable);
    assert_eq!(info.details.unwrap().payloads[0].data, br#""field x""#);
    assert_eq!(failure.detail::<String>().unwrap().unwrap(), "field x");
}

#[test]
fn encoded_attributes_replace_message_and_stack_trace() {
    let proto = proto::Failure {
        message: "Encoded failure".into(),
        encoded_attributes: Some(
            serde_json::json!({"message": "real message", "stack_trace": "real trace"})
                .to_payload()
                .unwrap(),
        ),
        ..Default::default()
    };
    let failure = Failure::from_proto(proto);
    assert_eq!(failure.message, "real message");
    assert_eq!(failure.stack_trace, "real trace");
}

#[test]
fn display_names_the_kind_and_message() {
    assert_eq!(
        Failure::application("Boom", "it broke").to_string(),
        "Boom: it broke"
    );
    let timeout = with_info(FailureInfo::Timeout {
        timeout_type: TimeoutType::Heartbeat,
        last_heartbeat_details: vec![],
    });
    assert_eq!(timeout.to_string(), "TimeoutFailure: m (Heartbeat)");
}
