//! Rust workflows and activities used by the end-to-end worker tests.

use workflow_core::definition::ActivityRef;
use workflow_core::prelude::*;

use crate::GreetingInput;

pub use examples::hello::{YourParams, YourWorkflow, your_activity};

/// Python's `compose_greeting` activity.
pub const COMPOSE_GREETING: ActivityRef<GreetingInput, String> =
    ActivityRef::new("compose_greeting");
/// Python's `failing_activity`: always fails with `ActivityBoom`.
pub const FAILING_ACTIVITY: ActivityRef<(), String> = ActivityRef::new("failing_activity");

/// Collects signalled items until told to finish; answers queries about them.
#[workflow]
#[derive(Default)]
pub struct Collector {
    pub items: Vec<String>,
    pub done: bool,
}

#[workflow]
impl Collector {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<Vec<String>> {
        ctx.wait_condition(|s: &Self| s.done).await;
        Ok(ctx.state(|s| s.items.clone()))
    }

    #[signal]
    pub fn collect(&mut self, item: String) {
        self.items.push(item);
    }

    #[signal]
    pub fn done(&mut self) {
        self.done = true;
    }

    #[query]
    pub fn collected(&self) -> Vec<String> {
        self.items.clone()
    }
}
