//! Rust workflows and activities used by the end-to-end worker tests.

use workflow_core::definition::{ActivityRef, QueryRef, SignalRef};
use workflow_core::payload::Payload;
use workflow_core::prelude::*;
use workflow_core::workflow::{HandlerError, Invocation};

use crate::GreetingInput;

pub use examples::hello::{YOUR_WORKFLOW, YourActivity, YourParams, YourWorkflow};

/// Python's `compose_greeting` activity.
pub const COMPOSE_GREETING: ActivityRef<GreetingInput, String> =
    ActivityRef::new("compose_greeting");
/// Python's `failing_activity`: always fails with `ActivityBoom`.
pub const FAILING_ACTIVITY: ActivityRef<(), String> = ActivityRef::new("failing_activity");

/// Collects signalled items until told to finish; answers queries about them.
#[derive(Default)]
pub struct Collector {
    pub items: Vec<String>,
    pub done: bool,
}

pub type CollectorRun = WorkflowRun<Collector>;
pub const COLLECTOR: CollectorRun = WorkflowRun::new();
pub const COLLECT: SignalRef<CollectorRun, String> = SignalRef::new("collect");
pub const DONE: SignalRef<CollectorRun, ()> = SignalRef::new("done");
pub const COLLECTED: QueryRef<CollectorRun, (), Vec<String>> = QueryRef::new("collected");

impl Workflow for Collector {
    const NAME: &'static str = "Collector";
    const SIGNALS: &'static [&'static str] = &["collect", "done"];
    const QUERIES: &'static [&'static str] = &["collected"];
    type Input = ();
    type Output = Vec<String>;

    fn new(_info: &WorkflowInfo, _input: &()) -> Self {
        Self::default()
    }

    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<Vec<String>> {
        ctx.wait_condition(|s: &Self| s.done).await;
        Ok(ctx.state(|s| s.items.clone()))
    }

    fn handle_signal(&mut self, signal: &Invocation) -> Result<(), HandlerError> {
        match signal.name.as_str() {
            "collect" => self.items.push(signal.input()?),
            "done" => self.done = true,
            _ => return Err(HandlerError::Unknown),
        }
        Ok(())
    }

    fn handle_query(&self, query: &Invocation) -> Result<Vec<Payload>, HandlerError> {
        match query.name.as_str() {
            "collected" => Invocation::reply(&self.items),
            _ => Err(HandlerError::Unknown),
        }
    }
}
