//! The Web UI's JSON API (`/api/v1/...`, Temporal's HTTP API routes and proto3 JSON shapes)
//! and its pages, over real HTTP against a server with the UI on; and `start-dev` serving
//! the UI on the gRPC port + 1000 unless `--headless`.

use std::process::Stdio;

use base64::Engine as _;
use bytes::Bytes;
use futures::StreamExt;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use temporalio_protos::temporal::api::enums::v1::EventType;
use tokio::io::{AsyncBufReadExt, BufReader};
use workflow_client::Error;

use crate::support::free_port;
use crate::web::{self, Setup};

/// One HTTP request; answers the status, the content type and the body.
async fn call(method: Method, url: &str, body: Option<Value>) -> (StatusCode, String, String) {
    let (status, headers, body) = call_with(method, url, &[], body).await;
    let content_type = headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, body)
}

/// One HTTP request with these headers; answers the status, the headers and the body.
async fn call_with(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, http::HeaderMap, String) {
    let client = HttpClient::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut request = Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let body = match body {
        Some(body) => {
            request = request.header("content-type", "application/json");
            Full::new(Bytes::from(body.to_string()))
        }
        None => Full::new(Bytes::new()),
    };
    let response = client.request(request.body(body).unwrap()).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
}

async fn get_json(url: &str) -> (StatusCode, Value) {
    let (status, _, body) = call(Method::GET, url, None).await;
    (status, serde_json::from_str(&body).unwrap())
}

async fn post_json(url: &str, body: Value) -> (StatusCode, Value) {
    let (status, _, body) = call(Method::POST, url, Some(body)).await;
    (status, serde_json::from_str(&body).unwrap())
}

fn json_payload(value: Value) -> Value {
    let b64 = base64::engine::general_purpose::STANDARD;
    json!({
        "metadata": {"encoding": b64.encode("json/plain")},
        "data": b64.encode(value.to_string()),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_lists_describes_and_shows_the_history_of_a_finished_workflow() {
    let setup = Setup::start().await;
    let run_id = setup
        .hello("api-hello", "Ada")
        .await
        .run_id()
        .unwrap()
        .to_owned();
    let api = format!("{}/api/v1/namespaces/default", setup.ui);

    let (status, list) = get_json(&format!(
        "{api}/workflows?query=WorkflowId%3D%22api-hello%22"
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let executions = list["executions"].as_array().unwrap();
    assert_eq!(executions.len(), 1, "{list}");
    assert_eq!(executions[0]["execution"]["runId"], run_id.as_str());
    assert_eq!(
        executions[0]["status"],
        "WORKFLOW_EXECUTION_STATUS_COMPLETED"
    );
    assert_eq!(executions[0]["type"]["name"], "YourWorkflow");
    assert_eq!(executions[0]["taskQueue"], web::TASK_QUEUE);

    let (status, count) = get_json(&format!(
        "{api}/workflow-count?query=WorkflowType%3D%22YourWorkflow%22"
    ))
    .await;
    assert_eq!((status, &count["count"]), (StatusCode::OK, &json!("1")));

    let (status, described) = get_json(&format!(
        "{api}/workflows/api-hello?execution.runId={run_id}"
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{described}");
    assert_eq!(
        described["workflowExecutionInfo"]["execution"]["workflowId"],
        "api-hello"
    );
    assert_eq!(described["workflowExecutionInfo"]["historyLength"], "11");

    let (status, history) = get_json(&format!("{api}/workflows/api-hello/history")).await;
    assert_eq!(status, StatusCode::OK, "{history}");
    let events = history["history"]["events"].as_array().unwrap();
    assert_eq!(events.len(), 11);
    assert_eq!(events[0]["eventId"], "1");
    assert_eq!(
        events[0]["eventType"],
        "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"
    );
    // Plain JSON payloads in the HTTP API's shorthand: their values.
    let started = &events[0]["workflowExecutionStartedEventAttributes"];
    assert_eq!(started["input"], json!(["Ada"]));
    let last = &events[10];
    assert_eq!(last["eventType"], "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED");
    let completed = &last["workflowExecutionCompletedEventAttributes"];
    assert_eq!(completed["result"], json!(["Hello, Ada!"]));

    let (status, namespaces) = get_json(&format!("{}/api/v1/namespaces", setup.ui)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        namespaces["namespaces"][0]["namespaceInfo"]["name"],
        "default"
    );
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_the_servers_message_and_typed_details() {
    let setup = Setup::start().await;
    let api = format!("{}/api/v1/namespaces/default", setup.ui);

    let (status, error) =
        get_json(&format!("{api}/workflows?query=Colour%20%3D%20%22red%22")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["code"], 3, "INVALID_ARGUMENT: {error}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("unknown field Colour") && message.contains("at character 0"),
        "{message}"
    );

    let (status, error) = get_json(&format!("{api}/workflows/no-such-workflow")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error["code"], 5);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("no-such-workflow"),
        "{error}"
    );
    assert_eq!(
        error["details"][0]["@type"],
        "type.googleapis.com/temporal.api.errordetails.v1.NotFoundFailure"
    );

    let (status, error) =
        get_json(&format!("{}/api/v1/namespaces/nowhere/workflows", setup.ui)).await;
    assert_eq!(
        (status, &error["code"]),
        (StatusCode::NOT_FOUND, &json!(5)),
        "{error}"
    );

    let (status, error) = post_json(
        &format!("{api}/workflows/any/signal/go"),
        json!({"colour": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["message"].as_str().unwrap().contains("colour"),
        "{error}"
    );

    let (status, _, _) = call(Method::POST, &format!("{api}/workflows/any/cancel"), None).await;
    assert_eq!(
        status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "actions take JSON only"
    );
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_signal_and_terminate_act_on_the_run_they_name_only() {
    let setup = Setup::start().await;
    let api = format!("{}/api/v1/namespaces/default/workflows", setup.ui);

    // A signal with JSON input reaches the workflow.
    let first = setup.waiter("api-waiter").await;
    let first_run = first.run_id().unwrap().to_owned();
    let (status, answer) = post_json(
        &format!("{api}/api-waiter/query/__stack_trace"),
        json!({"execution": {"runId": first_run}, "query": {}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let stack = answer["queryResult"][0].as_str().unwrap();
    assert!(
        stack.contains("workflow Waiter is waiting on") && stack.contains("1 wait_condition"),
        "{stack}"
    );
    let (status, answer) = post_json(
        &format!("{api}/api-waiter/signal/finish"),
        json!({
            "workflowExecution": {"runId": first_run},
            // The full form; the browser test sends the shorthand.
            "input": {"payloads": [json_payload(json!("over HTTP"))]},
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(first.result().await.unwrap(), "got over HTTP");
    let history = first.fetch_history().await.unwrap();
    let signalled = history
        .iter()
        .find_map(|e| match &e.attributes {
            Some(temporalio_protos::temporal::api::history::v1::history_event::Attributes::WorkflowExecutionSignaledEventAttributes(a)) => Some(a.identity.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(signalled, "web-ui");

    // A second run under the same id: terminating the first (closed) run is refused and
    // leaves the second running.
    let second = setup.waiter("api-waiter").await;
    let (status, error) = post_json(
        &format!("{api}/api-waiter/terminate"),
        json!({"workflowExecution": {"runId": first_run}, "reason": "wrong run"}),
    )
    .await;
    assert_ne!(status, StatusCode::OK, "{error}");
    let described = second.describe().await.unwrap();
    assert_eq!(
        described.info.status,
        workflow_client::WorkflowExecutionStatus::Running
    );

    let (status, answer) = post_json(
        &format!("{api}/api-waiter/terminate"),
        json!({"workflowExecution": {"runId": second.run_id().unwrap()}, "reason": "enough"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    match second.result().await {
        Err(Error::Terminated {
            reason, identity, ..
        }) => {
            assert_eq!((reason.as_str(), identity.as_str()), ("enough", "web-ui"))
        }
        other => panic!("expected Terminated, got {other:?}"),
    }
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_and_assets_are_served_and_unknown_paths_get_a_not_found_page() {
    let setup = Setup::start().await;
    let (status, _, _) = call(Method::GET, &format!("{}/", setup.ui), None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, content_type, page) = call(
        Method::GET,
        &format!("{}/namespaces/default/workflows/any/run", setup.ui),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(page.contains("/assets/app.js"), "{page}");
    let (status, content_type, script) =
        call(Method::GET, &format!("{}/assets/app.js", setup.ui), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/javascript"));
    assert!(script.contains("/api/v1/namespaces"));
    let (status, _, page) = call(Method::GET, &format!("{}/no/such/page", setup.ui), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        page.contains("Not found") && page.contains("/no/such/page"),
        "{page}"
    );
    let (status, _, page) = call(Method::GET, &format!("{}/%3Cscript%3E", setup.ui), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!page.contains("<script>"), "the path is escaped: {page}");
    setup.stop().await;
}

/// Starts `workflow-server start-dev` with `args`; answers the process and the line where it
/// names its Web UI, if it does (the line after the gRPC one, when there is one).
async fn start_dev(args: &[&str]) -> (tokio::process::Child, Option<String>) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_workflow-server"))
        .arg("start-dev")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let listening = lines.next_line().await.unwrap().unwrap();
    assert!(listening.contains("listening on"), "{listening}");
    let ui = if args.contains(&"--headless") {
        None
    } else {
        lines.next_line().await.unwrap()
    };
    (child, ui)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_dev_serves_the_ui_on_the_grpc_port_plus_1000_unless_headless() {
    // A free port below 64535, so that port + 1000 exists.
    let port = loop {
        let port = free_port();
        if port < 64535 {
            break port;
        }
    };
    let (mut server, ui) = start_dev(&["--port", &port.to_string()]).await;
    let expected = format!("http://127.0.0.1:{}", port + 1000);
    assert_eq!(
        ui.as_deref(),
        Some(format!("Web UI at {expected}").as_str())
    );
    let (status, namespaces) = get_json(&format!("{expected}/api/v1/namespaces")).await;
    assert_eq!(status, StatusCode::OK, "{namespaces}");
    server.kill().await.unwrap();

    let ui_port = free_port();
    let (mut server, ui) = start_dev(&["--port", "0", "--ui-port", &ui_port.to_string()]).await;
    assert_eq!(ui, Some(format!("Web UI at http://127.0.0.1:{ui_port}")));
    server.kill().await.unwrap();

    let (mut server, _) = start_dev(&["--port", &port.to_string(), "--headless"]).await;
    let refused = tokio::net::TcpStream::connect(("127.0.0.1", port + 1000)).await;
    assert!(
        refused.is_err(),
        "nothing listens on the UI port when headless"
    );
    server.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_names_the_root_of_a_child_its_history_size_and_a_cancel_request() {
    let setup = Setup::start().await;
    let parent = setup.start_workflow(web::Busy::run, (), "api-busy").await;
    let api = format!("{}/api/v1/namespaces/default/workflows", setup.ui);
    // Wait for the parent's history to say the child started.
    let events = parent.watch_history();
    futures::pin_mut!(events);
    while let Some(event) = events.next().await {
        if event.unwrap().event_type() == EventType::ChildWorkflowExecutionStarted {
            break;
        }
    }
    let (status, child) = get_json(&format!("{api}/api-busy-child")).await;
    assert_eq!(status, StatusCode::OK, "{child}");
    let root = &child["workflowExecutionInfo"]["rootExecution"];
    assert_eq!(root["workflowId"], "api-busy");
    assert_eq!(root["runId"], parent.run_id().unwrap());
    assert_eq!(
        child["workflowExecutionInfo"]["parentExecution"]["workflowId"],
        "api-busy"
    );

    let (status, answer) = post_json(&format!("{api}/api-busy/cancel"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (_, described) = get_json(&format!("{api}/api-busy")).await;
    let info = &described["workflowExecutionInfo"];
    assert_eq!(
        info["rootExecution"]["workflowId"], "api-busy",
        "its own root"
    );
    let size: i64 = info["historySizeBytes"].as_str().unwrap().parse().unwrap();
    assert!(size > 100, "{size}");
    assert_eq!(described["workflowExtendedInfo"]["cancelRequested"], true);
    assert_eq!(
        described["workflowExtendedInfo"]["originalStartTime"],
        info["startTime"]
    );

    web::release_stubborn("api-busy");
    parent.terminate("done").await.unwrap();
    setup.stop().await;
}

/// Percent-encoded for a query string, leaving what a query string may hold as it is, so
/// long filters fit `http`'s limit on a URI (65,534 bytes).
fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"()'_-.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_filters_over_http_are_refused_naming_the_limit_and_the_server_stays_up() {
    let setup = Setup::start().await;
    setup.hello("api-still-here", "Ada").await;
    let api = format!("{}/api/v1/namespaces/default", setup.ui);
    let chain: Vec<String> = (0..1500).map(|i| format!("WorkflowId = 'w{i}'")).collect();
    let hostile = [
        (
            format!("{}WorkflowId = 'x'{}", "(".repeat(3000), ")".repeat(3000)),
            "the filter nests deeper than 64 levels",
        ),
        (
            format!("{}WorkflowId = 'x'", "NOT ".repeat(10_000)),
            "the filter nests deeper than 64 levels",
        ),
        (
            chain.join(" AND "),
            "the filter makes more than 1000 comparisons",
        ),
        // An over-long query does not fit a URI: tests/visibility.rs sends one over gRPC.
    ];
    for (query, limit) in hostile {
        for route in ["workflows", "workflow-count"] {
            let (status, error) =
                get_json(&format!("{api}/{route}?query={}", url_encode(&query))).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{route}: {error}");
            assert_eq!(error["code"], 3, "INVALID_ARGUMENT: {error}");
            let message = error["message"].as_str().unwrap();
            assert!(message.contains(limit), "{route}: {message}");
        }
        let (status, count) = get_json(&format!(
            "{api}/workflow-count?query={}",
            url_encode("WorkflowId = 'api-still-here'")
        ))
        .await;
        assert_eq!(
            (status, &count["count"]),
            (StatusCode::OK, &json!("1")),
            "the server answers after {limit}"
        );
    }
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loopback_ui_answers_only_to_loopback_host_names() {
    let setup = Setup::start().await;
    let port = setup.ui.rsplit(':').next().unwrap().to_owned();
    let url = format!("{}/api/v1/namespaces", setup.ui);
    for host in ["evil.example", &format!("evil.example:{port}")] {
        let (status, _, body) = call_with(Method::GET, &url, &[("host", host)], None).await;
        assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{host}: {body}");
        assert!(body.contains("answers only to localhost"), "{body}");
    }
    let (status, _, _) = call_with(
        Method::GET,
        &format!("{}/namespaces", setup.ui),
        &[("host", "evil.example")],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "pages too");
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        "localhost".into(),
    ] {
        let (status, _, body) = call_with(Method::GET, &url, &[("host", &host)], None).await;
        assert_eq!(status, StatusCode::OK, "{host}: {body}");
    }
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_from_another_origin_is_refused_and_changes_nothing() {
    let setup = Setup::start().await;
    let waiter = setup.waiter("origin-waiter").await;
    let terminate = format!(
        "{}/api/v1/namespaces/default/workflows/origin-waiter/terminate",
        setup.ui
    );
    let body = || Some(json!({"reason": "forged"}));
    let (status, _, answer) = call_with(
        Method::POST,
        &terminate,
        &[("origin", "http://evil.example")],
        body(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert!(
        answer.contains("Origin http://evil.example is refused"),
        "{answer}"
    );
    let (status, _, answer) = call_with(
        Method::POST,
        &terminate,
        &[("sec-fetch-site", "cross-site")],
        body(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert!(answer.contains("Sec-Fetch-Site: cross-site"), "{answer}");
    assert_eq!(
        waiter.describe().await.unwrap().info.status,
        workflow_client::WorkflowExecutionStatus::Running,
        "the refused requests terminated nothing"
    );

    let (status, _, answer) = call_with(
        Method::POST,
        &terminate,
        &[("origin", &setup.ui), ("sec-fetch-site", "same-origin")],
        Some(json!({"reason": "from the page"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    match waiter.result().await {
        Err(Error::Terminated { reason, .. }) => assert_eq!(reason, "from the page"),
        other => panic!("expected Terminated, got {other:?}"),
    }
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_assets_api_answers_and_refusals_carry_the_security_headers() {
    let setup = Setup::start().await;
    let requests: [(&str, &[(&str, &str)]); 5] = [
        ("/namespaces/default/workflows", &[]),
        ("/assets/app.js", &[]),
        ("/api/v1/namespaces", &[]),
        ("/no/such/page", &[]),
        ("/api/v1/namespaces", &[("host", "evil.example")]),
    ];
    for (path, headers) in requests {
        let (status, answer, _) =
            call_with(Method::GET, &format!("{}{path}", setup.ui), headers, None).await;
        let header = |name: &str| {
            answer
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_else(|| panic!("{path} ({status}) has no {name}"))
        };
        let policy = header("content-security-policy");
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(policy.contains(directive), "{path}: {policy}");
        }
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
    }
    setup.stop().await;
}

/// The timeline draws an activity from its scheduled to its started to its closed event, so
/// the started event must say when the last attempt started, not when it was written (at
/// the close, for activities that may retry), as Temporal's does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_activitys_started_event_carries_the_time_its_last_attempt_started() {
    let setup = Setup::start().await;
    let handle = setup
        .start_workflow(web::Busy::run, (), "api-started-time")
        .await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    // The second attempt heartbeats, then runs until released.
    let started = loop {
        let described = handle.describe().await.unwrap();
        let running = described
            .raw
            .pending_activities
            .iter()
            .find(|a| a.attempt == 2 && a.heartbeat_details.is_some());
        if let Some(activity) = running {
            break activity.last_started_time.unwrap();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            described.raw
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    web::release_stubborn("api-started-time");
    let history = loop {
        let history = handle.fetch_history().await.unwrap();
        if history
            .iter()
            .any(|e| e.event_type() == EventType::ActivityTaskCompleted)
        {
            break history;
        }
        assert!(tokio::time::Instant::now() < deadline, "{history:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let event = history
        .iter()
        .find(|e| e.event_type() == EventType::ActivityTaskStarted)
        .unwrap();
    assert_eq!(event.event_time, Some(started), "{event:?}");
    handle.terminate("done").await.unwrap();
    setup.stop().await;
}
