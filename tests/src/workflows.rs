//! Rust workflows and activities used by the end-to-end worker tests.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use workflow_core::activity::{Activity, ActivityContext, ActivityError};
use workflow_core::definition::{ActivityDefinition, ActivityRef, QueryRef, SignalRef};
use workflow_core::prelude::*;
use workflow_core::workflow::{HandlerError, Invocation};

use crate::GreetingInput;

/// The guide's activity input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct YourParams {
    pub greeting: String,
    pub name: String,
}

/// `your_activity`: formats a greeting.
#[derive(Debug, Clone, Copy)]
pub struct YourActivity;

impl ActivityDefinition for YourActivity {
    type Input = YourParams;
    type Output = String;
    fn name(&self) -> &str {
        "your_activity"
    }
}

impl Activity for YourActivity {
    async fn execute(
        &self,
        _ctx: ActivityContext,
        input: YourParams,
    ) -> Result<String, ActivityError> {
        Ok(format!("{}, {}!", input.greeting, input.name))
    }
}

/// The guide's workflow: one activity.
pub struct YourWorkflow;

impl Workflow for YourWorkflow {
    const NAME: &'static str = "YourWorkflow";
    type Input = String;
    type Output = String;

    fn new(_info: &WorkflowInfo, _name: &String) -> Self {
        Self
    }

    async fn run(ctx: WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
        let params = YourParams {
            greeting: "Hello".into(),
            name,
        };
        Ok(ctx
            .execute_activity(
                YourActivity,
                params,
                ActivityOptions::start_to_close(Duration::from_secs(10)),
            )
            .await?)
    }
}

pub const YOUR_WORKFLOW: WorkflowRun<YourWorkflow> = WorkflowRun::new();

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

use workflow_core::payload::Payload;
