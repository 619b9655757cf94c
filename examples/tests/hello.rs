//! The hello example's tests, written with `workflow-testing`: the workflow with its real
//! activity, with the activity replaced, and under injected faults.

use examples::hello::{TASK_QUEUE, YourParams, YourWorkflow, your_activity};
use workflow_core::prelude::*;
use workflow_testing::{ActivityEnv, Faults, TestEnv, mock_activity};

#[tokio::test]
async fn the_workflow_greets_through_its_activity() {
    let env = TestEnv::start().await.unwrap();
    let worker = env
        .worker(TASK_QUEUE)
        .register_workflow::<YourWorkflow>()
        .register_activity(your_activity);
    let running = env.run_worker(worker);
    let greeting = env
        .client()
        .execute_workflow(
            YourWorkflow::run,
            "Ada".to_string(),
            WorkflowOptions::new("hello-ada", TASK_QUEUE),
        )
        .await
        .unwrap();
    assert_eq!(greeting, "Hello, Ada!");
    running.stop().await.unwrap();
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
    let running = env.run_worker(worker);
    let answer = env
        .client()
        .execute_workflow(
            YourWorkflow::run,
            "Ada".to_string(),
            WorkflowOptions::new("hello-mocked", TASK_QUEUE),
        )
        .await
        .unwrap();
    assert_eq!(answer, "Hello -> Ada");
    running.stop().await.unwrap();
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
    let running = env.run_worker(worker);
    let greeting = env
        .client()
        .execute_workflow(
            YourWorkflow::run,
            "Ada".to_string(),
            WorkflowOptions::new("hello-faults", TASK_QUEUE),
        )
        .await
        .unwrap();
    assert_eq!(greeting, "Hello, Ada!");
    running.stop().await.unwrap();
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
