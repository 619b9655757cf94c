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

/// A measurement, not a test: list and count with 20,000 runs (a quarter terminated).
/// `cargo test -p workflow-server --test server visibility:: -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn measure_list_and_count_with_20000_runs() {
    use std::time::{Duration, Instant};

    const RUNS: usize = 20_000;
    let server = RunningServer::start(ServerOptions::new()).await.unwrap();
    let client = Client::connect(server.target()).await.unwrap();
    let mut cutoff = None;
    for i in 0..RUNS {
        if i == RUNS - RUNS / 100 {
            cutoff = Some(prost_types::Timestamp::from(std::time::SystemTime::now()));
        }
        let kind = WorkflowRef::<String, String>::new(["T0", "T1", "T2", "T3", "T4"][i % 5]);
        let handle = client
            .start_workflow(
                kind,
                String::new(),
                WorkflowOptions::new(format!("bench-{i}"), "bench"),
            )
            .await
            .unwrap();
        if i % 4 == 0 {
            handle.terminate("bench").await.unwrap();
        }
    }
    let cutoff = cutoff.unwrap();
    let time = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
    let queries = [
        String::new(),
        "WorkflowId = 'bench-777'".to_string(),
        "WorkflowType = 'T3'".to_string(),
        "ExecutionStatus = 'Terminated'".to_string(),
        format!("StartTime > '{cutoff}'"),
        "TaskQueue = 'bench'".to_string(),
    ];
    println!("{RUNS} runs; median of 5 calls");
    for query in &queries {
        let mut counts = Vec::new();
        let mut lists = Vec::new();
        let mut found = (0, 0);
        for _ in 0..5 {
            let at = Instant::now();
            found.0 = client.count_workflows(query.clone()).await.unwrap();
            counts.push(at.elapsed());
            let request = ws::ListWorkflowExecutionsRequest {
                namespace: "default".into(),
                query: query.clone(),
                page_size: 100,
                ..Default::default()
            };
            let at = Instant::now();
            let page = client
                .call(|mut s| {
                    let request = request.clone();
                    async move { s.list_workflow_executions(request).await }
                })
                .await
                .unwrap();
            lists.push(at.elapsed());
            found.1 = page.executions.len();
        }
        counts.sort();
        lists.sort();
        println!(
            "{:<40} count {:>6} in {:>10}; first page of {:>3} in {:>10}",
            format!("{query:?}"),
            found.0,
            time(counts[2]),
            found.1,
            time(lists[2]),
        );
    }
    server.shutdown().await.unwrap();
}
