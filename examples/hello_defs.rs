//! The guide's hello example: `YourWorkflow` calls `your_activity` with `YourParams`.
//!
//! Written against the traits for now; the `#[workflow]` and `#[activity]` attributes will
//! generate the same impls from the annotated function and methods.

use std::time::Duration;

use workflow_core::activity::{Activity, ActivityContext, ActivityError};
use workflow_core::prelude::*;

/// The activity's input: one struct, so fields can be added without breaking callers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct YourParams {
    /// How to greet.
    pub greeting: String,
    /// Whom to greet.
    pub name: String,
}

/// `your_activity`: composes the greeting. Activities may do anything (I/O, clocks,
/// randomness); the workflow only records their results.
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

/// `YourWorkflow`: greets `name` through the activity.
#[derive(Debug)]
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
        let options = ActivityOptions::start_to_close(Duration::from_secs(10));
        Ok(ctx.execute_activity(YourActivity, params, options).await?)
    }
}

/// The typed stub clients start the workflow with.
pub const YOUR_WORKFLOW: WorkflowRun<YourWorkflow> = WorkflowRun::new();

/// The task queue of the example.
pub const TASK_QUEUE: &str = "your-task-queue";
