//! The checks, one refusal at a time, and commands that pass them.

use std::time::SystemTime;

use proptest::prelude::*;
use temporalio_protos::temporal::api::command::v1 as cmd;
use temporalio_protos::temporal::api::common::v1::{
    ActivityType, Memo, Payload, SearchAttributes, WorkflowExecution, WorkflowType,
};
use temporalio_protos::temporal::api::failure::v1::Failure;

use super::*;
use crate::engine::record::RunState;
use crate::limits::{MAX_DURATION, MAX_ID_LENGTH};

fn run() -> Execution {
    Execution::new("default", RunState::default(), Default::default())
}

fn command(kind: CommandType, attributes: C) -> Command {
    Command {
        command_type: kind as i32,
        attributes: Some(attributes),
        ..Default::default()
    }
}

fn seconds(seconds: i64) -> Option<prost_types::Duration> {
    Some(prost_types::Duration { seconds, nanos: 0 })
}

fn timer(id: &str, after: Option<prost_types::Duration>) -> Command {
    command(
        CommandType::StartTimer,
        C::StartTimerCommandAttributes(cmd::StartTimerCommandAttributes {
            timer_id: id.into(),
            start_to_fire_timeout: after,
        }),
    )
}

fn complete() -> C {
    C::CompleteWorkflowExecutionCommandAttributes(Default::default())
}

fn check(commands: &mut [Command]) -> Result<(), BadCommand> {
    validate(&run(), commands, &[])
}

#[test]
fn a_type_and_attributes_that_disagree_are_refused_naming_both() {
    let mut commands = [command(CommandType::ScheduleActivityTask, complete())];
    let bad = check(&mut commands).unwrap_err();
    assert_eq!(
        bad.refusal,
        Refusal::FailTask(Cause::BadScheduleActivityAttributes)
    );
    assert!(
        bad.message
            .contains("ScheduleActivityTaskCommandAttributes is not set")
            && bad
                .message
                .contains("CompleteWorkflowExecutionCommandAttributes"),
        "{}",
        bad.message
    );
    let mut missing = [Command {
        command_type: CommandType::StartTimer as i32,
        ..Default::default()
    }];
    let bad = check(&mut missing).unwrap_err();
    assert_eq!(
        bad.refusal,
        Refusal::FailTask(Cause::BadStartTimerAttributes)
    );
    assert!(
        bad.message
            .contains("StartTimerCommandAttributes is not set on StartTimerCommand")
    );
}

#[test]
fn an_unknown_or_unspecified_type_refuses_the_request_naming_it() {
    for (kind, name) in [(0, "Unspecified"), (999, "999")] {
        let mut commands = [Command {
            command_type: kind,
            attributes: Some(complete()),
            ..Default::default()
        }];
        let bad = check(&mut commands).unwrap_err();
        assert_eq!(bad.refusal, Refusal::Request);
        assert_eq!(bad.message, format!("unknown command type: {name}"));
        assert_eq!(
            tonic::Status::from(bad.error()).code(),
            tonic::Code::InvalidArgument
        );
    }
}

#[test]
fn a_closing_command_must_come_last() {
    let mut commands = [
        command(CommandType::CompleteWorkflowExecution, complete()),
        timer("t", seconds(1)),
    ];
    let bad = check(&mut commands).unwrap_err();
    assert_eq!(bad.refusal, Refusal::Request);
    assert!(
        bad.message
            .contains("[CompleteWorkflowExecution, StartTimer]")
    );
}

#[test]
fn a_protocol_message_command_must_name_a_message_of_the_completion() {
    let mut update = [command(
        CommandType::ProtocolMessage,
        C::ProtocolMessageCommandAttributes(cmd::ProtocolMessageCommandAttributes {
            message_id: "m1".into(),
        }),
    )];
    let bad = check(&mut update).unwrap_err();
    assert_eq!(
        bad.refusal,
        Refusal::FailTask(Cause::BadUpdateWorkflowExecutionMessage)
    );
    assert!(
        bad.message.contains("absent message ID m1"),
        "{}",
        bad.message
    );
}

#[test]
fn types_this_server_lacks_are_refused_naming_what_is_missing() {
    let mut nexus = [command(
        CommandType::ScheduleNexusOperation,
        C::ScheduleNexusOperationCommandAttributes(cmd::ScheduleNexusOperationCommandAttributes {
            endpoint: "payments".into(),
            ..Default::default()
        }),
    )];
    let bad = check(&mut nexus).unwrap_err();
    assert_eq!(
        bad.refusal,
        Refusal::FailTask(Cause::BadScheduleNexusOperationAttributes)
    );
    assert!(
        bad.message.contains("\"payments\" not found"),
        "{}",
        bad.message
    );
}

#[test]
fn long_names_negative_durations_and_duplicates_are_refused_with_their_cause() {
    let long = "x".repeat(MAX_ID_LENGTH + 1);
    let bad = check(&mut [timer(&long, seconds(1))]).unwrap_err();
    assert_eq!(
        bad.refusal,
        Refusal::FailTask(Cause::BadStartTimerAttributes)
    );
    assert!(
        bad.message
            .contains("timer_id is 1001 bytes; the limit is 1000")
    );
    let bad = check(&mut [timer("t", seconds(-1))]).unwrap_err();
    assert!(
        bad.message.contains("start_to_fire_timeout is invalid"),
        "{}",
        bad.message
    );
    let bad = check(&mut [timer("t", seconds(1)), timer("t", seconds(1))]).unwrap_err();
    assert_eq!(bad.refusal, Refusal::FailTask(Cause::StartTimerDuplicateId));
}

#[test]
fn a_summary_over_the_payload_limit_is_refused_naming_its_command() {
    use temporalio_protos::temporal::api::sdk::v1::UserMetadata;
    let with_summary = |bytes: usize| {
        let mut command = timer("t", seconds(1));
        command.user_metadata = Some(UserMetadata {
            summary: Some(Payload {
                data: vec![b'x'; bytes],
                ..Default::default()
            }),
            details: None,
        });
        command
    };
    assert!(check(&mut [with_summary(400)]).is_ok());
    let bad = check(&mut [with_summary(MAX_PAYLOAD_SIZE + 1)]).unwrap_err();
    assert_eq!(
        bad.refusal,
        Refusal::Terminate(Cause::BadStartTimerAttributes)
    );
    assert!(
        bad.message
            .contains("StartTimerCommand.user_metadata is 2097153 bytes"),
        "{}",
        bad.message
    );
}

#[test]
fn an_overlong_timer_is_cut_to_temporals_maximum() {
    let mut commands = [timer("t", seconds(100_000_000_000))];
    check(&mut commands).unwrap();
    let Some(C::StartTimerCommandAttributes(a)) = &commands[0].attributes else {
        unreachable!()
    };
    assert_eq!(
        a.start_to_fire_timeout,
        seconds(MAX_DURATION.as_secs() as i64)
    );
}

#[test]
fn pending_activities_past_the_limit_fail_the_task() {
    let activity = |i: usize| {
        command(
            CommandType::ScheduleActivityTask,
            C::ScheduleActivityTaskCommandAttributes(cmd::ScheduleActivityTaskCommandAttributes {
                activity_id: i.to_string(),
                activity_type: Some(ActivityType { name: "a".into() }),
                start_to_close_timeout: seconds(1),
                ..Default::default()
            }),
        )
    };
    let mut commands: Vec<_> = (0..MAX_PENDING_ACTIVITIES).map(activity).collect();
    check(&mut commands).unwrap();
    commands.push(activity(MAX_PENDING_ACTIVITIES));
    let bad = check(&mut commands).unwrap_err();
    assert_eq!(
        bad.refusal,
        Refusal::FailTask(Cause::PendingActivitiesLimitExceeded)
    );
    assert!(
        bad.message.contains("per-workflow limit of 2000"),
        "{}",
        bad.message
    );
}

#[test]
fn commands_past_the_history_limit_terminate_the_run() {
    let mut commands: Vec<_> = (0..MAX_HISTORY_EVENTS)
        .map(|i| timer(&i.to_string(), seconds(1)))
        .collect();
    let bad = check(&mut commands).unwrap_err();
    assert_eq!(bad.refusal, Refusal::Terminate(Cause::ForceCloseCommand));
    assert!(
        bad.message.contains("the limit is 51200"),
        "{}",
        bad.message
    );
    commands.truncate(MAX_HISTORY_EVENTS - 1);
    check(&mut commands).unwrap();
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z]{1,8}",
        Just("n".repeat(MAX_ID_LENGTH)),
        Just("n".repeat(MAX_ID_LENGTH + 1)),
        Just("h".repeat(1 << 20)),
    ]
}

fn any_duration() -> impl Strategy<Value = Option<prost_types::Duration>> {
    prop_oneof![
        Just(None),
        (0i64..100_000, 0i32..1_000_000_000)
            .prop_map(|(seconds, nanos)| Some(prost_types::Duration { seconds, nanos })),
        (any::<i64>(), any::<i32>())
            .prop_map(|(seconds, nanos)| Some(prost_types::Duration { seconds, nanos })),
        Just(Some(prost_types::Duration {
            seconds: i64::MAX,
            nanos: 999_999_999
        })),
    ]
}

fn attributes() -> impl Strategy<Value = Option<C>> {
    let payloads = prop_oneof![
        Just(None),
        Just(Some(Payloads {
            payloads: vec![Payload {
                data: vec![0; MAX_PAYLOAD_SIZE + 1],
                ..Default::default()
            }]
        })),
    ];
    prop_oneof![
        Just(None),
        (name(), any_duration()).prop_map(|(timer_id, start_to_fire_timeout)| Some(
            C::StartTimerCommandAttributes(cmd::StartTimerCommandAttributes {
                timer_id,
                start_to_fire_timeout
            })
        )),
        name().prop_map(|timer_id| Some(C::CancelTimerCommandAttributes(
            cmd::CancelTimerCommandAttributes { timer_id }
        ))),
        (
            name(),
            name(),
            any_duration(),
            any_duration(),
            any_duration(),
            payloads.clone()
        )
            .prop_map(|(id, kind, s2c, st2c, heartbeat, input)| Some(
                C::ScheduleActivityTaskCommandAttributes(
                    cmd::ScheduleActivityTaskCommandAttributes {
                        activity_id: id,
                        activity_type: Some(ActivityType { name: kind }),
                        schedule_to_close_timeout: s2c,
                        start_to_close_timeout: st2c,
                        heartbeat_timeout: heartbeat,
                        retry_policy: Some(RetryPolicy {
                            initial_interval: heartbeat,
                            ..Default::default()
                        }),
                        input,
                        ..Default::default()
                    }
                )
            )),
        any::<i64>().prop_map(|scheduled_event_id| Some(
            C::RequestCancelActivityTaskCommandAttributes(
                cmd::RequestCancelActivityTaskCommandAttributes { scheduled_event_id }
            )
        )),
        payloads
            .clone()
            .prop_map(|result| Some(C::CompleteWorkflowExecutionCommandAttributes(
                cmd::CompleteWorkflowExecutionCommandAttributes { result }
            ))),
        any::<bool>().prop_map(|some| Some(C::FailWorkflowExecutionCommandAttributes(
            cmd::FailWorkflowExecutionCommandAttributes {
                failure: some.then(Failure::default)
            }
        ))),
        (
            name(),
            name(),
            any_duration(),
            any_duration(),
            payloads.clone()
        )
            .prop_map(|(workflow_id, kind, execution, run, input)| Some(
                C::StartChildWorkflowExecutionCommandAttributes(
                    cmd::StartChildWorkflowExecutionCommandAttributes {
                        workflow_id,
                        workflow_type: Some(WorkflowType { name: kind }),
                        workflow_execution_timeout: execution,
                        workflow_run_timeout: run,
                        input,
                        ..Default::default()
                    }
                )
            )),
        (name(), any_duration(), any_duration()).prop_map(|(kind, run, backoff)| Some(
            C::ContinueAsNewWorkflowExecutionCommandAttributes(
                cmd::ContinueAsNewWorkflowExecutionCommandAttributes {
                    workflow_type: Some(WorkflowType { name: kind }),
                    workflow_run_timeout: run,
                    backoff_start_interval: backoff,
                    ..Default::default()
                }
            )
        )),
        (name(), name()).prop_map(|(workflow_id, signal_name)| Some(
            C::SignalExternalWorkflowExecutionCommandAttributes(
                cmd::SignalExternalWorkflowExecutionCommandAttributes {
                    execution: Some(WorkflowExecution {
                        workflow_id,
                        run_id: String::new()
                    }),
                    signal_name,
                    ..Default::default()
                }
            )
        )),
        name().prop_map(|workflow_id| Some(
            C::RequestCancelExternalWorkflowExecutionCommandAttributes(
                cmd::RequestCancelExternalWorkflowExecutionCommandAttributes {
                    workflow_id,
                    ..Default::default()
                }
            )
        )),
        name().prop_map(|marker_name| Some(C::RecordMarkerCommandAttributes(
            cmd::RecordMarkerCommandAttributes {
                marker_name,
                ..Default::default()
            }
        ))),
        any::<bool>().prop_map(
            |some| Some(C::UpsertWorkflowSearchAttributesCommandAttributes(
                cmd::UpsertWorkflowSearchAttributesCommandAttributes {
                    search_attributes: some.then(SearchAttributes::default)
                }
            ))
        ),
        any::<bool>().prop_map(|some| Some(C::ModifyWorkflowPropertiesCommandAttributes(
            cmd::ModifyWorkflowPropertiesCommandAttributes {
                upserted_memo: some.then(Memo::default)
            }
        ))),
        name().prop_map(|message_id| Some(C::ProtocolMessageCommandAttributes(
            cmd::ProtocolMessageCommandAttributes { message_id }
        ))),
        name().prop_map(|endpoint| Some(C::ScheduleNexusOperationCommandAttributes(
            cmd::ScheduleNexusOperationCommandAttributes {
                endpoint,
                ..Default::default()
            }
        ))),
    ]
}

fn any_command() -> impl Strategy<Value = Command> {
    let kind = prop_oneof![0i32..20, any::<i32>()];
    (kind, attributes(), any::<bool>()).prop_map(|(kind, attributes, agree)| {
        // Half the time the type is the one the attributes call for.
        let command_type = match (&attributes, agree) {
            (Some(a), true) => attributes_type(a) as i32,
            _ => kind,
        };
        Command {
            command_type,
            attributes,
            ..Default::default()
        }
    })
}

/// Commands the validator must accept: known types with their own attributes, valid
/// names and durations, distinct ids, at most one closing command, last.
fn valid_commands() -> impl Strategy<Value = Vec<Command>> {
    let one = prop_oneof![
        (0i64..1_000_000_000_000, 0i32..1_000_000_000).prop_map(|(seconds, nanos)| {
            (
                CommandType::StartTimer,
                Some(prost_types::Duration { seconds, nanos }),
            )
        }),
        (1i64..1_000_000).prop_map(|s| (CommandType::ScheduleActivityTask, seconds(s))),
        Just((CommandType::RecordMarker, None)),
        Just((CommandType::StartChildWorkflowExecution, None)),
        Just((CommandType::SignalExternalWorkflowExecution, None)),
    ];
    let close = prop_oneof![
        Just(None),
        Just(Some(CommandType::CompleteWorkflowExecution)),
        Just(Some(CommandType::FailWorkflowExecution)),
        Just(Some(CommandType::CancelWorkflowExecution)),
        Just(Some(CommandType::ContinueAsNewWorkflowExecution)),
    ];
    (prop::collection::vec(one, 0..30), close).prop_map(|(open, close)| {
        let mut commands: Vec<Command> = open
            .into_iter()
            .enumerate()
            .map(|(i, (kind, d))| {
                let id = format!("id-{i}");
                let attributes = match kind {
                    CommandType::StartTimer => {
                        C::StartTimerCommandAttributes(cmd::StartTimerCommandAttributes {
                            timer_id: id,
                            start_to_fire_timeout: d,
                        })
                    }
                    CommandType::ScheduleActivityTask => C::ScheduleActivityTaskCommandAttributes(
                        cmd::ScheduleActivityTaskCommandAttributes {
                            activity_id: id,
                            activity_type: Some(ActivityType { name: "a".into() }),
                            start_to_close_timeout: d,
                            ..Default::default()
                        },
                    ),
                    CommandType::RecordMarker => {
                        C::RecordMarkerCommandAttributes(cmd::RecordMarkerCommandAttributes {
                            marker_name: id,
                            ..Default::default()
                        })
                    }
                    CommandType::StartChildWorkflowExecution => {
                        C::StartChildWorkflowExecutionCommandAttributes(
                            cmd::StartChildWorkflowExecutionCommandAttributes {
                                workflow_id: id,
                                workflow_type: Some(WorkflowType { name: "w".into() }),
                                ..Default::default()
                            },
                        )
                    }
                    _ => C::SignalExternalWorkflowExecutionCommandAttributes(
                        cmd::SignalExternalWorkflowExecutionCommandAttributes {
                            execution: Some(WorkflowExecution {
                                workflow_id: id,
                                run_id: String::new(),
                            }),
                            signal_name: "s".into(),
                            ..Default::default()
                        },
                    ),
                };
                command(kind, attributes)
            })
            .collect();
        if let Some(kind) = close {
            let attributes = match kind {
                CommandType::CompleteWorkflowExecution => complete(),
                CommandType::FailWorkflowExecution => C::FailWorkflowExecutionCommandAttributes(
                    cmd::FailWorkflowExecutionCommandAttributes {
                        failure: Some(Failure::default()),
                    },
                ),
                CommandType::CancelWorkflowExecution => {
                    C::CancelWorkflowExecutionCommandAttributes(Default::default())
                }
                _ => C::ContinueAsNewWorkflowExecutionCommandAttributes(Default::default()),
            };
            commands.push(command(kind, attributes));
        }
        commands
    })
}

/// Every duration a command carries, as the engine will read it.
fn durations(command: &Command) -> Vec<Option<prost_types::Duration>> {
    match &command.attributes {
        Some(C::StartTimerCommandAttributes(a)) => vec![a.start_to_fire_timeout],
        Some(C::ScheduleActivityTaskCommandAttributes(a)) => vec![
            a.schedule_to_close_timeout,
            a.start_to_close_timeout,
            a.heartbeat_timeout,
            a.retry_policy.as_ref().and_then(|p| p.initial_interval),
        ],
        Some(C::StartChildWorkflowExecutionCommandAttributes(a)) => {
            vec![a.workflow_execution_timeout, a.workflow_run_timeout]
        }
        Some(C::ContinueAsNewWorkflowExecutionCommandAttributes(a)) => {
            vec![a.workflow_run_timeout, a.backoff_start_interval]
        }
        _ => Vec::new(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_commands_pass_or_are_refused_with_a_message(
        mut commands in prop::collection::vec(any_command(), 0..8)
    ) {
        match validate(&run(), &mut commands, &[]) {
            Ok(()) => {
                // What passed is safe to carry out: every duration fits time arithmetic.
                for d in commands.iter().flat_map(durations) {
                    if let Some(d) = duration(&d) {
                        prop_assert!(d <= MAX_DURATION);
                        prop_assert!(SystemTime::now().checked_add(d).is_some());
                    }
                }
            }
            Err(bad) => {
                prop_assert!(!bad.message.is_empty());
                prop_assert!(!tonic::Status::from(bad.error()).message().is_empty());
            }
        }
    }

    #[test]
    fn valid_commands_pass(mut commands in valid_commands()) {
        let result = validate(&run(), &mut commands, &[]);
        prop_assert!(result.is_ok(), "{:?}", result.err());
    }
}
