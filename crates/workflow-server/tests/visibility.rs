//! List and count filters a request could crash or stall the server with are refused as
//! INVALID_ARGUMENT naming the limit, and the server keeps answering.

use futures::TryStreamExt;
use temporalio_protos::temporal::api::workflowservice::v1 as ws;
use workflow_client::{Client, Error};
use workflow_core::definition::WorkflowRef;
use workflow_core::options::WorkflowOptions;
use workflow_server::{RunningServer, ServerOptions};

const GREETER: WorkflowRef<String, String> = WorkflowRef::new("Greeter");

/// Hostile filters, and the words each refusal must contain.
fn hostile_queries() -> Vec<(String, String)> {
    let chain: Vec<String> = (0..1500).map(|i| format!("WorkflowId = 'w{i}'")).collect();
    vec![
        (
            format!("{}WorkflowId = 'x'{}", "(".repeat(3000), ")".repeat(3000)),
            "the filter nests deeper than 64 levels".into(),
        ),
        (
            format!("{}WorkflowId = 'x'", "NOT ".repeat(10_000)),
            "the filter nests deeper than 64 levels".into(),
        ),
        (
            chain.join(" AND "),
            "the filter makes more than 1000 comparisons".into(),
        ),
        (
            format!("WorkflowId = '{}'", "x".repeat(70_000)),
            "bytes; the limit is 65536".into(),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_filters_are_refused_naming_the_limit_and_the_server_stays_up() {
    let server = RunningServer::start(ServerOptions::new()).await.unwrap();
    let client = Client::connect(server.target()).await.unwrap();
    client
        .start_workflow(
            GREETER,
            "Ada".into(),
            WorkflowOptions::new("still-here", "q"),
        )
        .await
        .unwrap();
    for (query, limit) in hostile_queries() {
        let error = client.count_workflows(query.clone()).await.unwrap_err();
        let Error::InvalidArgument { message } = &error else {
            panic!("{error:?}")
        };
        assert!(message.contains(&limit), "{message}");
        let request = ws::ListWorkflowExecutionsRequest {
            namespace: "default".into(),
            query: query.clone(),
            ..Default::default()
        };
        let error = client
            .call(|mut s| {
                let request = request.clone();
                async move { s.list_workflow_executions(request).await }
            })
            .await
            .unwrap_err();
        assert!(
            matches!(&error, Error::InvalidArgument { message } if message.contains(&limit)),
            "{error:?}"
        );
        assert_eq!(
            client
                .count_workflows("WorkflowId = 'still-here'")
                .await
                .unwrap(),
            1,
            "the server answers after {limit}"
        );
    }
    let listed: Vec<_> = client.list_workflows("").try_collect().await.unwrap();
    assert_eq!(listed.len(), 1);
    server.shutdown().await.unwrap();
}
