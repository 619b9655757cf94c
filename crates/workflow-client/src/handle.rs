//! Handles to workflow executions: result, describe, signal, query, cancel, terminate, history.

use std::marker::PhantomData;

use futures_util::future::BoxFuture;
use futures_util::{Stream, TryStreamExt, stream};
use temporalio_protos::temporal::api::common::v1::{Header, Payloads, WorkflowExecution};
use temporalio_protos::temporal::api::enums::v1::{HistoryEventFilterType, QueryRejectCondition};
use temporalio_protos::temporal::api::history::v1::HistoryEvent;
use temporalio_protos::temporal::api::history::v1::history_event::Attributes;
use temporalio_protos::temporal::api::query::v1::WorkflowQuery;
use temporalio_protos::temporal::api::workflowservice::v1 as ws;
use workflow_core::definition::{
    QueryDefinition, SignalDefinition, UpdateDefinition, WorkflowDefinition,
};
use workflow_core::failure::{Failure, RetryState};
use workflow_core::payload::{Payload, PayloadArgs, PayloadValue, null_payload};

use crate::client::payloads;
use crate::info::{WorkflowDescription, WorkflowExecutionStatus};
use crate::update::{self, UpdateHandle, UpdateOptions, WaitStage};
use crate::{Client, Error};

/// The type parameter of a handle that knows no workflow definition: results are read with
/// [`WorkflowHandle::result_as`], signals and queries are sent by name.
#[derive(Debug, Clone, Copy)]
pub struct Untyped;

/// A handle to a workflow execution.
///
/// `W` is the workflow definition the handle was made from, so `result()` returns its output
/// type and only its signals and queries are accepted. A handle from
/// [`Client::get_workflow_handle`] is [`Untyped`].
///
/// A handle from a start call targets the chain of runs that start began: `result()` follows
/// continue-as-new and retries, signals and queries go to the latest run.
///
/// ```no_run
/// use workflow_client::{Client, Error};
/// use workflow_core::prelude::*;
///
/// type Cart = WorkflowRef<(), Vec<String>>;
/// const CART: Cart = WorkflowRef::new("Cart");
/// const ADD: SignalRef<Cart, String> = SignalRef::new("add");
/// const ITEMS: QueryRef<Cart, (), Vec<String>> = QueryRef::new("items");
///
/// # async fn run(client: Client) -> Result<(), Error> {
/// let cart = client.start_workflow(CART, (), WorkflowOptions::new("cart-1", "carts")).await?;
/// cart.signal(ADD, "tea".to_string()).await?;
/// let items: Vec<String> = cart.query(ITEMS, ()).await?;
/// cart.cancel().await?;
/// # Ok(()) }
/// ```
pub struct WorkflowHandle<W = Untyped> {
    client: Client,
    workflow_id: String,
    /// Run that signals, queries, describe, cancel and terminate target; `None`: the latest.
    run_id: Option<String>,
    /// Run whose result `result()` starts from.
    result_run_id: Option<String>,
    /// First run of the chain started by this client; cancel and terminate stay in it.
    first_execution_run_id: Option<String>,
    query_reject_condition: QueryRejectCondition,
    _workflow: PhantomData<fn() -> W>,
}

impl<W> Clone for WorkflowHandle<W> {
    fn clone(&self) -> Self {
        Self {
            client: self.client.clone(),
            workflow_id: self.workflow_id.clone(),
            run_id: self.run_id.clone(),
            result_run_id: self.result_run_id.clone(),
            first_execution_run_id: self.first_execution_run_id.clone(),
            query_reject_condition: self.query_reject_condition,
            _workflow: PhantomData,
        }
    }
}

impl<W> std::fmt::Debug for WorkflowHandle<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkflowHandle")
            .field("workflow_id", &self.workflow_id)
            .field("run_id", &self.run_id)
            .field("result_run_id", &self.result_run_id)
            .finish()
    }
}

impl<W: WorkflowDefinition> WorkflowHandle<W> {
    /// Waits for the workflow to close and returns its result, following continue-as-new and
    /// retry runs. A failed, cancelled, terminated or timed-out workflow is an [`Error`] of
    /// that kind.
    pub async fn result(&self) -> Result<W::Output, Error> {
        self.result_as().await
    }

    /// Sends a signal of this workflow.
    pub async fn signal<S: SignalDefinition<Workflow = W>>(
        &self,
        signal: S,
        input: S::Input,
    ) -> Result<(), Error> {
        self.signal_by_name(signal.name(), input).await
    }

    /// Runs a query of this workflow.
    pub async fn query<Q: QueryDefinition<Workflow = W>>(
        &self,
        query: Q,
        input: Q::Input,
    ) -> Result<Q::Output, Error> {
        self.query_by_name(query.name(), input).await
    }

    /// Sends an update of this workflow and waits for its result.
    ///
    /// ```no_run
    /// # use workflow_client::{Client, Error};
    /// # use workflow_core::prelude::*;
    /// # type Cart = WorkflowRef<(), u32>;
    /// # const CART: Cart = WorkflowRef::new("Cart");
    /// const ADD_ITEM: UpdateRef<Cart, String, u32> = UpdateRef::new("add_item");
    /// # async fn run(client: Client) -> Result<(), Error> {
    /// let cart = client.get_workflow_handle_for(CART, "cart-1");
    /// let total: u32 = cart.execute_update(ADD_ITEM, "tea".to_string()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn execute_update<U: UpdateDefinition<Workflow = W>>(
        &self,
        update: U,
        input: U::Input,
    ) -> Result<U::Output, Error> {
        self.start_update_with(update, input, UpdateOptions::new())
            .await?
            .result()
            .await
    }

    /// Sends an update of this workflow and waits until it reaches `stage`; the handle
    /// waits for the result.
    pub async fn start_update<U: UpdateDefinition<Workflow = W>>(
        &self,
        update: U,
        input: U::Input,
        stage: WaitStage,
    ) -> Result<UpdateHandle<U::Output>, Error> {
        self.start_update_with(update, input, UpdateOptions::new().wait_for(stage))
            .await
    }

    /// Sends an update with `options` (its id, for deduplication, and the stage to wait for).
    pub async fn start_update_with<U: UpdateDefinition<Workflow = W>>(
        &self,
        update: U,
        input: U::Input,
        options: UpdateOptions,
    ) -> Result<UpdateHandle<U::Output>, Error> {
        let input = self.client.converter().to_payloads(&input)?;
        update::send(
            &self.client,
            self.execution(),
            self.first_execution_run_id.clone().unwrap_or_default(),
            update.name(),
            input,
            options,
        )
        .await
    }

    /// A handle to an update already sent to this workflow, by its id.
    pub fn get_update_handle<U: UpdateDefinition<Workflow = W>>(
        &self,
        _update: U,
        update_id: impl Into<String>,
    ) -> UpdateHandle<U::Output> {
        UpdateHandle::new(self.client.clone(), self.execution(), update_id.into())
    }
}

impl<W> WorkflowHandle<W> {
    pub(crate) fn started(client: Client, workflow_id: String, run_id: String) -> Self {
        Self {
            client,
            workflow_id,
            run_id: None,
            result_run_id: Some(run_id.clone()),
            first_execution_run_id: Some(run_id),
            query_reject_condition: QueryRejectCondition::None,
            _workflow: PhantomData,
        }
    }

    pub(crate) fn existing(client: Client, workflow_id: String) -> Self {
        Self {
            client,
            workflow_id,
            run_id: None,
            result_run_id: None,
            first_execution_run_id: None,
            query_reject_condition: QueryRejectCondition::None,
            _workflow: PhantomData,
        }
    }

    /// Targets one run instead of the latest.
    pub fn with_run_id(mut self, run_id: impl Into<String>) -> Self {
        let run_id = run_id.into();
        self.run_id = Some(run_id.clone());
        self.result_run_id = Some(run_id);
        self
    }

    /// Rejects queries when the workflow's status matches (e.g. `NotOpen`: only query running
    /// workflows), with [`Error::QueryRejected`].
    pub fn with_query_reject_condition(mut self, condition: QueryRejectCondition) -> Self {
        self.query_reject_condition = condition;
        self
    }

    /// The workflow id.
    pub fn workflow_id(&self) -> &str {
        &self.workflow_id
    }

    /// The run id this handle was created with: the run a start call began, or the run given
    /// to [`with_run_id`](Self::with_run_id).
    pub fn run_id(&self) -> Option<&str> {
        self.result_run_id.as_deref()
    }

    /// The client this handle uses.
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn execution(&self) -> WorkflowExecution {
        WorkflowExecution {
            workflow_id: self.workflow_id.clone(),
            run_id: self.run_id.clone().unwrap_or_default(),
        }
    }

    /// Waits for the result and decodes it as `T`.
    pub async fn result_as<T: PayloadValue>(&self) -> Result<T, Error> {
        let payloads = self.result_payloads().await?;
        let first = payloads.into_iter().next().unwrap_or_else(null_payload);
        Ok(self.client.converter().from_payload(&first)?)
    }

    fn result_payloads(&self) -> BoxFuture<'_, Result<Vec<Payload>, Error>> {
        let run_id = self
            .result_run_id
            .clone()
            .or_else(|| self.run_id.clone())
            .unwrap_or_default();
        follow_to_result(&self.client, &self.workflow_id, run_id)
    }

    /// Describes the execution: status, times, memo, search attributes, pending work.
    /// A missing workflow is [`Error::NotFound`].
    pub async fn describe(&self) -> Result<WorkflowDescription, Error> {
        let request = ws::DescribeWorkflowExecutionRequest {
            namespace: self.client.namespace().to_owned(),
            execution: Some(self.execution()),
        };
        let response = self
            .client
            .call(|mut s| {
                let request = request.clone();
                async move { s.describe_workflow_execution(request).await }
            })
            .await?;
        Ok(WorkflowDescription::from_proto(response))
    }

    /// Sends a signal by name, for untyped handles and workflows of other languages.
    pub async fn signal_by_name(&self, name: &str, args: impl PayloadArgs) -> Result<(), Error> {
        let input = self.client.converter().to_payloads(&args)?;
        let request = ws::SignalWorkflowExecutionRequest {
            namespace: self.client.namespace().to_owned(),
            workflow_execution: Some(self.execution()),
            signal_name: name.to_owned(),
            input: payloads(input),
            identity: self.client.identity().to_owned(),
            request_id: uuid::Uuid::new_v4().to_string(),
            header: Some(Header::default()),
            ..Default::default()
        };
        self.client
            .call(|mut s| {
                let request = request.clone();
                async move { s.signal_workflow_execution(request).await }
            })
            .await?;
        Ok(())
    }

    /// Runs a query by name and decodes its answer as `T`.
    pub async fn query_by_name<T: PayloadValue>(
        &self,
        name: &str,
        args: impl PayloadArgs,
    ) -> Result<T, Error> {
        let input = self.client.converter().to_payloads(&args)?;
        let request = ws::QueryWorkflowRequest {
            namespace: self.client.namespace().to_owned(),
            execution: Some(self.execution()),
            query: Some(WorkflowQuery {
                query_type: name.to_owned(),
                query_args: payloads(input),
                header: Some(Header::default()),
            }),
            query_reject_condition: self.query_reject_condition as i32,
        };
        let response = self
            .client
            .call(|mut s| {
                let request = request.clone();
                async move { s.query_workflow(request).await }
            })
            .await?;
        if let Some(rejected) = response.query_rejected {
            return Err(Error::QueryRejected {
                status: WorkflowExecutionStatus::from_proto(rejected.status),
            });
        }
        let first = response
            .query_result
            .and_then(|p| p.payloads.into_iter().next())
            .unwrap_or_else(null_payload);
        Ok(self.client.converter().from_payload(&first)?)
    }

    /// Requests cancellation. The workflow decides how to react; its result then reports
    /// [`Error::Cancelled`] if it ends cancelled.
    pub async fn cancel(&self) -> Result<(), Error> {
        let request = ws::RequestCancelWorkflowExecutionRequest {
            namespace: self.client.namespace().to_owned(),
            workflow_execution: Some(self.execution()),
            identity: self.client.identity().to_owned(),
            request_id: uuid::Uuid::new_v4().to_string(),
            first_execution_run_id: self.first_execution_run_id.clone().unwrap_or_default(),
            ..Default::default()
        };
        self.client
            .call(|mut s| {
                let request = request.clone();
                async move { s.request_cancel_workflow_execution(request).await }
            })
            .await?;
        Ok(())
    }

    /// Terminates the workflow at once; no workflow code runs.
    pub async fn terminate(&self, reason: impl Into<String>) -> Result<(), Error> {
        self.terminate_raw(reason.into(), None).await
    }

    /// Terminates the workflow, recording `details` (encoded as arguments are) in its
    /// terminated event; [`Error::Terminated`] carries them back to whoever waits for the
    /// result.
    ///
    /// ```no_run
    /// # async fn stop(handle: workflow_client::WorkflowHandle<workflow_client::Untyped>) -> Result<(), workflow_client::Error> {
    /// handle.terminate_with_details("stuck", ("ticket 42".to_string(),)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn terminate_with_details<D: PayloadArgs>(
        &self,
        reason: impl Into<String>,
        details: D,
    ) -> Result<(), Error> {
        let payloads = self.client.converter().to_payloads(&details)?;
        self.terminate_raw(reason.into(), Some(Payloads { payloads }))
            .await
    }

    async fn terminate_raw(&self, reason: String, details: Option<Payloads>) -> Result<(), Error> {
        let request = ws::TerminateWorkflowExecutionRequest {
            namespace: self.client.namespace().to_owned(),
            workflow_execution: Some(self.execution()),
            reason,
            details,
            identity: self.client.identity().to_owned(),
            first_execution_run_id: self.first_execution_run_id.clone().unwrap_or_default(),
            ..Default::default()
        };
        self.client
            .call(|mut s| {
                let request = request.clone();
                async move { s.terminate_workflow_execution(request).await }
            })
            .await?;
        Ok(())
    }

    /// The run's whole event history, all pages.
    pub async fn fetch_history(&self) -> Result<Vec<HistoryEvent>, Error> {
        self.history_events(false).try_concat().await
    }

    fn history_events(
        &self,
        wait_new_event: bool,
    ) -> impl Stream<Item = Result<Vec<HistoryEvent>, Error>> + Send + 'static {
        let client = self.client.clone();
        let execution = self.execution();
        stream::try_unfold(Some(Vec::new()), move |token| {
            let client = client.clone();
            let execution = execution.clone();
            async move {
                let Some(next_page_token) = token else {
                    return Ok(None);
                };
                let request = ws::GetWorkflowExecutionHistoryRequest {
                    namespace: client.namespace().to_owned(),
                    execution: Some(execution),
                    next_page_token,
                    wait_new_event,
                    history_event_filter_type: HistoryEventFilterType::AllEvent as i32,
                    ..Default::default()
                };
                let page = if wait_new_event {
                    client.poll_history(request).await?
                } else {
                    client
                        .call(|mut s| {
                            let request = request.clone();
                            async move { s.get_workflow_execution_history(request).await }
                        })
                        .await?
                };
                let events = page.history.map(|h| h.events).unwrap_or_default();
                let next = (!page.next_page_token.is_empty()).then_some(page.next_page_token);
                Ok::<_, Error>(Some((events, next)))
            }
        })
    }
}

impl<W> WorkflowHandle<W> {
    /// The run's events, one at a time, waiting for new ones until the run closes.
    pub fn watch_history(
        &self,
    ) -> impl Stream<Item = Result<HistoryEvent, Error>> + Send + 'static {
        self.history_events(true)
            .map_ok(|events| stream::iter(events.into_iter().map(Ok)))
            .try_flatten()
    }
}

/// Follows the workflow's runs to the one that closes and returns its result. Boxed and free of
/// the handle's type, so it is compiled once, with this crate.
fn follow_to_result<'a>(
    client: &'a Client,
    workflow_id: &'a str,
    mut run_id: String,
) -> BoxFuture<'a, Result<Vec<Payload>, Error>> {
    Box::pin(async move {
        let mut next_page_token = Vec::new();
        loop {
            let request = ws::GetWorkflowExecutionHistoryRequest {
                namespace: client.namespace().to_owned(),
                execution: Some(WorkflowExecution {
                    workflow_id: workflow_id.to_owned(),
                    run_id: run_id.clone(),
                }),
                next_page_token: std::mem::take(&mut next_page_token),
                wait_new_event: true,
                history_event_filter_type: HistoryEventFilterType::CloseEvent as i32,
                skip_archival: true,
                ..Default::default()
            };
            let response = client.poll_history(request).await?;
            let close = response
                .history
                .and_then(|h| h.events.into_iter().next())
                .and_then(|e| e.attributes);
            let Some(close) = close else {
                // The long poll timed out; the token resumes it.
                next_page_token = response.next_page_token;
                continue;
            };
            let next_run = match close {
                Attributes::WorkflowExecutionCompletedEventAttributes(a) => {
                    if a.new_execution_run_id.is_empty() {
                        return Ok(a.result.map(|p| p.payloads).unwrap_or_default());
                    }
                    a.new_execution_run_id
                }
                Attributes::WorkflowExecutionFailedEventAttributes(a) => {
                    if a.new_execution_run_id.is_empty() {
                        let failure = a.failure.map(Failure::from_proto).unwrap_or_else(|| {
                            Failure::application("", "workflow failed without a failure")
                        });
                        return Err(Error::WorkflowFailed {
                            failure: Box::new(failure),
                        });
                    }
                    a.new_execution_run_id
                }
                Attributes::WorkflowExecutionTimedOutEventAttributes(a) => {
                    if a.new_execution_run_id.is_empty() {
                        return Err(Error::TimedOut {
                            retry_state: RetryState::try_from(a.retry_state)
                                .unwrap_or(RetryState::Unspecified),
                        });
                    }
                    a.new_execution_run_id
                }
                Attributes::WorkflowExecutionContinuedAsNewEventAttributes(a) => {
                    a.new_execution_run_id
                }
                Attributes::WorkflowExecutionCanceledEventAttributes(a) => {
                    return Err(Error::Cancelled {
                        details: a.details.map(|p| p.payloads).unwrap_or_default(),
                    });
                }
                Attributes::WorkflowExecutionTerminatedEventAttributes(a) => {
                    return Err(Error::Terminated {
                        reason: a.reason,
                        details: a.details.map(|p| p.payloads).unwrap_or_default(),
                        identity: a.identity,
                    });
                }
                other => {
                    return Err(Error::Rpc {
                        code: tonic::Code::Internal,
                        message: format!("unexpected close event: {other:?}"),
                    });
                }
            };
            tracing::debug!(workflow_id = %workflow_id, %next_run, "following to the next run");
            run_id = next_run;
        }
    })
}
