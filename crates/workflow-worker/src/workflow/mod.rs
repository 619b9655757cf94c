//! The workflow half of the worker: polls workflow tasks (on the task queue and on this
//! worker's sticky queue), runs them on the executor threads and answers the server.

mod executor;
#[cfg(test)]
mod history_builder;
mod machine;
pub(crate) mod replay;
#[cfg(test)]
mod sticky_tests;
mod watchdog;

use std::sync::Arc;

use temporalio_protos::temporal::api::common::v1::{Payloads, WorkflowExecution};
use temporalio_protos::temporal::api::enums::v1::{
    HistoryEventFilterType, QueryResultType, TaskQueueKind,
};
use temporalio_protos::temporal::api::failure::v1::Failure as ProtoFailure;
use temporalio_protos::temporal::api::history::v1::History;
use temporalio_protos::temporal::api::taskqueue::v1::{StickyExecutionAttributes, TaskQueue};
use temporalio_protos::temporal::api::workflowservice::v1 as ws;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use workflow_client::{Client, Error};
use workflow_core::options::duration_to_proto;

pub(crate) use executor::WorkflowRegistry;
use executor::{Executors, Outcome};
pub use machine::TaskError;
pub(crate) use machine::{RunIdentity, RunMachine};

use crate::poll::{POLL_TIMEOUT, PollErrors};
use crate::probe::WorkerProbe;
use crate::{WorkerError, WorkerOptions};

pub(crate) struct WorkflowWorker {
    client: Client,
    task_queue: String,
    sticky_queue: Option<String>,
    identity: String,
    options: WorkerOptions,
    executors: Executors,
    slots: Arc<Semaphore>,
    eager: Option<Arc<crate::worker::Shared>>,
}

/// At most this many activities are requested eagerly per workflow task, as other SDKs do.
const MAX_EAGER_ACTIVITIES: usize = 3;

impl WorkflowWorker {
    pub(crate) fn new(
        client: Client,
        task_queue: String,
        identity: String,
        options: WorkerOptions,
        registry: WorkflowRegistry,
        eager: Option<Arc<crate::worker::Shared>>,
        probe: WorkerProbe,
    ) -> Self {
        let sticky_queue = (options.max_cached_workflows > 0)
            .then(|| format!("{identity}-{}", uuid::Uuid::new_v4().simple()));
        let threads = options.workflow_threads.max(1);
        let executors = Executors::start(
            threads,
            options.max_cached_workflows,
            client.namespace(),
            &task_queue,
            Arc::new(registry),
            probe,
            options.slow_activation_threshold,
        );
        Self {
            slots: Arc::new(Semaphore::new(options.max_concurrent_workflow_tasks.max(1))),
            client,
            task_queue,
            sticky_queue,
            identity,
            options,
            executors,
            eager,
        }
    }

    /// Polls until `stop` is set, then waits for the tasks in flight.
    pub(crate) async fn run(
        self: Arc<Self>,
        stop: watch::Receiver<bool>,
    ) -> Result<(), WorkerError> {
        let mut pollers = JoinSet::new();
        for _ in 0..self.options.workflow_pollers.max(1) {
            pollers.spawn(self.clone().poll_loop(false, stop.clone()));
            if self.sticky_queue.is_some() {
                pollers.spawn(self.clone().poll_loop(true, stop.clone()));
            }
        }
        let mut outcome = Ok(());
        while let Some(ended) = pollers.join_next().await {
            if let Ok(Err(error)) = ended {
                tracing::error!(%error, "workflow polling stopped");
                outcome = Err(error);
                break;
            }
        }
        pollers.shutdown().await;
        let all =
            u32::try_from(self.options.max_concurrent_workflow_tasks.max(1)).unwrap_or(u32::MAX);
        if tokio::time::timeout(
            self.options.graceful_shutdown_timeout,
            self.slots.acquire_many(all),
        )
        .await
        .is_err()
        {
            tracing::warn!("workflow tasks still running at the end of the grace period");
        }
        if let Some(sticky) = &self.sticky_queue {
            let request = ws::ShutdownWorkerRequest {
                namespace: self.client.namespace().to_string(),
                sticky_task_queue: sticky.clone(),
                identity: self.identity.clone(),
                reason: "graceful shutdown".into(),
                ..Default::default()
            };
            // Lets the server route this worker's runs to the normal queue at once; servers
            // without the call time the sticky queue out instead.
            let shutdown = self
                .client
                .call(|mut service| {
                    let request = request.clone();
                    async move { service.shutdown_worker(request).await }
                })
                .await;
            if let Err(error) = shutdown {
                tracing::debug!(%error, "ShutdownWorker failed");
            }
        }
        outcome
    }

    /// Stops the executor threads.
    pub(crate) fn stop(self) {
        self.executors.stop();
    }

    fn queue(&self, sticky: bool) -> TaskQueue {
        match (&self.sticky_queue, sticky) {
            (Some(name), true) => TaskQueue {
                name: name.clone(),
                kind: TaskQueueKind::Sticky as i32,
                normal_name: self.task_queue.clone(),
            },
            _ => TaskQueue {
                name: self.task_queue.clone(),
                kind: TaskQueueKind::Normal as i32,
                normal_name: String::new(),
            },
        }
    }

    async fn poll_loop(
        self: Arc<Self>,
        sticky: bool,
        mut stop: watch::Receiver<bool>,
    ) -> Result<(), WorkerError> {
        let mut errors = PollErrors::new("workflow task");
        loop {
            let permit = tokio::select! {
                biased;
                _ = stop.wait_for(|stopped| *stopped) => return Ok(()),
                permit = self.slots.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            };
            let request = ws::PollWorkflowTaskQueueRequest {
                namespace: self.client.namespace().to_string(),
                task_queue: Some(self.queue(sticky)),
                identity: self.identity.clone(),
                ..Default::default()
            };
            let polled = tokio::select! {
                biased;
                _ = stop.wait_for(|stopped| *stopped) => return Ok(()),
                polled = self.client.call(|mut service| {
                    let mut request = tonic::Request::new(request.clone());
                    request.set_timeout(POLL_TIMEOUT);
                    async move { service.poll_workflow_task_queue(request).await }
                }) => polled,
            };
            match polled {
                Ok(task) if task.task_token.is_empty() => {}
                Ok(task) => {
                    errors.succeeded();
                    let worker = self.clone();
                    tokio::spawn(async move { worker.handle(Box::new(task), permit).await });
                }
                Err(error) => errors.failed(error, &self.task_queue).await?,
            }
        }
    }

    async fn handle(
        &self,
        mut task: Box<ws::PollWorkflowTaskQueueResponse>,
        _permit: OwnedSemaphorePermit,
    ) {
        let execution = task.workflow_execution.clone().unwrap_or_default();
        let token = task.task_token.clone();
        if let Err(error) = self.fetch_remaining_pages(&mut task).await {
            tracing::warn!(workflow_id = %execution.workflow_id, %error, "fetching history failed; the task will time out and be retried");
            return;
        }
        let mut outcome = self.executors.submit(task).await;
        if let Outcome::NeedFullHistory(mut task) = outcome {
            if let Err(error) = self.fetch_full_history(&mut task).await {
                tracing::warn!(workflow_id = %execution.workflow_id, %error, "fetching history failed; the task will time out and be retried");
                return;
            }
            outcome = self.executors.submit(task).await;
        }
        // A failed task already left the cache; a completion the server refused (the run
        // closed meanwhile, or new events made the commands stale) leaves the cached run
        // ahead of history.
        match self.respond(token, outcome).await {
            Ok(false) => {}
            // The next task's history goes back to before the discarded one.
            Ok(true) => self.executors.evict(&execution.run_id),
            Err(error) => {
                tracing::warn!(workflow_id = %execution.workflow_id, run_id = %execution.run_id, %error, "answering a workflow task failed; dropping the run from the cache");
                self.executors.evict(&execution.run_id);
            }
        }
    }

    /// Marks activities this worker can run right away for eager execution, holding a slot
    /// for each so the server's answer never exceeds the activity limit.
    fn request_eager_activities(
        &self,
        commands: &mut [temporalio_protos::temporal::api::command::v1::Command],
    ) -> Vec<OwnedSemaphorePermit> {
        use temporalio_protos::temporal::api::command::v1::command::Attributes;
        let Some(activities) = &self.eager else {
            return Vec::new();
        };
        let mut permits = Vec::new();
        for command in commands {
            if permits.len() == MAX_EAGER_ACTIVITIES {
                break;
            }
            let Some(Attributes::ScheduleActivityTaskCommandAttributes(a)) =
                &mut command.attributes
            else {
                continue;
            };
            let same_queue = a
                .task_queue
                .as_ref()
                .is_some_and(|q| q.name == self.task_queue);
            let known = a
                .activity_type
                .as_ref()
                .is_some_and(|t| activities.activities.get(&t.name).is_some());
            if !(same_queue && known) {
                continue;
            }
            let Ok(permit) = activities.slots.clone().try_acquire_owned() else {
                break;
            };
            a.request_eager_execution = true;
            permits.push(permit);
        }
        permits
    }

    async fn history_page(
        &self,
        execution: &WorkflowExecution,
        next_page_token: Vec<u8>,
    ) -> Result<ws::GetWorkflowExecutionHistoryResponse, Error> {
        let request = ws::GetWorkflowExecutionHistoryRequest {
            namespace: self.client.namespace().to_string(),
            execution: Some(execution.clone()),
            next_page_token,
            history_event_filter_type: HistoryEventFilterType::AllEvent as i32,
            ..Default::default()
        };
        self.client
            .call(|mut service| {
                let request = request.clone();
                async move { service.get_workflow_execution_history(request).await }
            })
            .await
    }

    /// Large histories arrive in pages: the task carries the first.
    async fn fetch_remaining_pages(
        &self,
        task: &mut ws::PollWorkflowTaskQueueResponse,
    ) -> Result<(), Error> {
        let execution = task.workflow_execution.clone().unwrap_or_default();
        let mut token = std::mem::take(&mut task.next_page_token);
        while !token.is_empty() {
            let page = self.history_page(&execution, token).await?;
            let history = task.history.get_or_insert_with(History::default);
            history
                .events
                .extend(page.history.map(|h| h.events).unwrap_or_default());
            token = page.next_page_token;
        }
        Ok(())
    }

    /// The whole history up to the task, for a run this worker no longer caches.
    async fn fetch_full_history(
        &self,
        task: &mut ws::PollWorkflowTaskQueueResponse,
    ) -> Result<(), Error> {
        let execution = task.workflow_execution.clone().unwrap_or_default();
        let mut events = Vec::new();
        let mut token = Vec::new();
        loop {
            let page = self.history_page(&execution, token).await?;
            events.extend(page.history.map(|h| h.events).unwrap_or_default());
            token = page.next_page_token;
            if token.is_empty() {
                break;
            }
        }
        // Events after the task's start (a signal that just arrived) belong to the next task.
        if task.started_event_id > 0 {
            events.retain(|e| e.event_id <= task.started_event_id);
        }
        task.history = Some(History { events });
        Ok(())
    }

    /// Answers a task; `Ok(true)` when the server discarded the completed task (a
    /// speculative one that only rejected updates), so the cached run is ahead of history.
    async fn respond(&self, task_token: Vec<u8>, outcome: Outcome) -> Result<bool, Error> {
        let namespace = self.client.namespace().to_string();
        let identity = self.identity.clone();
        match outcome {
            Outcome::Complete {
                mut commands,
                messages,
                query_results,
            } => {
                let permits = self.request_eager_activities(&mut commands);
                let request = ws::RespondWorkflowTaskCompletedRequest {
                    task_token,
                    commands,
                    messages,
                    identity,
                    namespace,
                    query_results,
                    // A discarded task's run is replayed, so its events may come again.
                    capabilities: Some(ws::respond_workflow_task_completed_request::Capabilities {
                        discard_speculative_workflow_task_with_events: true,
                    }),
                    sticky_attributes: self.sticky_queue.as_ref().map(|_| {
                        StickyExecutionAttributes {
                            worker_task_queue: Some(self.queue(true)),
                            schedule_to_start_timeout: duration_to_proto(
                                self.options.sticky_queue_schedule_to_start_timeout,
                            ),
                        }
                    }),
                    ..Default::default()
                };
                let response = self
                    .client
                    .call(|mut service| {
                        let request = request.clone();
                        async move { service.respond_workflow_task_completed(request).await }
                    })
                    .await?;
                if let Some(activities) = &self.eager {
                    for (task, permit) in response.activity_tasks.into_iter().zip(permits) {
                        crate::worker::start(activities, task, permit);
                    }
                }
                Ok(response.reset_history_event_id != 0)
            }
            Outcome::Fail { cause, message } => {
                let request = ws::RespondWorkflowTaskFailedRequest {
                    task_token,
                    cause: cause as i32,
                    failure: Some(ProtoFailure {
                        message,
                        source: "workflow-rust".into(),
                        ..Default::default()
                    }),
                    identity,
                    namespace,
                    ..Default::default()
                };
                self.client
                    .call(|mut service| {
                        let request = request.clone();
                        async move { service.respond_workflow_task_failed(request).await }
                    })
                    .await
                    .map(|_| false)
            }
            Outcome::QueryAnswer(answer) => {
                let result = executor::query_result(answer);
                let request = ws::RespondQueryTaskCompletedRequest {
                    task_token,
                    completed_type: result.result_type,
                    query_result: result.answer.or_else(|| {
                        (result.result_type == QueryResultType::Answered as i32)
                            .then(Payloads::default)
                    }),
                    error_message: result.error_message,
                    failure: result.failure,
                    namespace,
                    ..Default::default()
                };
                self.client
                    .call(|mut service| {
                        let request = request.clone();
                        async move { service.respond_query_task_completed(request).await }
                    })
                    .await
                    .map(|_| false)
            }
            Outcome::NeedFullHistory(_) => Err(Error::Config(
                "the run's history was still partial after fetching it all".into(),
            )),
        }
    }
}
