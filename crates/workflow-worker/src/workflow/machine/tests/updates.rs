//! Updates: a request message is validated, accepted and run; a rejection issues nothing
//! history must show; replay delivers accepted updates again without their validators, on
//! a cached run and from scratch; an accepted update the code no longer knows is
//! non-determinism; async signal handlers run beside the code as update handlers do.

use prost::Message as _;
use temporalio_protos::temporal::api::common::v1::Payloads;
use temporalio_protos::temporal::api::protocol::v1::{Message, message::SequencingId};
use temporalio_protos::temporal::api::update::v1 as u;
use workflow_core::prelude::*;

use super::*;

/// Adds to a counter by update, a second after each is accepted; done at 10.
#[workflow]
#[derive(Default)]
struct Counter {
    value: u32,
}

#[workflow]
impl Counter {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<u32> {
        ctx.wait_condition(|s: &Self| s.value >= 10).await;
        ctx.all_handlers_finished().await;
        Ok(ctx.state(|s| s.value))
    }

    #[update]
    async fn add(ctx: WorkflowContext<Self>, by: u32) -> WorkflowResult<u32> {
        ctx.sleep(Duration::from_secs(1)).await?;
        Ok(ctx.state_mut(|s| {
            s.value += by;
            s.value
        }))
    }

    #[validator(add)]
    fn check(&self, by: &u32) -> Result<(), String> {
        match *by {
            0 => Err("adding nothing".into()),
            // What this version refuses; histories may hold updates an older one took.
            by if by > 100 => Err(format!("{by} is too much")),
            _ => Ok(()),
        }
    }

    #[query]
    fn value(&self) -> u32 {
        self.value
    }
}

fn request(id: &str, name: &str, by: u32, before: i64) -> Message {
    let request = u::Request {
        meta: Some(u::Meta {
            update_id: id.into(),
            identity: "test-client".into(),
        }),
        input: Some(u::Input {
            name: name.into(),
            args: Some(Payloads {
                payloads: vec![payload(by)],
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    Message {
        id: format!("{id}/request"),
        protocol_instance_id: id.into(),
        sequencing_id: Some(SequencingId::EventId(before)),
        body: Some(prost_types::Any {
            type_url: "type.googleapis.com/temporal.api.update.v1.Request".into(),
            value: request.encode_to_vec(),
        }),
    }
}

fn run_with(
    machine: &mut RunMachine,
    history: &HistoryBuilder,
    messages: &[Message],
) -> Vec<CommandRequest> {
    machine
        .apply_with_messages(history.events(), history.last_id(), messages)
        .unwrap()
        .expect("the history ends with the task to run")
}

#[test]
fn a_request_is_validated_accepted_and_its_handler_runs() {
    let mut run = machine::<Counter>();
    let mut history = history::<Counter>(payload(()));
    history.workflow_task();
    let last = history.last_id();
    let commands = run_with(&mut run, &history, &[request("u1", "add", 4, last - 1)]);
    assert_eq!(
        describe(&commands),
        ["AcceptUpdate(update_id=u1)", "StartTimer(timer_id=1)"]
    );
    // The acceptance goes out as a message placed by a protocol message command.
    let wire = run.wire(commands[0].clone()).unwrap();
    assert!(wire.command.is_some());
    let message = wire.message.expect("an acceptance");
    assert!(message.body.unwrap().type_url.ends_with("Acceptance"));
}

#[test]
fn a_rejected_update_sends_a_message_and_leaves_nothing_for_history_to_show() {
    let mut run = machine::<Counter>();
    let mut history = history::<Counter>(payload(()));
    history.workflow_task();
    let last = history.last_id();
    let commands = run_with(&mut run, &history, &[request("u1", "add", 0, last - 1)]);
    assert_eq!(describe(&commands), ["RejectUpdate(update_id=u1)"]);
    let wire = run.wire(commands[0].clone()).unwrap();
    assert!(wire.command.is_none(), "a rejection has no command");
    assert!(crate::workflow::machine::is_rejection(
        &wire.message.unwrap()
    ));
    // The next task finds nothing missing from history.
    history.workflow_task_completed();
    history.signaled("unused", Vec::new());
    history.workflow_task();
    assert!(run_task(&mut run, &history).unwrap().is_empty());
}

#[test]
fn an_unknown_update_is_rejected_naming_the_known_ones() {
    let mut run = machine::<Counter>();
    let mut history = history::<Counter>(payload(()));
    history.workflow_task();
    let last = history.last_id();
    let commands = run_with(
        &mut run,
        &history,
        &[request("u1", "subtract", 1, last - 1)],
    );
    match &commands[..] {
        [CommandRequest::RejectUpdate { failure, .. }] => {
            assert!(
                failure.message.contains("\"subtract\"") && failure.message.contains("[add]"),
                "{}",
                failure.message
            );
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn replay_delivers_accepted_updates_again_without_their_validators() {
    // 500 is more than this version's validator takes: replay must not ask it again.
    let mut history = history::<Counter>(payload(()));
    history.completed_workflow_task();
    let accepted = history.update_accepted("u1", "add", vec![payload(500u32)]);
    let timer = history.timer_started("1", Duration::from_secs(1));
    history.timer_fired("1", timer);
    history.completed_workflow_task();
    history.update_completed("u1", accepted, payload(500u32));
    history.workflow_completed(payload(500u32));
    let run = replay::<Counter>(&history).unwrap();
    assert!(run.closed);
    let value = run.instance().unwrap().query("value", Vec::new()).unwrap();
    assert_eq!(u32::from_payload(&value[0]).unwrap(), 500);
}

#[test]
fn a_cached_run_completes_an_update_it_accepted_in_an_earlier_task() {
    let mut run = machine::<Counter>();
    let mut history = history::<Counter>(payload(()));
    history.workflow_task();
    let last = history.last_id();
    run_with(&mut run, &history, &[request("u1", "add", 12, last - 1)]);
    history.workflow_task_completed();
    history.update_accepted("u1", "add", vec![payload(12u32)]);
    let timer = history.timer_started("1", Duration::from_secs(1));
    history.timer_fired("1", timer);
    history.workflow_task();
    let commands = run_task(&mut run, &history).unwrap();
    assert_eq!(
        describe(&commands[..1]),
        ["CompleteUpdate(update_id=u1)"],
        "the update completes before the run does"
    );
    assert_eq!(completed_with::<u32>(&commands), 12);
}

#[test]
fn an_accepted_update_the_code_no_longer_knows_is_nondeterminism() {
    let mut history = history::<Counter>(payload(()));
    history.completed_workflow_task();
    history.update_accepted("u1", "subtract", vec![payload(1u32)]);
    history.workflow_task();
    let message = nondeterminism(run_task(&mut machine::<Counter>(), &history));
    assert!(
        message.contains("WorkflowExecutionUpdateAccepted"),
        "{message}"
    );
}

/// Greets by async signal, a second after each arrives; done once one greeting is made.
#[workflow]
#[derive(Default)]
struct Greeter {
    greetings: Vec<String>,
    asked: bool,
}

#[workflow]
impl Greeter {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<Vec<String>> {
        ctx.wait_condition(|s: &Self| s.asked).await;
        // The handler that set `asked` is still waiting on its timer.
        ctx.all_handlers_finished().await;
        Ok(ctx.state(|s| s.greetings.clone()))
    }

    #[signal]
    async fn greet(ctx: WorkflowContext<Self>, name: String) -> WorkflowResult<()> {
        ctx.state_mut(|s| s.asked = true);
        ctx.sleep(Duration::from_secs(1)).await?;
        ctx.state_mut(|s| s.greetings.push(format!("Hello, {name}!")));
        Ok(())
    }
}

#[test]
fn an_async_signal_handler_runs_with_the_code_and_the_run_waits_for_it() {
    let mut run = machine::<Greeter>();
    let mut history = history::<Greeter>(payload(()));
    history.signaled("greet", vec![text("Ada")]);
    history.workflow_task();
    let commands = run_task(&mut run, &history).unwrap();
    assert_eq!(describe(&commands), ["StartTimer(timer_id=1)"]);
    history.workflow_task_completed();
    let timer = history.timer_started("1", Duration::from_secs(1));
    history.timer_fired("1", timer);
    history.workflow_task();
    let commands = run_task(&mut run, &history).unwrap();
    assert_eq!(completed_with::<Vec<String>>(&commands), ["Hello, Ada!"]);
    // And the same from scratch.
    let commands = run_task(&mut machine::<Greeter>(), &history).unwrap();
    assert_eq!(completed_with::<Vec<String>>(&commands), ["Hello, Ada!"]);
}
