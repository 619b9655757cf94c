//! The server's first slice, through our client and through the binary: system info,
//! namespaces, gzip (answers in the request's encoding), errors with Temporal's details, unimplemented calls, clean shutdown.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use temporalio_protos::temporal::api::workflowservice::v1 as ws;
use tonic::codec::CompressionEncoding;
use workflow_client::{Client, Error};
use workflow_server::{RunningServer, SERVER_VERSION, ServerOptions};

async fn start(options: ServerOptions) -> (RunningServer, Client) {
    let server = RunningServer::start(options).await.expect("server starts");
    let client = Client::connect(server.target())
        .await
        .expect("client connects");
    (server, client)
}

async fn describe(
    client: &Client,
    namespace: &str,
) -> Result<ws::DescribeNamespaceResponse, Error> {
    let request = ws::DescribeNamespaceRequest {
        namespace: namespace.to_string(),
        ..Default::default()
    };
    client
        .call(|mut s| {
            let request = request.clone();
            async move { s.describe_namespace(request).await }
        })
        .await
}

#[tokio::test]
async fn a_client_connects_and_reads_the_system_info_over_gzip() {
    let (server, client) = start(ServerOptions::new()).await;
    let info = client
        .call(|s| async move {
            s.send_compressed(CompressionEncoding::Gzip)
                .get_system_info(ws::GetSystemInfoRequest {})
                .await
        })
        .await
        .unwrap();
    assert_eq!(info.server_version, SERVER_VERSION);
    assert!(info.capabilities.unwrap().signal_and_query_header);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn answers_are_compressed_only_when_the_request_was() {
    use workflow_client::grpc::WorkflowServiceClient;

    let server = RunningServer::start(ServerOptions::new()).await.unwrap();
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", server.target()))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let client = WorkflowServiceClient::new(channel).accept_compressed(CompressionEncoding::Gzip);
    let encoding = |response: &tonic::Response<ws::GetSystemInfoResponse>| {
        response
            .metadata()
            .get("grpc-encoding")
            .map(|e| e.to_str().unwrap().to_string())
    };
    // Temporal's server (gRPC-Go) answers in the encoding the request came in.
    let plain = client
        .clone()
        .get_system_info(ws::GetSystemInfoRequest {})
        .await
        .unwrap();
    assert_eq!(
        encoding(&plain),
        None,
        "a plain request gets a plain answer"
    );
    let gzip = client
        .send_compressed(CompressionEncoding::Gzip)
        .get_system_info(ws::GetSystemInfoRequest {})
        .await
        .unwrap();
    assert_eq!(encoding(&gzip).as_deref(), Some("gzip"));
    assert_eq!(gzip.into_inner().server_version, SERVER_VERSION);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_default_and_configured_namespaces_exist() {
    let (server, client) = start(ServerOptions::new().namespace("orders")).await;
    for name in ["default", "orders"] {
        let described = describe(&client, name).await.unwrap();
        let info = described.namespace_info.unwrap();
        assert_eq!(info.name, name);
        assert!(!info.id.is_empty());
        assert!(
            described
                .config
                .unwrap()
                .workflow_execution_retention_ttl
                .is_some()
        );
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_unknown_namespace_is_not_found_with_temporals_details() {
    let (server, client) = start(ServerOptions::new()).await;
    let error = describe(&client, "nope").await.unwrap_err();
    let Error::NotFound { message } = &error else {
        panic!("expected NotFound, got {error:?}")
    };
    assert!(message.contains("nope"), "{message}");
    // The raw status carries NamespaceNotFoundFailure, as Temporal's server sends it.
    let mut raw = workflow_client::grpc::WorkflowServiceClient::connect(format!(
        "http://{}",
        server.target()
    ))
    .await
    .unwrap();
    let status = raw
        .describe_namespace(ws::DescribeNamespaceRequest {
            namespace: "nope".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    let details =
        <temporalio_protos::google::rpc::Status as prost::Message>::decode(status.details())
            .unwrap();
    assert_eq!(
        details.details[0].type_url,
        "type.googleapis.com/temporal.api.errordetails.v1.NamespaceNotFoundFailure"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn namespaces_register_once_and_list_in_pages() {
    let (server, client) = start(ServerOptions::new()).await;
    let register = |name: &str| {
        let request = ws::RegisterNamespaceRequest {
            namespace: name.to_string(),
            description: format!("{name} things"),
            ..Default::default()
        };
        let client = client.clone();
        async move {
            client
                .call(|mut s| {
                    let request = request.clone();
                    async move { s.register_namespace(request).await }
                })
                .await
        }
    };
    register("billing").await.unwrap();
    register("shipping").await.unwrap();
    let duplicate = register("billing").await.unwrap_err();
    assert!(
        matches!(
            &duplicate,
            Error::Rpc {
                code: tonic::Code::AlreadyExists,
                ..
            }
        ),
        "{duplicate:?}"
    );
    let missing = register("").await.unwrap_err();
    assert!(
        matches!(missing, Error::InvalidArgument { .. }),
        "{missing:?}"
    );
    let described = describe(&client, "billing").await.unwrap();
    assert_eq!(
        described.namespace_info.unwrap().description,
        "billing things"
    );

    let mut names = Vec::new();
    let mut token = Vec::new();
    loop {
        let request = ws::ListNamespacesRequest {
            page_size: 1,
            next_page_token: token.clone(),
            ..Default::default()
        };
        let page = client
            .call(|mut s| {
                let request = request.clone();
                async move { s.list_namespaces(request).await }
            })
            .await
            .unwrap();
        assert!(page.namespaces.len() <= 1);
        names.extend(
            page.namespaces
                .into_iter()
                .map(|n| n.namespace_info.unwrap().name),
        );
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(names, vec!["billing", "default", "shipping"]);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn calls_not_implemented_yet_answer_unimplemented() {
    let (server, client) = start(ServerOptions::new()).await;
    let error = client
        .call(|mut s| async move {
            s.list_schedules(ws::ListSchedulesRequest {
                namespace: "default".into(),
                ..Default::default()
            })
            .await
        })
        .await
        .unwrap_err();
    let Error::Rpc {
        code: tonic::Code::Unimplemented,
        message,
    } = &error
    else {
        panic!("expected UNIMPLEMENTED, got {error:?}")
    };
    assert!(
        message.contains("WorkflowService/ListSchedules"),
        "{message}"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn start_dev_serves_until_sigterm_and_exits_cleanly() {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_workflow-server"))
        .args([
            "start-dev",
            "--port",
            &port.to_string(),
            "--namespace",
            "extra",
            "--log-level",
            "warn",
            // The UI's line comes after the one this test reads; a closed pipe must not
            // fail the server.
            "--ui-port",
            "0",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the binary");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains(&format!("127.0.0.1:{port}")), "{line}");
    let client = Client::connect(format!("127.0.0.1:{port}")).await.unwrap();
    describe(&client, "extra").await.unwrap();
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn long_polls_past_the_limit_are_refused_not_queued() {
    use temporalio_protos::temporal::api::taskqueue::v1::TaskQueue;
    use workflow_client::grpc::WorkflowServiceClient;

    let server = RunningServer::start(ServerOptions::new().max_open_polls(2))
        .await
        .unwrap();
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", server.target()))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let queue = || {
        Some(TaskQueue {
            name: "idle".into(),
            ..Default::default()
        })
    };
    let poll = |identity: &str| {
        let mut client = WorkflowServiceClient::new(channel.clone());
        let request = ws::PollActivityTaskQueueRequest {
            namespace: "default".into(),
            task_queue: queue(),
            identity: identity.into(),
            ..Default::default()
        };
        async move {
            let mut request = tonic::Request::new(request);
            request.set_timeout(std::time::Duration::from_secs(30));
            client.poll_activity_task_queue(request).await
        }
    };
    let first = tokio::spawn(poll("first"));
    let second = tokio::spawn(poll("second"));
    // Both are held once the queue lists them as pollers.
    let mut client = WorkflowServiceClient::new(channel.clone());
    loop {
        let pollers = client
            .describe_task_queue(ws::DescribeTaskQueueRequest {
                namespace: "default".into(),
                task_queue: queue(),
                task_queue_type: 2, // activity
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .pollers;
        if pollers.len() == 2 {
            break;
        }
        tokio::task::yield_now().await;
    }
    let refused = poll("third").await.unwrap_err();
    assert_eq!(
        refused.code(),
        tonic::Code::ResourceExhausted,
        "{refused:?}"
    );
    first.abort();
    second.abort();
    server.shutdown().await.unwrap();
}
