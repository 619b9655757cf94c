//! What the Web UI tests share: a server with its UI on a free port, a worker hosting the
//! guide's hello workflow and a workflow that waits for a signal, and our client.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use workflow_client::WorkflowHandle;
use workflow_core::prelude::*;
use workflow_server::ServerOptions;

use crate::support::ServerWithWorker;

pub const TASK_QUEUE: &str = "web-ui";

#[derive(Serialize, Deserialize)]
pub struct YourParams {
    pub greeting: String,
    pub name: String,
}

#[activity]
pub async fn your_activity(
    _ctx: ActivityContext,
    input: YourParams,
) -> Result<String, ActivityError> {
    if input.name.is_empty() {
        return Err(ActivityError::non_retryable("NoName", "nobody to greet"));
    }
    Ok(format!("{}, {}!", input.greeting, input.name))
}

/// Lets the `stubborn_activity` of workflow `workflow_id` finish (now, or as soon as it
/// waits).
pub fn release_stubborn(workflow_id: &str) {
    stubborn_release(workflow_id).notify_one();
}

/// The release of one workflow's `stubborn_activity`. Keyed by workflow id rather than one
/// static, because the API and browser tests share this process and run at the same time.
fn stubborn_release(workflow_id: &str) -> Arc<tokio::sync::Notify> {
    static RELEASES: LazyLock<Mutex<HashMap<String, Arc<tokio::sync::Notify>>>> =
        LazyLock::new(Mutex::default);
    let mut releases = RELEASES.lock().unwrap();
    Arc::clone(releases.entry(workflow_id.to_owned()).or_default())
}

/// Fails its first attempt; the second heartbeats and runs until released.
#[activity]
pub async fn stubborn_activity(ctx: ActivityContext, _input: ()) -> Result<(), ActivityError> {
    if ctx.info().attempt == 1 {
        return Err(ActivityError::retryable("Flaky", "the first attempt fails"));
    }
    ctx.heartbeat(&"halfway".to_string()).unwrap();
    let release = stubborn_release(&ctx.info().workflow_id);
    tokio::select! {
        _ = release.notified() => Ok(()),
        reason = ctx.cancelled() => Err(ActivityError::retryable("Cancelled", format!("{reason:?}"))),
    }
}

/// Fails its first attempt; the second succeeds.
#[activity]
pub async fn flaky_activity(ctx: ActivityContext, _input: ()) -> Result<String, ActivityError> {
    if ctx.info().attempt == 1 {
        return Err(ActivityError::retryable("Flaky", "the first attempt fails"));
    }
    Ok("second time lucky".into())
}

/// Something of each kind for the timeline: two activities (the second retried once), a
/// timer and a child.
#[workflow(name = "Several")]
#[derive(Default)]
pub struct Several;

#[workflow]
impl Several {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<String> {
        let params = YourParams {
            greeting: "Hello".into(),
            name: "Ada".into(),
        };
        let options = ActivityOptions::start_to_close(Duration::from_secs(10));
        let greeting = ctx.execute_activity(your_activity, params, options).await?;
        let mut options = ActivityOptions::start_to_close(Duration::from_secs(10));
        options.retry_policy =
            Some(RetryPolicy::default().initial_interval(Duration::from_millis(10)));
        let flaky = ctx.execute_activity(flaky_activity, (), options).await?;
        ctx.sleep(Duration::from_millis(20)).await?;
        let child_id = format!("{}-child", ctx.info().workflow_id);
        let child = ctx
            .execute_child_workflow(
                YourWorkflow::run,
                "Grace".to_string(),
                ChildWorkflowOptions::new().id(child_id),
            )
            .await?;
        Ok(format!("{greeting} {flaky} {child}"))
    }
}

/// Waits on everything a workflow page lists as pending: an activity, a child and a timer.
#[workflow(name = "Busy")]
#[derive(Default)]
pub struct Busy;

#[workflow]
impl Busy {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        let mut options = ActivityOptions::start_to_close(Duration::from_secs(3600));
        options.retry_policy =
            Some(RetryPolicy::default().initial_interval(Duration::from_millis(10)));
        let activity = ctx.execute_activity(stubborn_activity, (), options);
        let child_id = format!("{}-child", ctx.info().workflow_id);
        let child =
            ctx.execute_child_workflow(Waiter::run, (), ChildWorkflowOptions::new().id(child_id));
        let timer = ctx.sleep(Duration::from_secs(3600));
        let _ = futures::join!(activity, child, timer);
        Ok(())
    }
}

#[workflow(name = "YourWorkflow")]
#[derive(Default)]
pub struct YourWorkflow;

#[workflow]
impl YourWorkflow {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
        let params = YourParams {
            greeting: "Hello".into(),
            name,
        };
        let options = ActivityOptions::start_to_close(Duration::from_secs(10));
        Ok(ctx.execute_activity(your_activity, params, options).await?)
    }
}

/// Runs until the `finish` signal, and answers what it carried; takes notes by update.
#[workflow(name = "Waiter")]
#[derive(Default)]
pub struct Waiter {
    got: Option<String>,
    notes: Vec<String>,
}

#[workflow]
impl Waiter {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<String> {
        ctx.wait_condition(|s: &Self| s.got.is_some()).await;
        Ok(format!(
            "got {}",
            ctx.state(|s| s.got.clone().unwrap_or_default())
        ))
    }

    #[signal]
    pub fn finish(&mut self, value: String) {
        self.got = Some(value);
    }

    /// Keeps a note; answers how many there are.
    #[update]
    pub async fn note(ctx: WorkflowContext<Self>, text: String) -> WorkflowResult<usize> {
        Ok(ctx.state_mut(|s| {
            s.notes.push(text);
            s.notes.len()
        }))
    }

    #[validator(note)]
    pub fn check_note(&self, text: &str) -> Result<(), String> {
        if text.is_empty() {
            return Err("an empty note".into());
        }
        Ok(())
    }
}

/// A server with its UI, and a worker for the workflows above.
pub struct Setup {
    running: ServerWithWorker,
    /// `http://127.0.0.1:<ui port>`.
    pub ui: String,
}

impl Setup {
    pub async fn start() -> Self {
        let running = ServerWithWorker::start(ServerOptions::new().ui_port(0), TASK_QUEUE, |w| {
            w.register_workflow::<YourWorkflow>()
                .register_workflow::<Waiter>()
                .register_workflow::<Busy>()
                .register_workflow::<Several>()
                .register_activity(your_activity)
                .register_activity(flaky_activity)
                .register_activity(stubborn_activity)
        })
        .await;
        let ui = format!(
            "http://{}",
            running.server.ui_address().expect("the UI was asked for")
        );
        Self { running, ui }
    }

    /// Runs the hello workflow for `name` to completion.
    pub async fn hello(
        &self,
        workflow_id: &str,
        name: &str,
    ) -> WorkflowHandle<impl WorkflowDefinition<Output = String>> {
        let handle = self
            .running
            .client
            .start_workflow(
                YourWorkflow::run,
                name.to_string(),
                WorkflowOptions::new(workflow_id, TASK_QUEUE),
            )
            .await
            .unwrap();
        assert_eq!(handle.result().await.unwrap(), format!("Hello, {name}!"));
        handle
    }

    /// Starts a workflow and answers its handle, without waiting for it.
    pub async fn start_workflow<D: WorkflowDefinition>(
        &self,
        workflow: D,
        input: D::Input,
        workflow_id: &str,
    ) -> WorkflowHandle<D> {
        self.running
            .client
            .start_workflow(
                workflow,
                input,
                WorkflowOptions::new(workflow_id, TASK_QUEUE),
            )
            .await
            .unwrap()
    }

    /// Starts a waiter; it runs until signalled.
    pub async fn waiter(
        &self,
        workflow_id: &str,
    ) -> WorkflowHandle<impl WorkflowDefinition<Output = String>> {
        self.start_workflow(Waiter::run, (), workflow_id).await
    }

    pub async fn stop(self) {
        self.running.stop().await;
    }
}
