//! The hello example's tests, written with `workflow-testing`: the workflow with its real
//! activity, with the activity replaced, and under injected faults.

use examples::hello::{TASK_QUEUE, YourParams, YourWorkflow, your_activity};
use workflow_core::prelude::*;
use workflow_testing::{ActivityEnv, Faults, TestEnv, mock_activity};
use workflow_worker::Worker;

/// Runs `YourWorkflow` for "Ada" as `workflow_id` on `worker`; its result.
async fn greet_ada(env: &TestEnv, worker: Worker, workflow_id: &str) -> String {
    let running = env.run_worker(worker);
    let greeting = env
        .client()
        .execute_workflow(
            YourWorkflow::run,
            "Ada".to_string(),
            WorkflowOptions::new(workflow_id, TASK_QUEUE),
        )
        .await
        .unwrap();
    running.stop().await.unwrap();
    greeting
}

#[tokio::test]
async fn the_workflow_greets_through_its_activity() {
    let env = TestEnv::start().await.unwrap();
    let worker = env
        .worker(TASK_QUEUE)
        .register_workflow::<YourWorkflow>()
        .register_activity(your_activity);
    assert_eq!(greet_ada(&env, worker, "hello-ada").await, "Hello, Ada!");
    env.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_workflow_passes_the_name_to_the_activity_and_returns_its_answer() {
    let env = TestEnv::start().await.unwrap();
    let worker = env
        .worker(TASK_QUEUE)
        .register_workflow::<YourWorkflow>()
        .register_activity(mock_activity(your_activity, |_ctx, params| async move {
            Ok(format!("{} -> {}", params.greeting, params.name))
        }));
    assert_eq!(
        greet_ada(&env, worker, "hello-mocked").await,
        "Hello -> Ada"
    );
    env.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_workflow_greets_the_same_under_injected_faults() {
    let env = TestEnv::start().await.unwrap();
    let worker = env
        .faulty_worker(TASK_QUEUE, Faults::all())
        .register_workflow::<YourWorkflow>()
        .register_activity(your_activity)
        .build();
    assert_eq!(greet_ada(&env, worker, "hello-faults").await, "Hello, Ada!");
    env.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_activity_composes_the_greeting() {
    let params = YourParams {
        greeting: "Hi".into(),
        name: "Ada".into(),
    };
    let greeting = ActivityEnv::new()
        .run(&your_activity, params)
        .await
        .unwrap();
    assert_eq!(greeting, "Hi, Ada!");
}
