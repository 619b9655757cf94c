//! The worker: registration, polling, concurrency and shutdown.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;
use temporalio_protos::temporal::api::enums::v1::TaskQueueKind;
use temporalio_protos::temporal::api::taskqueue::v1::TaskQueue;
use temporalio_protos::temporal::api::workflowservice::v1::{
    PollActivityTaskQueueRequest, PollActivityTaskQueueResponse,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::{AbortHandle, JoinSet};
use workflow_client::{Client, Error};
use workflow_core::activity::{
    Activities, Activity, ActivityCanceller, ActivitySink, CancelReason,
};
use workflow_core::registry::{Kind, Registrable, Registration, registered};
use workflow_core::workflow::Workflow;
use workflow_core::workflow::runtime::WorkflowFactory;

use crate::activity_task;
use crate::poll::{POLL_TIMEOUT, PollErrors};
use crate::probe::WorkerProbe;
use crate::registry::ActivityRegistry;
use crate::workflow::{WorkflowRegistry, WorkflowWorker};
use crate::{WorkerError, WorkerOptions};

/// Polls one task queue and runs the workflows and activities registered on it.
///
/// `run()` is `Send`: spawn it on any runtime thread. See the [crate docs](crate) for an
/// example.
pub struct Worker {
    client: Client,
    task_queue: String,
    options: WorkerOptions,
    activities: ActivityRegistry,
    workflows: WorkflowRegistry,
    shutdown: Arc<watch::Sender<bool>>,
    probe: WorkerProbe,
}

impl ActivitySink for Worker {
    fn add_activity<A: Activity>(self, activity: A) -> Self {
        self.register_activity(activity)
    }
}

/// Stops a running worker: polling ends, running activities get the grace period.
#[derive(Debug, Clone)]
pub struct ShutdownHandle(Arc<watch::Sender<bool>>);

impl ShutdownHandle {
    /// Asks the worker to shut down; [`Worker::run`] returns once it has.
    pub fn shutdown(&self) {
        self.0.send_replace(true);
    }
}

/// What the pollers and running activities share.
pub(crate) struct Shared {
    pub(crate) client: Client,
    pub(crate) task_queue: String,
    pub(crate) identity: String,
    pub(crate) options: WorkerOptions,
    pub(crate) activities: ActivityRegistry,
    pub(crate) slots: Arc<Semaphore>,
    running: Mutex<HashMap<u64, Running>>,
    next_id: AtomicU64,
    probe: WorkerProbe,
}

struct Running {
    canceller: Arc<ActivityCanceller>,
    abort: AbortHandle,
}

impl Worker {
    /// A worker for `task_queue`, with default options.
    pub fn new(client: Client, task_queue: impl Into<String>) -> Self {
        Self {
            client,
            task_queue: task_queue.into(),
            options: WorkerOptions::default(),
            activities: ActivityRegistry::default(),
            workflows: WorkflowRegistry::default(),
            shutdown: Arc::new(watch::channel(false).0),
            probe: WorkerProbe::default(),
        }
    }

    /// Sets the options.
    pub fn options(mut self, options: WorkerOptions) -> Self {
        self.options = options;
        self
    }

    /// Registers an activity; one value serves every task of its type.
    pub fn register_activity<A: Activity>(mut self, activity: A) -> Self {
        self.activities.register(activity);
        self
    }

    /// Registers every activity of a group sharing one state value (an `#[activities]`
    /// impl block): one value serves all their tasks, concurrently.
    pub fn register_activities<G: Activities>(self, group: G) -> Self {
        Arc::new(group).register(self)
    }

    /// Registers every `#[workflow]` and `#[activity]` of the program (see
    /// [`workflow_core::registry`]). Fails when two of the same kind share a type name,
    /// naming both definitions.
    pub fn register_all(self) -> Result<Self, WorkerError> {
        self.register_all_matching(|_| true)
    }

    /// Registers the listed workflows and activities that `keep` accepts (e.g. those of one
    /// module).
    pub fn register_all_matching(
        mut self,
        keep: impl Fn(&Registration) -> bool,
    ) -> Result<Self, WorkerError> {
        let mut seen: HashMap<(Kind, &str), &Registration> = HashMap::new();
        for item in registered().into_iter().filter(|r| keep(r)) {
            if let Some(first) = seen.insert((item.kind(), item.name), item) {
                return Err(WorkerError::DuplicateDefinition {
                    kind: match item.kind() {
                        Kind::Workflow => "workflow",
                        Kind::Activity => "activity",
                    },
                    name: item.name.to_string(),
                    first: first.location(),
                    second: item.location(),
                });
            }
            match item.make() {
                Registrable::Workflow(factory) => self.workflows.register(factory),
                Registrable::Activity(activity) => self.activities.register_erased(activity),
            }
        }
        Ok(self)
    }

    /// Registers a workflow type.
    pub fn register_workflow<W: Workflow>(mut self) -> Self {
        self.workflows.register(WorkflowFactory::of::<W>());
        self
    }

    /// A handle that shuts the worker down.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.shutdown.clone())
    }

    /// Counts of what this worker holds (cached runs, tracked activities), for tests of its
    /// memory bounds.
    #[doc(hidden)]
    pub fn probe(&self) -> WorkerProbe {
        self.probe.clone()
    }

    /// The task queue polled.
    pub fn task_queue(&self) -> &str {
        &self.task_queue
    }

    /// Polls and runs tasks until shut down (or polling fails in a way retrying cannot fix),
    /// then drains running activities.
    pub async fn run(self) -> Result<(), WorkerError> {
        self.run_here().await
    }

    /// An async body is compiled where it is polled: boxed here, the whole polling machinery
    /// is compiled once, with this crate, instead of in every program that awaits `run`.
    fn run_here(self) -> BoxFuture<'static, Result<(), WorkerError>> {
        Box::pin(self.run_polling())
    }

    async fn run_polling(self) -> Result<(), WorkerError> {
        self.activities.validate()?;
        if let Some(name) = self.workflows.duplicate {
            return Err(WorkerError::DuplicateWorkflow {
                name: name.to_string(),
            });
        }
        if self.activities.is_empty() && self.workflows.is_empty() {
            return Err(WorkerError::NothingRegistered {
                task_queue: self.task_queue,
            });
        }
        let identity = self
            .options
            .identity
            .clone()
            .unwrap_or_else(|| self.client.identity().to_owned());
        let max = self.options.max_concurrent_activities.max(1);
        let shared = Arc::new(Shared {
            identity: identity.clone(),
            client: self.client.clone(),
            task_queue: self.task_queue.clone(),
            options: self.options.clone(),
            activities: self.activities,
            slots: Arc::new(Semaphore::new(max)),
            running: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            probe: self.probe.clone(),
        });
        // Activities scheduled by this worker's workflows on its own queue can be handed
        // straight back with the workflow task's answer (eager execution).
        let eager = (!shared.activities.is_empty()).then(|| shared.clone());
        let workflows = (!self.workflows.is_empty()).then(|| {
            Arc::new(WorkflowWorker::new(
                self.client,
                self.task_queue,
                identity,
                self.options,
                self.workflows.clone(),
                eager,
                self.probe.clone(),
            ))
        });
        tracing::info!(
            task_queue = %shared.task_queue,
            workflows = ?self.workflows.names(),
            activities = ?shared.activities.names(),
            "worker started"
        );

        let mut stop = self.shutdown.subscribe();
        let mut pollers = JoinSet::new();
        if !shared.activities.is_empty() {
            for _ in 0..shared.options.activity_pollers.max(1) {
                pollers.spawn(poll_loop(shared.clone(), self.shutdown.subscribe()));
            }
        }
        if let Some(workflows) = &workflows {
            pollers.spawn(workflows.clone().run(self.shutdown.subscribe()));
        }
        let mut outcome = Ok(());
        tokio::select! {
            _ = stop.wait_for(|stopped| *stopped) => {}
            Some(ended) = pollers.join_next() => {
                if let Ok(Err(error)) = ended {
                    tracing::error!(%error, "worker stopping");
                    outcome = Err(error);
                }
            }
        }
        self.shutdown.send_replace(true);
        // The workflow half drains its own tasks before its future ends.
        while let Some(ended) = pollers.join_next().await {
            if let (Ok(Err(error)), Ok(())) = (ended, &outcome) {
                outcome = Err(error);
            }
        }
        drain(&shared, max).await;
        if let Some(workflows) = workflows
            && let Ok(workflows) = Arc::try_unwrap(workflows)
        {
            tokio::task::spawn_blocking(move || workflows.stop())
                .await
                .ok();
        }
        tracing::info!(task_queue = %shared.task_queue, "worker stopped");
        outcome
    }
}

/// Waits for running activities: first the grace period, then, after cancelling them, as long
/// again before abandoning the rest (the server times those out).
async fn drain(shared: &Shared, max: usize) {
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    let grace = shared.options.graceful_shutdown_timeout;
    if tokio::time::timeout(grace, shared.slots.acquire_many(all))
        .await
        .is_ok()
    {
        return;
    }
    cancel_all(shared);
    if tokio::time::timeout(grace, shared.slots.acquire_many(all))
        .await
        .is_err()
    {
        let running = shared.running.lock().unwrap_or_else(|e| e.into_inner());
        tracing::warn!(
            count = running.len(),
            "abandoning activities that ignored cancellation"
        );
        for task in running.values() {
            task.abort.abort();
        }
    }
}

/// Cancels every running activity; a separate function so no lock guard lives in an async
/// function's state.
fn cancel_all(shared: &Shared) {
    let running = shared.running.lock().unwrap_or_else(|e| e.into_inner());
    tracing::warn!(
        count = running.len(),
        "grace period over; cancelling running activities"
    );
    for task in running.values() {
        task.canceller.cancel(CancelReason::WorkerShutdown);
    }
}

async fn poll_loop(
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), WorkerError> {
    let mut errors = PollErrors::new("activity task");
    loop {
        let permit = tokio::select! {
            biased;
            _ = stop.wait_for(|stopped| *stopped) => return Ok(()),
            permit = shared.slots.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
        };
        let polled = tokio::select! {
            biased;
            _ = stop.wait_for(|stopped| *stopped) => return Ok(()),
            polled = poll(&shared) => polled,
        };
        match polled {
            // The long poll expired without a task.
            Ok(task) if task.task_token.is_empty() => {}
            Ok(task) => {
                errors.succeeded();
                start(&shared, task, permit);
            }
            Err(error) => errors.failed(error, &shared.task_queue).await?,
        }
    }
}

async fn poll(shared: &Shared) -> Result<PollActivityTaskQueueResponse, Error> {
    let request = PollActivityTaskQueueRequest {
        namespace: shared.client.namespace().to_owned(),
        task_queue: Some(TaskQueue {
            name: shared.task_queue.clone(),
            kind: TaskQueueKind::Normal as i32,
            normal_name: String::new(),
        }),
        identity: shared.identity.clone(),
        ..Default::default()
    };
    shared
        .client
        .call(|mut service| {
            let mut request = tonic::Request::new(request.clone());
            request.set_timeout(POLL_TIMEOUT);
            async move { service.poll_activity_task_queue(request).await }
        })
        .await
}

/// Runs a polled task on its own tokio task; the permit is its concurrency slot.
pub(crate) fn start(
    shared: &Arc<Shared>,
    task: PollActivityTaskQueueResponse,
    permit: OwnedSemaphorePermit,
) {
    let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
    let (context, canceller, heartbeats) = activity_task::context_for(shared, &task);
    let canceller = Arc::new(canceller);
    // Held while spawning, so the task cannot remove its entry before it exists.
    let mut running = shared.running.lock().unwrap_or_else(|e| e.into_inner());
    let task_shared = shared.clone();
    let task_canceller = canceller.clone();
    let handle = tokio::spawn(async move {
        activity_task::run(&task_shared, task, context, task_canceller, heartbeats).await;
        let mut running = task_shared
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        running.remove(&id);
        task_shared.probe.0.running_activities(running.len());
        drop(running);
        drop(permit);
    });
    running.insert(
        id,
        Running {
            canceller,
            abort: handle.abort_handle(),
        },
    );
    shared.probe.0.running_activities(running.len());
}
