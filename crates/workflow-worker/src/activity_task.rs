//! One activity task: context, heartbeats, execution and the answer to the server.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use temporalio_protos::temporal::api::workflowservice::v1 as ws;
use tokio::sync::Notify;
use workflow_client::{Client, Error};
use workflow_core::activity::{
    ActivityCanceller, ActivityContext, ActivityError, ActivityInfo, CancelReason, HeartbeatSink,
};
use workflow_core::failure::Failure;
use workflow_core::options::{duration_from_proto, time_from_proto};
use workflow_core::payload::{Payload, RawPayload, RawPayloads};

use crate::worker::Shared;

/// Heartbeat details recorded by the activity, sent by [`heartbeat_loop`].
#[derive(Default)]
pub(crate) struct Heartbeats {
    pending: Mutex<Option<Vec<Payload>>>,
    latest: Mutex<Vec<Payload>>,
    recorded: Notify,
}

impl HeartbeatSink for Heartbeats {
    fn record(&self, details: Vec<Payload>) {
        *self.latest.lock().unwrap_or_else(|e| e.into_inner()) = details.clone();
        *self.pending.lock().unwrap_or_else(|e| e.into_inner()) = Some(details);
        self.recorded.notify_one();
    }
}

/// The activity's context and the worker-side handles to it.
pub(crate) fn context_for(
    shared: &Shared,
    task: &ws::PollActivityTaskQueueResponse,
) -> (ActivityContext, ActivityCanceller, Arc<Heartbeats>) {
    let execution = task.workflow_execution.clone().unwrap_or_default();
    let info = ActivityInfo {
        activity_id: task.activity_id.clone(),
        activity_type: task
            .activity_type
            .as_ref()
            .map(|t| t.name.clone())
            .unwrap_or_default(),
        task_queue: shared.task_queue.clone(),
        workflow_namespace: task.workflow_namespace.clone(),
        workflow_id: execution.workflow_id,
        workflow_run_id: execution.run_id,
        workflow_type: task
            .workflow_type
            .as_ref()
            .map(|t| t.name.clone())
            .unwrap_or_default(),
        attempt: u32::try_from(task.attempt).unwrap_or(1),
        task_token: task.task_token.clone(),
        scheduled_time: task.scheduled_time.as_ref().and_then(time_from_proto),
        started_time: task.started_time.as_ref().and_then(time_from_proto),
        schedule_to_close_timeout: task
            .schedule_to_close_timeout
            .as_ref()
            .and_then(duration_from_proto),
        start_to_close_timeout: task
            .start_to_close_timeout
            .as_ref()
            .and_then(duration_from_proto),
        heartbeat_timeout: task
            .heartbeat_timeout
            .as_ref()
            .and_then(duration_from_proto),
    };
    let heartbeats = Arc::new(Heartbeats::default());
    let last_details = task
        .heartbeat_details
        .clone()
        .map(|p| p.payloads)
        .unwrap_or_default();
    let (context, canceller) = ActivityContext::new(info, last_details, heartbeats.clone());
    (context, canceller, heartbeats)
}

/// Runs the activity and reports its outcome.
pub(crate) async fn run(
    shared: &Shared,
    task: ws::PollActivityTaskQueueResponse,
    context: ActivityContext,
    canceller: Arc<ActivityCanceller>,
    heartbeats: Arc<Heartbeats>,
) {
    let info = context.info().clone();
    let span = tracing::debug_span!("activity", activity_type = %info.activity_type, activity_id = %info.activity_id, attempt = info.attempt);
    let _entered = span.enter();
    let throttle = shared.options.heartbeat_throttle(info.heartbeat_timeout);
    let heartbeat = tokio::spawn(heartbeat_loop(
        shared.client.clone(),
        info.task_token.clone(),
        heartbeats.clone(),
        canceller,
        throttle,
    ));
    drop(_entered);

    let outcome = match shared.activities.get(&info.activity_type) {
        None => Err(ActivityError::failure(Failure::application(
            "NotFoundError",
            format!(
                "activity type `{}` is not registered on this worker (task queue `{}`); registered: {}",
                info.activity_type,
                shared.task_queue,
                shared.activities.names().join(", ")
            ),
        ))),
        Some(activity) => {
            let input = task.input.map(|p| p.payloads).unwrap_or_default();
            let converter = shared.client.converter().clone();
            AssertUnwindSafe(activity.execute(context, input, converter))
                .catch_unwind()
                .await
                .unwrap_or_else(|panic| {
                    let message = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "activity panicked".to_owned());
                    Err(ActivityError::failure(Failure::application(
                        "Panic", message,
                    )))
                })
        }
    };
    heartbeat.abort();

    let latest = std::mem::take(&mut *heartbeats.latest.lock().unwrap_or_else(|e| e.into_inner()));
    let result = respond(shared, info.task_token, outcome, latest).await;
    match result {
        Ok(()) => {}
        // The attempt timed out or was completed elsewhere meanwhile.
        Err(Error::NotFound { message }) => {
            tracing::debug!(%message, activity_id = %info.activity_id, "activity result not accepted")
        }
        Err(error) => {
            tracing::warn!(%error, activity_id = %info.activity_id, "reporting the activity result failed")
        }
    }
}

async fn respond(
    shared: &Shared,
    task_token: Vec<u8>,
    outcome: Result<Payload, ActivityError>,
    last_heartbeat: Vec<Payload>,
) -> Result<(), Error> {
    let handle = shared
        .client
        .async_activity_handle(task_token)
        .with_identity(shared.identity.clone());
    match outcome {
        Ok(result) => handle.complete(&RawPayload(result)).await,
        Err(ActivityError::Failed(failure)) => {
            tracing::debug!(%failure, "activity failed");
            handle.fail_with_heartbeat(&failure, last_heartbeat).await
        }
        Err(ActivityError::Cancelled { details }) => {
            handle.report_cancellation(RawPayloads(details)).await
        }
        Err(ActivityError::WillCompleteAsync) => Ok(()),
    }
}

/// Sends recorded heartbeats, at most one per `throttle`, and turns a cancellation request in
/// the answer into a cancellation of the activity's context.
async fn heartbeat_loop(
    client: Client,
    task_token: Vec<u8>,
    heartbeats: Arc<Heartbeats>,
    canceller: Arc<ActivityCanceller>,
    throttle: Duration,
) {
    let handle = client.async_activity_handle(task_token);
    loop {
        heartbeats.recorded.notified().await;
        loop {
            let details = heartbeats
                .pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            let Some(details) = details else { break };
            let sent = match details.into_iter().next() {
                Some(payload) => handle.heartbeat(RawPayload(payload)).await,
                None => handle.heartbeat(()).await,
            };
            match sent {
                Ok(answer) if answer.cancel_requested => canceller.cancel(CancelReason::Requested),
                Ok(_) => {}
                Err(Error::NotFound { .. }) => canceller.cancel(CancelReason::GoneFromServer),
                Err(error) => tracing::warn!(%error, "heartbeat failed"),
            }
            tokio::time::sleep(throttle).await;
        }
    }
}
