//! Completing an activity from outside its worker (asynchronous activity completion).

use temporalio_protos::temporal::api::workflowservice::v1 as ws;
use workflow_core::failure::Failure;
use workflow_core::payload::{Payload, PayloadArgs, PayloadValue};

use crate::client::payloads;
use crate::{Client, Error};

/// Completes, fails, cancels or heartbeats one activity attempt by its task token.
///
/// An activity that hands its task token to another system and tells its worker it will be
/// completed asynchronously is finished through this handle.
///
/// ```no_run
/// # async fn run(client: workflow_client::Client, token: Vec<u8>) -> Result<(), workflow_client::Error> {
/// client.async_activity_handle(token).complete(&"approved".to_string()).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AsyncActivityHandle {
    client: Client,
    task_token: Vec<u8>,
    identity: String,
}

/// What a heartbeat learned about the activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeartbeatResponse {
    /// The workflow asked to cancel the activity.
    pub cancel_requested: bool,
    /// The activity was paused.
    pub paused: bool,
}

impl AsyncActivityHandle {
    pub(crate) fn new(client: Client, task_token: Vec<u8>) -> Self {
        let identity = client.identity().to_owned();
        Self {
            client,
            task_token,
            identity,
        }
    }

    /// Records another identity than the client's with the answers (e.g. a worker's).
    pub fn with_identity(mut self, identity: impl Into<String>) -> Self {
        self.identity = identity.into();
        self
    }

    /// The task token.
    pub fn task_token(&self) -> &[u8] {
        &self.task_token
    }

    /// Completes the activity with a result. An attempt that already ended is
    /// [`Error::NotFound`].
    pub async fn complete<T: PayloadValue>(&self, result: &T) -> Result<(), Error> {
        let result = self.client.converter().to_payload(result)?;
        let request = ws::RespondActivityTaskCompletedRequest {
            task_token: self.task_token.clone(),
            result: payloads(vec![result]),
            identity: self.identity.clone(),
            namespace: self.client.namespace().to_owned(),
            ..Default::default()
        };
        self.client
            .call(|mut s| {
                let request = request.clone();
                async move { s.respond_activity_task_completed(request).await }
            })
            .await?;
        Ok(())
    }

    /// Fails the activity attempt; the activity's retry policy decides what follows.
    pub async fn fail(&self, failure: &Failure) -> Result<(), Error> {
        self.fail_with_heartbeat(failure, Vec::new()).await
    }

    /// Fails the attempt and records the last heartbeat details, which the next attempt
    /// receives.
    pub async fn fail_with_heartbeat(
        &self,
        failure: &Failure,
        last_heartbeat_details: Vec<Payload>,
    ) -> Result<(), Error> {
        let request = ws::RespondActivityTaskFailedRequest {
            task_token: self.task_token.clone(),
            failure: Some(failure.to_proto()),
            identity: self.identity.clone(),
            namespace: self.client.namespace().to_owned(),
            last_heartbeat_details: payloads(last_heartbeat_details),
            ..Default::default()
        };
        self.client
            .call(|mut s| {
                let request = request.clone();
                async move { s.respond_activity_task_failed(request).await }
            })
            .await?;
        Ok(())
    }

    /// Reports the activity as cancelled (after a heartbeat said cancellation was requested).
    pub async fn report_cancellation(&self, details: impl PayloadArgs) -> Result<(), Error> {
        let details = self.client.converter().to_payloads(&details)?;
        let request = ws::RespondActivityTaskCanceledRequest {
            task_token: self.task_token.clone(),
            details: payloads(details),
            identity: self.identity.clone(),
            namespace: self.client.namespace().to_owned(),
            ..Default::default()
        };
        self.client
            .call(|mut s| {
                let request = request.clone();
                async move { s.respond_activity_task_canceled(request).await }
            })
            .await?;
        Ok(())
    }

    /// Records a heartbeat with progress details.
    pub async fn heartbeat(&self, details: impl PayloadArgs) -> Result<HeartbeatResponse, Error> {
        let details = self.client.converter().to_payloads(&details)?;
        let request = ws::RecordActivityTaskHeartbeatRequest {
            task_token: self.task_token.clone(),
            details: payloads(details),
            identity: self.identity.clone(),
            namespace: self.client.namespace().to_owned(),
            ..Default::default()
        };
        let response = self
            .client
            .call(|mut s| {
                let request = request.clone();
                async move { s.record_activity_task_heartbeat(request).await }
            })
            .await?;
        Ok(HeartbeatResponse {
            cancel_requested: response.cancel_requested,
            paused: response.activity_paused,
        })
    }
}
