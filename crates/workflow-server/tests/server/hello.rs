//! Our SDK runs workflows on our server: the guide's hello workflow end to end, with the
//! history Temporal would write for it.

use std::time::Duration;

use temporalio_protos::temporal::api::enums::v1::EventType;
use workflow_client::{Client, Error};
use workflow_core::failure::FailureInfo;
use workflow_core::prelude::*;
use workflow_server::ServerOptions;

use crate::support::ServerWithWorker;

#[derive(Serialize, Deserialize)]
pub struct YourParams {
    pub greeting: String,
    pub name: String,
}

#[activity]
async fn your_activity(_ctx: ActivityContext, input: YourParams) -> Result<String, ActivityError> {
    if input.name.is_empty() {
        return Err(ActivityError::non_retryable("NoName", "nobody to greet"));
    }
    Ok(format!("{}, {}!", input.greeting, input.name))
}

#[workflow(name = "YourWorkflow")]
#[derive(Default)]
struct YourWorkflow;

#[workflow]
impl YourWorkflow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
        let params = YourParams {
            greeting: "Hello".into(),
            name,
        };
        let options = ActivityOptions::start_to_close(Duration::from_secs(10));
        Ok(ctx.execute_activity(your_activity, params, options).await?)
    }
}

async fn with_worker<F, Fut>(test: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let setup = ServerWithWorker::start(ServerOptions::new(), "hello", |worker| {
        worker
            .register_workflow::<YourWorkflow>()
            .register_activity(your_activity)
    })
    .await;
    test(setup.client.clone()).await;
    setup.stop().await;
}

#[tokio::test]
async fn the_hello_workflow_runs_on_our_server() {
    with_worker(|client| async move {
        let handle = client
            .start_workflow(
                YourWorkflow::run,
                "Ada".to_string(),
                WorkflowOptions::new("hello-ada", "hello"),
            )
            .await
            .unwrap();
        assert_eq!(handle.result().await.unwrap(), "Hello, Ada!");
        let kinds: Vec<EventType> = handle
            .fetch_history()
            .await
            .unwrap()
            .iter()
            .map(|e| e.event_type())
            .collect();
        use EventType::*;
        assert_eq!(
            kinds,
            vec![
                WorkflowExecutionStarted,
                WorkflowTaskScheduled,
                WorkflowTaskStarted,
                WorkflowTaskCompleted,
                ActivityTaskScheduled,
                ActivityTaskStarted,
                ActivityTaskCompleted,
                WorkflowTaskScheduled,
                WorkflowTaskStarted,
                WorkflowTaskCompleted,
                WorkflowExecutionCompleted,
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn an_activity_failure_fails_the_workflow_with_its_cause() {
    with_worker(|client| async move {
        let error = client
            .execute_workflow(
                YourWorkflow::run,
                String::new(),
                WorkflowOptions::new("hello-nobody", "hello"),
            )
            .await
            .unwrap_err();
        let Error::WorkflowFailed { failure, .. } = &error else {
            panic!("expected a workflow failure, got {error:?}")
        };
        assert!(
            matches!(failure.info, FailureInfo::Activity(_)),
            "{failure:?}"
        );
        assert_eq!(failure.root_cause().application_type(), Some("NoName"));
    })
    .await;
}

#[tokio::test]
async fn many_workflows_run_concurrently() {
    with_worker(|client| async move {
        let runs = (0..20).map(|i| {
            let client = client.clone();
            async move {
                client
                    .execute_workflow(
                        YourWorkflow::run,
                        format!("n{i}"),
                        WorkflowOptions::new(format!("hello-{i}"), "hello"),
                    )
                    .await
            }
        });
        let results = futures::future::join_all(runs).await;
        for (i, result) in results.into_iter().enumerate() {
            assert_eq!(result.unwrap(), format!("Hello, n{i}!"));
        }
    })
    .await;
}
