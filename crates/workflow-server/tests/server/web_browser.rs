//! The Web UI in a real browser: headless Chromium driven through chromedriver (WebDriver).
//! `scripts/test.sh` installs Debian's `chromium` and `chromium-driver`; the paths can be
//! changed with `WORKFLOW_TEST_CHROMIUM` and `WORKFLOW_TEST_CHROMEDRIVER`. Screenshots of
//! the pages go to `WORKFLOW_TEST_SCREENSHOTS` (default: a folder in the temp dir).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client as Browser, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use workflow_client::{Error, WorkflowExecutionStatus};

use crate::web::{self, Setup};

/// How long the page may take to show what a test waits for.
const PAGE_WAIT: Duration = Duration::from_secs(20);

fn tool(variable: &str, default: &str) -> String {
    let path = std::env::var(variable).unwrap_or_else(|_| default.to_owned());
    assert!(
        std::path::Path::new(&path).exists(),
        "{path} is missing: install Debian's chromium and chromium-driver (scripts/test.sh \
         does), or point {variable} at it"
    );
    path
}

/// A chromedriver of its own and a headless Chromium session through it.
struct Session {
    browser: Browser,
    _driver: Child,
    _profile: tempfile::TempDir,
}

impl Session {
    async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// A session whose Chromium takes these flags too.
    async fn start_with(flags: &[&str]) -> Self {
        let chromium = tool("WORKFLOW_TEST_CHROMIUM", "/usr/bin/chromium");
        let chromedriver = tool("WORKFLOW_TEST_CHROMEDRIVER", "/usr/bin/chromedriver");
        // chromedriver cannot pick a port itself and say which (`--port=0` reports 0).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        // It says when it listens: "ChromeDriver was started successfully on port ...".
        let mut lines = BufReader::new(driver.stdout.take().unwrap()).lines();
        loop {
            let line = lines
                .next_line()
                .await
                .unwrap()
                .expect("chromedriver exited before it started");
            if line.contains("started successfully") {
                break;
            }
        }
        // Keep reading its output so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let profile = tempfile::tempdir().unwrap();
        let mut args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--window-size=1400,1300".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        args.extend(flags.iter().map(|f| f.to_string()));
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": args,
            }
        });
        let browser = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities.as_object().unwrap().clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session");
        Self {
            browser,
            _driver: driver,
            _profile: profile,
        }
    }

    /// Waits until an element matching the CSS selector holds `text`; answers all its text.
    async fn text_of(&self, css: &str, text: &str) -> String {
        let xpath = css_with_text(css, text);
        let found = self
            .browser
            .wait()
            .at_most(PAGE_WAIT)
            .for_element(Locator::XPath(&xpath))
            .await;
        match found {
            Ok(element) => element.text().await.unwrap(),
            Err(error) => {
                let shown = match self.browser.find(Locator::Css("main")).await {
                    Ok(main) => main.text().await.unwrap_or_default(),
                    Err(_) => String::new(),
                };
                panic!("no {css} holding {text:?} ({error}); the page shows:\n{shown}")
            }
        }
    }

    async fn open(&self, url: &str) {
        self.browser
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    async fn click(&self, css: &str) {
        self.browser
            .wait()
            .at_most(PAGE_WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .click()
            .await
            .unwrap();
    }

    /// How many elements match the CSS selector now.
    async fn count(&self, css: &str) -> usize {
        self.browser
            .find_all(Locator::Css(css))
            .await
            .unwrap()
            .len()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let field = self.browser.find(Locator::Css(css)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// What a script run in the page answers.
    async fn js(&self, script: &str) -> serde_json::Value {
        self.browser
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("{script}: {e}"))
    }

    /// Polls a script until it answers something other than `null` or `false`, and answers
    /// that; fails naming `what` after PAGE_WAIT.
    async fn until(&self, what: &str, script: &str) -> serde_json::Value {
        let deadline = tokio::time::Instant::now() + PAGE_WAIT;
        loop {
            let answer = self.js(script).await;
            if !(answer.is_null() || answer == json!(false)) {
                return answer;
            }
            if tokio::time::Instant::now() >= deadline {
                let shown = self
                    .js("return document.querySelector('main').innerText;")
                    .await;
                panic!("the page never showed {what}; it shows:\n{shown}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn screenshot(&self, name: &str) {
        let folder = std::env::var_os("WORKFLOW_TEST_SCREENSHOTS")
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join("workflow-ui-screenshots"));
        std::fs::create_dir_all(&folder).unwrap();
        let path = folder.join(format!("{name}.png"));
        let png = self.browser.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        std::fs::write(&path, png).unwrap();
        eprintln!("screenshot: {}", path.display());
    }

    async fn close(self) {
        self.browser.close().await.unwrap();
    }
}

/// An XPath for "the element with this id or class whose text contains `text`". Only the
/// simple selectors the tests use (`#id`, `tag`, `#id tag`) are needed.
fn css_with_text(css: &str, text: &str) -> String {
    let step = |part: &str| match part.strip_prefix('#') {
        Some(id) => format!("*[@id='{id}']"),
        None => part.to_owned(),
    };
    let path: Vec<String> = css.split_whitespace().map(step).collect();
    format!("//{}[contains(., '{text}')]", path.join("//"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_shows_the_hello_workflow_and_its_page_shows_input_result_and_history() {
    let setup = Setup::start().await;
    let handle = setup.hello("browser-hello", "Ada").await;
    let run_id = handle.run_id().unwrap().to_owned();
    let session = Session::start().await;

    // The root leads to the default namespace's list.
    session.open(&format!("{}/", setup.ui)).await;
    let row = session.text_of("#workflows tr", "browser-hello").await;
    assert!(row.contains("Completed"), "{row}");
    assert!(
        row.contains("YourWorkflow") && row.contains(&run_id),
        "{row}"
    );
    assert!(row.contains(web::TASK_QUEUE), "{row}");
    session.text_of("#count", "1 workflow").await;
    session.screenshot("workflow-list").await;

    // Opening it shows its input, result and history.
    session.click("a.workflow-link").await;
    session.text_of("#workflow-id", "browser-hello").await;
    session.text_of("#run-id", &run_id).await;
    session.text_of("#input", "\"Ada\"").await;
    session.text_of("#result", "Hello, Ada!").await;
    let timeline = session
        .text_of("#timeline", "WorkflowExecutionCompleted")
        .await;
    for event in [
        "WorkflowExecutionStarted",
        "ActivityTaskScheduled",
        "ActivityTaskCompleted",
    ] {
        assert!(timeline.contains(event), "{event} missing from {timeline}");
    }
    assert!(timeline.contains("activity your_activity"), "{timeline}");
    session.screenshot("workflow-detail").await;

    // The raw history is the API's JSON.
    session.click("#tab-json").await;
    session
        .text_of("#history-json", "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED")
        .await;
    session.close().await;
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_sent_from_the_page_reaches_the_workflow_shown_after_confirming() {
    let setup = Setup::start().await;
    let handle = setup.waiter("browser-waiter").await;
    let run_id = handle.run_id().unwrap().to_owned();
    let session = Session::start().await;
    let page = format!("{}/namespaces/default/workflows/browser-waiter", setup.ui);
    session.open(&page).await;
    session.text_of("#run-id", &run_id).await;
    session.text_of("#result", "Still running").await;
    session.click("#load-stack").await;
    session.text_of("#stack", "1 wait_condition").await;

    // Cancelling the dialog sends nothing.
    session.click("#signal").await;
    session
        .text_of("#confirm-workflow-id", "browser-waiter")
        .await;
    session.text_of("#confirm-run-id", &run_id).await;
    session.type_into("#signal-name", "finish").await;
    session.click("#confirm-cancel").await;

    // Confirming sends the JSON input to exactly that run.
    session.click("#signal").await;
    session.text_of("#confirm-run-id", &run_id).await;
    session.type_into("#signal-name", "finish").await;
    session
        .type_into("#signal-input", "\"from the browser\"")
        .await;
    session.screenshot("signal-dialog").await;
    session.click("#confirm-ok").await;
    // The page reloads once the server took the signal, and its history shows it.
    session.text_of("#timeline", "signal finish").await;
    assert_eq!(handle.result().await.unwrap(), "got from the browser");
    let signals = handle
        .fetch_history()
        .await
        .unwrap()
        .iter()
        .filter(|e| {
            e.event_type()
                == temporalio_protos::temporal::api::enums::v1::EventType::WorkflowExecutionSignaled
        })
        .count();
    assert_eq!(signals, 1, "the cancelled dialog sent nothing");

    session.open(&page).await;
    session.text_of("#result", "got from the browser").await;
    session.close().await;
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_sent_from_the_page_is_answered_and_a_rejection_stays_in_the_dialog() {
    use temporalio_protos::temporal::api::enums::v1::EventType;
    let setup = Setup::start().await;
    let handle = setup.waiter("browser-update").await;
    let run_id = handle.run_id().unwrap().to_owned();
    let session = Session::start().await;
    let page = format!("{}/namespaces/default/workflows/browser-update", setup.ui);
    session.open(&page).await;
    session.text_of("#run-id", &run_id).await;

    // The validator's refusal is shown where the update was asked for; nothing is written.
    session.click("#update").await;
    session.text_of("#confirm-run-id", &run_id).await;
    session.type_into("#update-name", "note").await;
    session.type_into("#update-input", "\"\"").await;
    session.click("#confirm-ok").await;
    session.text_of("#confirm-error", "an empty note").await;
    session.screenshot("update-refused").await;
    session.click("#confirm-cancel").await;

    session.click("#update").await;
    session.type_into("#update-name", "note").await;
    session
        .type_into("#update-input", "\"remember the milk\"")
        .await;
    session.click("#confirm-ok").await;
    // The page reloads once the workflow answered; its timeline shows the update.
    session
        .text_of("#timeline", "WorkflowExecutionUpdateCompleted")
        .await;
    let history = handle.fetch_history().await.unwrap();
    let count = |kind: EventType| history.iter().filter(|e| e.event_type() == kind).count();
    assert_eq!(count(EventType::WorkflowExecutionUpdateAccepted), 1);
    assert_eq!(count(EventType::WorkflowExecutionUpdateCompleted), 1);
    session.close().await;
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_of_a_running_workflow_follows_it_until_it_closes() {
    let setup = Setup::start().await;
    let handle = setup.waiter("browser-follow").await;
    let session = Session::start().await;
    session
        .open(&format!(
            "{}/namespaces/default/workflows/browser-follow",
            setup.ui
        ))
        .await;
    session.text_of("#result", "Still running").await;
    assert_eq!(session.count("#detail-auto-refresh:checked").await, 1);
    session.click("#tab-json").await;
    // A mark in the page's window survives a redraw but not a reload.
    session
        .browser
        .execute("window.sameDocument = true; return null;", vec![])
        .await
        .unwrap();

    // Signalled by a client, not by the page, the workflow completes; the open page shows it.
    handle
        .signal_by_name("finish", "from a client".to_string())
        .await
        .unwrap();
    assert_eq!(handle.result().await.unwrap(), "got from a client");
    session.text_of("#result", "got from a client").await;
    session
        .text_of("#history-json", "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED")
        .await;
    assert_eq!(
        session.count("#tab-json.active").await,
        1,
        "the JSON tab stays chosen"
    );
    assert_eq!(
        session.count("#detail-auto-refresh").await,
        0,
        "a closed run has nothing to follow"
    );
    let same_document = session
        .browser
        .execute("return window.sameDocument === true;", vec![])
        .await
        .unwrap();
    assert_eq!(same_document, json!(true), "redrawn in place, not reloaded");
    // The signal has a lane of its own, named after it, with the one signal received.
    let signals = bars(&session, "signal").await;
    assert_eq!(signals.len(), 1, "{signals:?}");
    assert!(signals[0].0.contains("Signal finish"), "{signals:?}");
    assert_eq!(signals[0].3, "received", "{signals:?}");
    session.screenshot("timeline-signal").await;
    session.close().await;
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminate_asks_for_confirmation_and_a_reason() {
    let setup = Setup::start().await;
    let handle = setup.waiter("browser-terminate").await;
    let session = Session::start().await;
    let page = format!(
        "{}/namespaces/default/workflows/browser-terminate/{}",
        setup.ui,
        handle.run_id().unwrap()
    );
    session.open(&page).await;
    session.click("#terminate").await;
    session.click("#confirm-cancel").await;
    assert_eq!(
        handle.describe().await.unwrap().info.status,
        WorkflowExecutionStatus::Running,
        "nothing happens until confirmed"
    );

    session.click("#terminate").await;
    session.type_into("#terminate-reason", "stuck").await;
    session.click("#confirm-ok").await;
    // The page reloads once the server terminated the run.
    session.text_of("#failure", "Reason: stuck").await;
    match handle.result().await {
        Err(Error::Terminated { reason, .. }) => assert_eq!(reason, "stuck"),
        other => panic!("expected Terminated, got {other:?}"),
    }
    session.close().await;
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaces_lead_to_the_list_a_bad_filter_shows_the_parsers_message_an_unknown_id_a_not_found_page()
 {
    let setup = Setup::start().await;
    let session = Session::start().await;
    session.open(&format!("{}/namespaces", setup.ui)).await;
    session.text_of("#namespaces", "default").await;
    session.click("#namespaces a").await;
    session.text_of("#count", "0 workflows").await;
    session.type_into("#query", "Colour = \"red\"").await;
    session.click("#filter button[type=submit]").await;
    let message = session.text_of("#list-error", "unknown field Colour").await;
    assert!(message.contains("at character 0"), "{message}");

    session
        .open(&format!(
            "{}/namespaces/default/workflows/no-such-workflow",
            setup.ui
        ))
        .await;
    session.text_of("#not-found", "no-such-workflow").await;
    session.close().await;
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_workflow_shows_its_failure_with_the_cause_chain() {
    let setup = Setup::start().await;
    let handle = setup
        .start_workflow(web::YourWorkflow::run, String::new(), "browser-failed")
        .await;
    assert!(matches!(
        handle.result().await,
        Err(Error::WorkflowFailed { .. })
    ));
    let session = Session::start().await;
    session
        .open(&format!(
            "{}/namespaces/default/workflows/browser-failed",
            setup.ui
        ))
        .await;
    let chain = session.text_of("#failure", "nobody to greet").await;
    assert!(chain.contains("ActivityFailure: your_activity"), "{chain}");
    assert!(chain.contains("ApplicationFailure: NoName"), "{chain}");
    assert!(chain.contains("(non-retryable)"), "{chain}");
    // The chart marks the failed activity with an icon and a word, not colour alone.
    let label = session
        .until(
            "the failed activity's bar",
            "const bar = document.querySelector('#timeline-chart .bar[data-kind=activity]');
             return bar && bar.dataset.outcome === 'failed' && bar.querySelector('.bar-label').textContent;",
        )
        .await;
    assert!(label.as_str().unwrap().starts_with("✕ Failed"), "{label}");
    session.screenshot("timeline-failed").await;
    session.close().await;
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_workflow_shows_its_pending_activity_child_and_timer() {
    let setup = Setup::start().await;
    let handle = setup
        .start_workflow(web::Busy::run, (), "browser-busy")
        .await;
    // The page shows what the server knows; wait until it knows the second attempt's
    // heartbeat (the activity heartbeats once, so there is no event to wait on instead).
    let deadline = tokio::time::Instant::now() + PAGE_WAIT;
    loop {
        let described = handle.describe().await.unwrap();
        let beating = described
            .raw
            .pending_activities
            .iter()
            .any(|a| a.attempt == 2 && a.heartbeat_details.is_some());
        if beating && described.pending_children_count == 1 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            described.raw
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let session = Session::start().await;
    session
        .open(&format!(
            "{}/namespaces/default/workflows/browser-busy",
            setup.ui
        ))
        .await;
    let activity = session
        .text_of("#pending-activities", "stubborn_activity")
        .await;
    assert!(activity.contains("2"), "attempt 2: {activity}");
    assert!(activity.contains("the first attempt fails"), "{activity}");
    assert!(activity.contains("halfway"), "{activity}");
    session
        .text_of("#pending-children", "browser-busy-child")
        .await;
    session.text_of("#pending-timers", "3600s").await;
    session.screenshot("workflow-pending").await;

    // The child's link opens the child.
    session.click("#pending-children a").await;
    session.text_of("#workflow-id", "browser-busy-child").await;

    web::release_stubborn("browser-busy");
    handle.terminate("done").await.unwrap();
    session.close().await;
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_pages_filters_by_status_and_refreshes_itself() {
    let setup = Setup::start().await;
    for i in 0..23 {
        setup.hello(&format!("browser-many-{i:02}"), "Ada").await;
    }
    setup.waiter("browser-running").await;
    let session = Session::start().await;
    session
        .open(&format!("{}/namespaces/default/workflows", setup.ui))
        .await;
    let rows = "#workflows tbody tr[data-workflow-id]";
    session.text_of("#count", "24 workflows").await;
    assert_eq!(session.count(rows).await, 20, "a page holds 20");

    session.click("#next").await;
    session.text_of("#page", "Page 2").await;
    assert_eq!(session.count(rows).await, 4);
    session.click("#previous").await;
    session.text_of("#page", "Page 1").await;
    assert_eq!(session.count(rows).await, 20);

    session.click("#status option[value=Running]").await;
    session.text_of("#count", "1 workflow").await;
    session.text_of("#workflows", "browser-running").await;
    assert_eq!(session.count(rows).await, 1);
    assert!(
        session
            .browser
            .current_url()
            .await
            .unwrap()
            .as_str()
            .ends_with("?status=Running")
    );

    // A workflow started meanwhile shows up without a reload.
    setup.waiter("browser-late").await;
    session.text_of("#workflows", "browser-late").await;
    session.text_of("#count", "2 workflows").await;
    session.close().await;
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_click_acts_on_the_run_shown_even_after_a_new_run_took_its_id() {
    let setup = Setup::start().await;
    let first = setup.waiter("browser-reused").await;
    let first_run = first.run_id().unwrap().to_owned();
    let session = Session::start().await;
    // Opened by id alone: the page shows the latest run, the first.
    session
        .open(&format!(
            "{}/namespaces/default/workflows/browser-reused",
            setup.ui
        ))
        .await;
    session.text_of("#run-id", &first_run).await;

    // Meanwhile the first run ends and a second one takes the id.
    first.terminate("replaced").await.unwrap();
    let second = setup.waiter("browser-reused").await;

    // Terminating from the page names the run it shows, so the server refuses (that run
    // is closed) and the new run keeps running.
    session.click("#terminate").await;
    session.text_of("#confirm-run-id", &first_run).await;
    session.click("#confirm-ok").await;
    session.text_of("#confirm-error", "already completed").await;
    assert_eq!(
        second.describe().await.unwrap().info.status,
        WorkflowExecutionStatus::Running
    );
    session.close().await;
    second.terminate("done").await.unwrap();
    setup.stop().await;
}

/// Runs the workflow with two activities (one retried), a timer and a child, and opens its
/// page once the chart is drawn.
async fn several(setup: &Setup, session: &Session, workflow_id: &str) {
    let handle = setup
        .start_workflow(web::Several::run, (), workflow_id)
        .await;
    assert_eq!(
        handle.result().await.unwrap(),
        "Hello, Ada! second time lucky Hello, Grace!"
    );
    session
        .open(&format!(
            "{}/namespaces/default/workflows/{workflow_id}",
            setup.ui
        ))
        .await;
    session
        .until(
            "the timeline chart",
            "return document.querySelectorAll('#timeline-chart .bar').length > 0;",
        )
        .await;
}

/// The chart's bars of one kind as `[name in their label, attempts, parts drawn, outcome]`.
const BARS: &str = "return [...document.querySelectorAll('#timeline-chart .bar')]
    .filter((b) => b.dataset.kind === arguments[0])
    .map((b) => [b.getAttribute('aria-label'), b.dataset.attempts,
        [...b.querySelectorAll('.part')].map((p) => p.dataset.part).join(' '), b.dataset.outcome]);";

async fn bars(session: &Session, kind: &str) -> Vec<(String, String, String, String)> {
    let answer = session
        .browser
        .execute(BARS, vec![json!(kind)])
        .await
        .unwrap();
    serde_json::from_value(answer).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chart_draws_one_bar_per_activity_with_the_retry_as_its_own_segment() {
    let setup = Setup::start().await;
    let session = Session::start().await;
    several(&setup, &session, "browser-several").await;

    let activities = bars(&session, "activity").await;
    assert_eq!(activities.len(), 2, "one bar per activity: {activities:?}");
    let (hello, flaky) = (&activities[0], &activities[1]);
    assert!(hello.0.contains("your_activity"), "{hello:?}");
    assert_eq!(
        (&*hello.1, &*hello.3),
        ("1", "completed"),
        "one attempt: {hello:?}"
    );
    assert!(!hello.2.contains("retry"), "no retry drawn: {hello:?}");
    assert!(flaky.0.contains("flaky_activity"), "{flaky:?}");
    assert_eq!(
        (&*flaky.1, &*flaky.3),
        ("2", "completed"),
        "two attempts: {flaky:?}"
    );
    assert!(
        flaky.2.starts_with("retry"),
        "the earlier attempt is its own segment: {flaky:?}"
    );
    assert!(flaky.0.contains("attempt 2"), "{flaky:?}");
    assert_eq!(bars(&session, "timer").await.len(), 1);
    let children = bars(&session, "child").await;
    assert_eq!(children.len(), 1, "{children:?}");
    assert!(
        children[0].0.contains("browser-several-child"),
        "{children:?}"
    );
    // Outcomes are words beside the bars, not colour alone.
    let labels = session
        .js("return [...document.querySelectorAll('#timeline-chart .bar-label')].map((l) => l.textContent).join('\\n');")
        .await;
    assert!(
        labels
            .as_str()
            .unwrap()
            .contains("✓ Completed · 2 attempts"),
        "{labels}"
    );
    let axis = session
        .js("return document.querySelectorAll('#timeline-chart .tick').length;")
        .await;
    assert!(axis.as_u64().unwrap() >= 2, "a time axis: {axis}");
    session.screenshot("timeline-chart").await;

    // The page and the list say how long the run took, and the list when, relative to now.
    let duration = session.text_of("#run-duration", "").await;
    assert!(
        duration.ends_with(" ms") || duration.ends_with(" s"),
        "{duration}"
    );
    session
        .open(&format!("{}/namespaces/default/workflows", setup.ui))
        .await;
    session
        .text_of("#workflows tr", "browser-several-child")
        .await;
    // The start time reads relative to now ("just now" in its first second), the exact
    // time on hover.
    let start = session
        .until(
            "the start time of the run",
            "const t = document.querySelector('#workflows tr[data-workflow-id=\"browser-several\"] time');
             return t && [t.textContent, t.title];",
        )
        .await;
    let (relative, exact): (String, String) = serde_json::from_value(start).unwrap();
    assert!(
        relative == "just now" || relative.ends_with(" s ago"),
        "{relative}"
    );
    assert!(exact.ends_with(" UTC"), "{exact}");
    let durations = session
        .js("return [...document.querySelectorAll('#workflows tbody tr')].map((r) => r.cells[7].textContent);")
        .await;
    assert!(
        serde_json::from_value::<Vec<String>>(durations.clone())
            .unwrap()
            .iter()
            .all(|d| d.ends_with(" ms") || d.ends_with(" s")),
        "a duration per run: {durations}"
    );
    session.close().await;
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clicking_a_bar_or_pressing_enter_on_it_selects_its_events_in_the_history() {
    let setup = Setup::start().await;
    let session = Session::start().await;
    several(&setup, &session, "browser-select").await;
    let flaky = "#timeline-chart .bar[data-kind=activity][data-attempts='2']";
    let wanted = session
        .js(&format!(
            "return document.querySelector(\"{flaky}\").dataset.events;"
        ))
        .await;
    let wanted = wanted.as_str().unwrap().to_owned();
    assert_eq!(
        wanted.split(' ').count(),
        3,
        "scheduled, started, completed: {wanted}"
    );
    // The ids of the selected rows of the event table.
    const SELECTED: &str = "[...document.querySelectorAll('#timeline tr.selected')]
        .map((r) => r.dataset.eventId).join(' ')";
    assert_eq!(
        session.js(&format!("return {SELECTED};")).await,
        json!(""),
        "nothing chosen yet"
    );

    // On its last segment: the middle of the whole bar (segments and label) can fall in the
    // gap before the label, where the lane's background takes the click.
    session.click(&format!("{flaky} .part-run")).await;
    session
        .until(
            "the activity's events selected",
            &format!("return {SELECTED} === '{wanted}';"),
        )
        .await;
    let rows = session.text_of("#timeline", "ActivityTaskCompleted").await;
    assert!(rows.contains("flaky_activity"), "{rows}");
    session.text_of("#selection", "flaky_activity").await;
    session.screenshot("timeline-selected").await;

    // From the keyboard: the bar one step up is the first activity; Enter chooses it.
    session
        .js(&format!(
            "document.querySelector(\"{flaky}\").focus(); return null;"
        ))
        .await;
    let focused = session.browser.active_element().await.unwrap();
    focused.send_keys("\u{E013}").await.unwrap(); // ArrowUp
    let focused = session.browser.active_element().await.unwrap();
    assert_eq!(
        focused.attr("data-attempts").await.unwrap().as_deref(),
        Some("1"),
        "ArrowUp moves to the lane above"
    );
    focused.send_keys("\u{E007}").await.unwrap(); // Enter
    session.text_of("#selection", "your_activity").await;
    assert_eq!(
        session
            .js("return document.querySelectorAll('#timeline tr.selected').length;")
            .await,
        json!(3)
    );
    session.close().await;
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_grouped_history_folds_each_activity_timer_and_child_into_a_row_counting_attempts() {
    let setup = Setup::start().await;
    let session = Session::start().await;
    several(&setup, &session, "browser-grouped").await;
    session.click("#tab-grouped").await;
    let rows = session
        .until(
            "the grouped rows",
            "const rows = [...document.querySelectorAll('#grouped tbody tr')];
             return rows.length && rows.every((r) => r.offsetParent !== null)
               && rows.map((r) => [...r.cells].map((c) => c.innerText));",
        )
        .await;
    let rows: Vec<Vec<String>> = serde_json::from_value(rows).unwrap();
    let kinds: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        kinds,
        ["Activity", "Activity", "Timer", "Child"],
        "{rows:?}"
    );
    let flaky = &rows[1];
    assert!(flaky[1].contains("flaky_activity"), "{flaky:?}");
    assert_eq!(flaky[2], "2", "attempts: {flaky:?}");
    assert!(flaky[5].contains("Completed"), "{flaky:?}");
    assert!(flaky[5].contains("second time lucky"), "{flaky:?}");
    assert_eq!(rows[0][2], "1", "{rows:?}");
    assert!(rows[3][1].contains("browser-grouped-child"), "{rows:?}");
    assert!(
        session.count("#timeline").await == 1
            && session
                .js("return document.getElementById('timeline').hidden;")
                .await
                == json!(true),
        "the grouped view replaces the event table"
    );
    session.screenshot("history-grouped").await;
    session.close().await;
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_activitys_bar_grows_while_the_page_follows_the_run() {
    let setup = Setup::start().await;
    let handle = setup
        .start_workflow(web::Busy::run, (), "browser-growing")
        .await;
    let session = Session::start().await;
    session
        .open(&format!(
            "{}/namespaces/default/workflows/browser-growing",
            setup.ui
        ))
        .await;
    // The bar of the activity's running second attempt, once the page knows of it.
    // The width of the bar of the activity's running second attempt, once the page knows
    // of it.
    const RUNNING: &str = "(() => {
        const bar = document.querySelector('#timeline-chart .bar[data-kind=activity]');
        const last = bar && bar.querySelector('.part:last-child');
        return bar && bar.dataset.outcome === 'running' && bar.dataset.attempts === '2'
          && last.dataset.part === 'run' && Number(last.getAttribute('width'));
      })()";
    session
        .until("the running second attempt", &format!("return {RUNNING};"))
        .await;
    // Zoomed in, a millisecond has a fixed width, so growing in time is growing on screen.
    session.click("#zoom-in").await;
    let before = session
        .until("the zoomed bar", &format!("return {RUNNING};"))
        .await
        .as_f64()
        .unwrap();
    session
        .until("the bar growing", &format!("return {RUNNING} > {before};"))
        .await;
    let since = session.text_of("#pending-activities", "ago").await;
    assert!(since.contains("stubborn_activity"), "{since}");
    assert_eq!(session.count("#detail-auto-refresh:checked").await, 1);
    session.click("#zoom-fit").await;
    session.screenshot("timeline-pending").await;
    web::release_stubborn("browser-growing");
    handle.terminate("done").await.unwrap();
    session.close().await;
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_follow_a_dark_system_theme() {
    let setup = Setup::start().await;
    let session = Session::start_with(&["--force-dark-mode"]).await;
    several(&setup, &session, "browser-dark").await;
    assert_eq!(
        session
            .js("return matchMedia('(prefers-color-scheme: dark)').matches;")
            .await,
        json!(true),
        "Chromium reports a dark system theme"
    );
    let background = session
        .js("return getComputedStyle(document.documentElement).backgroundColor;")
        .await;
    assert_eq!(background, json!("rgb(21, 25, 35)"), "the dark background");
    let table = session
        .js("return getComputedStyle(document.querySelector('#timeline')).backgroundColor;")
        .await;
    assert_eq!(table, json!("rgb(29, 34, 48)"), "dark tables too");
    session.screenshot("timeline-dark").await;
    session.close().await;
    setup.stop().await;
}
