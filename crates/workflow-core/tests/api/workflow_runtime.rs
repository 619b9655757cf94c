//! The workflow runtime without a server: jobs in, commands out.

use std::time::{Duration, SystemTime};

use workflow_core::definition::ActivityRef;
use workflow_core::failure::{Failure, FailureInfo};
use workflow_core::payload::{Payload, PayloadValue};
use workflow_core::prelude::*;
use workflow_core::workflow::runtime::{
    Activation, ActivationError, CommandRequest, Job, WorkflowFactory, WorkflowInstance,
    WorkflowStart,
};
use workflow_core::workflow::{HandlerError, Invocation};

const GREET: ActivityRef<String, String> = ActivityRef::new("greet");

fn info(workflow_type: &str) -> WorkflowInfo {
    WorkflowInfo {
        workflow_id: "wf".into(),
        run_id: "run".into(),
        workflow_type: workflow_type.into(),
        task_queue: "queue".into(),
        namespace: "default".into(),
        attempt: 1,
        first_execution_run_id: "run".into(),
        continued_run_id: None,
        parent: None,
        execution_timeout: None,
        run_timeout: None,
        task_timeout: None,
        cron_schedule: None,
        start_time: SystemTime::UNIX_EPOCH,
    }
}

fn start<W: Workflow>(input: &W::Input) -> WorkflowInstance {
    WorkflowFactory::of::<W>()
        .start(WorkflowStart {
            info: info(W::NAME),
            input: input.to_payloads().unwrap(),
            randomness_seed: 7,
        })
        .unwrap()
}

fn activation(jobs: Vec<Job>) -> Activation {
    Activation {
        time: SystemTime::UNIX_EPOCH + Duration::from_secs(100),
        replaying: false,
        history_length: 3,
        history_size: 0,
        continue_as_new_suggested: false,
        jobs,
    }
}

fn payload<T: PayloadValue>(value: T) -> Payload {
    value.to_payload().unwrap()
}

#[derive(Default)]
struct Greeter {
    names: Vec<String>,
}

impl Workflow for Greeter {
    const NAME: &'static str = "Greeter";
    const QUERIES: &'static [&'static str] = &["names"];
    type Input = String;
    type Output = String;

    fn new(_: &WorkflowInfo, name: &String) -> Self {
        Self {
            names: vec![name.clone()],
        }
    }

    async fn run(ctx: WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
        let options = ActivityOptions::start_to_close(Duration::from_secs(5));
        let greeting = ctx.execute_activity(GREET, name, options).await?;
        ctx.wait_condition(|s: &Self| s.names.len() > 1).await;
        let names = ctx.state(|s| s.names.join("+"));
        Ok(format!("{greeting} / {names}"))
    }

    fn handle_signal(&mut self, signal: &Invocation) -> Result<(), HandlerError> {
        match signal.name.as_str() {
            "add" => {
                self.names.push(signal.input()?);
                Ok(())
            }
            _ => Err(HandlerError::Unknown),
        }
    }

    fn handle_query(&self, query: &Invocation) -> Result<Vec<Payload>, HandlerError> {
        match query.name.as_str() {
            "names" => Invocation::reply(&self.names),
            _ => Err(HandlerError::Unknown),
        }
    }
}

#[test]
fn an_activity_command_then_its_result_then_a_signal_complete_the_run() {
    let mut run = start::<Greeter>(&"Ada".to_string());
    let commands = run.activate(activation(vec![])).unwrap();
    let [
        CommandRequest::ScheduleActivity {
            seq, attributes, ..
        },
    ] = commands.as_slice()
    else {
        panic!("expected one activity, got {commands:?}")
    };
    assert_eq!(attributes.activity_id, "1");
    assert_eq!(attributes.task_queue.as_ref().unwrap().name, "queue");
    assert!(attributes.start_to_close_timeout.is_some());

    let resolved = Job::ResolveActivity {
        seq: *seq,
        result: Ok(Some(payload("Hello, Ada!".to_string()))),
    };
    assert!(run.activate(activation(vec![resolved])).unwrap().is_empty());
    let names: Vec<String> = Vec::from_payloads(&run.query("names", vec![]).unwrap()).unwrap();
    assert_eq!(names, vec!["Ada"]);

    let signal = Job::Signal {
        name: "add".into(),
        input: vec![payload("Grace".to_string())],
    };
    let commands = run.activate(activation(vec![signal])).unwrap();
    let [CommandRequest::CompleteWorkflow(done)] = commands.as_slice() else {
        panic!("expected completion, got {commands:?}")
    };
    let result = &done.result.as_ref().unwrap().payloads[0];
    assert_eq!(
        String::from_payload(result).unwrap(),
        "Hello, Ada! / Ada+Grace"
    );
    assert!(run.is_finished());
}

#[test]
fn an_unknown_query_names_the_known_ones() {
    let run = start::<Greeter>(&"Ada".to_string());
    let failure = run.query("nope", vec![]).unwrap_err();
    assert!(failure.message.contains("\"nope\"") && failure.message.contains("names"));
}

#[test]
fn a_failed_activity_fails_the_workflow_with_its_cause() {
    let mut run = start::<Greeter>(&"Ada".to_string());
    run.activate(activation(vec![])).unwrap();
    let failure = Failure::application("Activity task failed", "boom")
        .with_cause(Failure::application("Boom", "it broke"));
    let commands = run
        .activate(activation(vec![Job::ResolveActivity {
            seq: 1,
            result: Err(failure),
        }]))
        .unwrap();
    let [CommandRequest::FailWorkflow(failed)] = commands.as_slice() else {
        panic!("expected failure, got {commands:?}")
    };
    let failure = Failure::from_proto(failed.failure.clone().unwrap());
    assert_eq!(failure.root_cause().application_type(), Some("Boom"));
}

#[test]
fn workflow_cancellation_cancels_the_pending_activity_and_cancels_the_run() {
    let mut run = start::<Greeter>(&"Ada".to_string());
    run.activate(activation(vec![])).unwrap();
    let commands = run
        .activate(activation(vec![Job::CancelWorkflow {
            reason: "user asked".into(),
        }]))
        .unwrap();
    assert!(
        matches!(
            commands.as_slice(),
            [
                CommandRequest::RequestCancelActivity { seq: 1 },
                CommandRequest::CancelWorkflow(_)
            ]
        ),
        "{commands:?}"
    );
}

struct Sleeper;

impl Workflow for Sleeper {
    const NAME: &'static str = "Sleeper";
    type Input = ();
    type Output = bool;
    fn new(_: &WorkflowInfo, _: &()) -> Self {
        Self
    }
    async fn run(ctx: WorkflowContext<Self>, _: ()) -> WorkflowResult<bool> {
        let timer = ctx.sleep(Duration::from_secs(60));
        // Cancelled in the same task it was started: the command is never sent.
        timer.cancel();
        let cancelled = timer
            .await
            .is_err_and(|f| matches!(f.info, FailureInfo::Canceled { .. }));
        Ok(cancelled)
    }
}

#[test]
fn a_timer_cancelled_before_it_was_sent_issues_no_command() {
    let mut run = start::<Sleeper>(&());
    let commands = run.activate(activation(vec![])).unwrap();
    let [CommandRequest::CompleteWorkflow(done)] = commands.as_slice() else {
        panic!("expected only completion, got {commands:?}")
    };
    let result = &done.result.as_ref().unwrap().payloads[0];
    assert!(bool::from_payload(result).unwrap());
}

struct Nested;

impl Workflow for Nested {
    const NAME: &'static str = "Nested";
    type Input = ();
    type Output = ();
    fn new(_: &WorkflowInfo, _: &()) -> Self {
        Self
    }
    async fn run(ctx: WorkflowContext<Self>, _: ()) -> WorkflowResult<()> {
        ctx.state(|_| ctx.state_mut(|_| ()));
        Ok(())
    }
}

#[test]
fn nested_state_access_fails_the_task_with_a_clear_message() {
    let mut run = start::<Nested>(&());
    let error = run.activate(activation(vec![])).unwrap_err();
    let ActivationError::Panic(message) = error else {
        panic!("expected a panic, got {error:?}")
    };
    assert!(message.contains("state_mut called inside"), "{message}");
}

struct Draw;

impl Workflow for Draw {
    const NAME: &'static str = "Draw";
    type Input = ();
    type Output = (u64, String);
    fn new(_: &WorkflowInfo, _: &()) -> Self {
        Self
    }
    async fn run(ctx: WorkflowContext<Self>, _: ()) -> WorkflowResult<(u64, String)> {
        Ok((ctx.random_u64(), ctx.uuid4().to_string()))
    }
}

#[test]
fn the_same_seed_draws_the_same_values() {
    let draw = || {
        let mut run = start::<Draw>(&());
        let commands = run.activate(activation(vec![])).unwrap();
        let [CommandRequest::CompleteWorkflow(done)] = commands.as_slice() else {
            panic!("{commands:?}")
        };
        <(u64, String)>::from_payload(&done.result.as_ref().unwrap().payloads[0]).unwrap()
    };
    assert_eq!(draw(), draw());
}

#[test]
fn undecodable_input_fails_the_task_naming_the_workflow() {
    let error = WorkflowFactory::of::<Greeter>()
        .start(WorkflowStart {
            info: info("Greeter"),
            input: vec![payload(42)],
            randomness_seed: 0,
        })
        .unwrap_err();
    assert!(
        matches!(&error, ActivationError::Input { workflow_type, .. } if workflow_type == "Greeter"),
        "{error:?}"
    );
}

struct Chatty;

impl Workflow for Chatty {
    const NAME: &'static str = "Chatty";
    type Input = ();
    type Output = ();
    fn new(_: &WorkflowInfo, _: &()) -> Self {
        Self
    }
    async fn run(ctx: WorkflowContext<Self>, _: ()) -> WorkflowResult<()> {
        ctx.logger().info("hello from the workflow");
        Ok(())
    }
}

/// Counts the events `tracing` receives.
struct CountEvents(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl tracing::Subscriber for CountEvents {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[test]
fn the_workflow_logger_is_silent_while_replaying() {
    let count = |replaying: bool| {
        let events = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let subscriber = CountEvents(events.clone());
        tracing::subscriber::with_default(subscriber, || {
            let mut run = start::<Chatty>(&());
            let mut first = activation(vec![]);
            first.replaying = replaying;
            run.activate(first).unwrap();
        });
        events.load(std::sync::atomic::Ordering::SeqCst)
    };
    assert_eq!(count(false), 1);
    assert_eq!(count(true), 0);
}
