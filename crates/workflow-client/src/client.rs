//! The client: connection, retries, and the namespace-level operations.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use futures_util::{Stream, TryStreamExt, stream};
use temporalio_protos::temporal::api::common::v1::{Header, Payloads, WorkflowType};
use temporalio_protos::temporal::api::enums::v1::TaskQueueKind;
use temporalio_protos::temporal::api::taskqueue::v1::TaskQueue;
use temporalio_protos::temporal::api::workflowservice::v1 as ws;
use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use workflow_core::definition::{SignalDefinition, UpdateDefinition, WorkflowDefinition};
use workflow_core::options::{WorkflowOptions, duration_to_proto};
use workflow_core::payload::{Payload, PayloadArgs, PayloadConverter};

use crate::Error;
use crate::activity::AsyncActivityHandle;
use crate::grpc::WorkflowServiceClient;
use crate::handle::{Untyped, WorkflowHandle};
use crate::info::WorkflowExecutionInfo;
use crate::options::{ClientOptions, RpcRetryOptions};

/// The generated gRPC stub, with this client's headers attached to every call.
pub type WorkflowService = WorkflowServiceClient<InterceptedService<Channel, Headers>>;

/// Largest gRPC response accepted (history pages can be large).
const MAX_DECODING_MESSAGE_SIZE: usize = 128 * 1024 * 1024;
/// Temporal's limit for one gRPC request.
const MAX_ENCODING_MESSAGE_SIZE: usize = 4 * 1024 * 1024;
/// The server answers a history long poll empty after about 20 s; this leaves it room.
pub(crate) const LONG_POLL_TIMEOUT: Duration = Duration::from_secs(70);

/// A connection to a Temporal-compatible server, bound to one namespace.
///
/// Cheap to clone; clones share the connection. `Send + Sync`.
///
/// ```no_run
/// use workflow_client::Client;
/// use workflow_core::prelude::*;
///
/// # async fn run() -> Result<(), workflow_client::Error> {
/// let client = Client::connect("localhost:7233").await?;
/// const GREET: WorkflowRef<String, String> = WorkflowRef::new("GreetingWorkflow");
/// let greeting: String = client
///     .execute_workflow(GREET, "Ada".to_string(), WorkflowOptions::new("greet-ada", "greetings"))
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    service: WorkflowService,
    options: ClientOptions,
    converter: PayloadConverter,
    system_info: ws::GetSystemInfoResponse,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("target", &self.inner.options.target)
            .field("namespace", &self.inner.options.namespace)
            .field("identity", &self.inner.options.identity)
            .finish()
    }
}

/// Adds the client's gRPC metadata (namespace, client name, API key, custom headers).
#[derive(Clone)]
pub struct Headers(Arc<Vec<(AsciiMetadataKey, AsciiMetadataValue)>>);

impl tonic::service::Interceptor for Headers {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        for (key, value) in self.0.iter() {
            request.metadata_mut().insert(key.clone(), value.clone());
        }
        Ok(request)
    }
}

impl Client {
    /// Connects to `target` (`host:port`) in namespace `default`, without TLS.
    pub async fn connect(target: impl Into<String>) -> Result<Self, Error> {
        ClientOptions::new(target).connect().await
    }

    /// Connects with the given options. Fails with [`Error::Connection`] when the server
    /// cannot be reached within the connect timeout.
    pub async fn connect_with(options: ClientOptions) -> Result<Self, Error> {
        Self::connect_here(options).await
    }

    /// An async body is compiled where it is polled: boxed, the connection stack is compiled
    /// once, with this crate, instead of in every program that connects.
    fn connect_here(options: ClientOptions) -> BoxFuture<'static, Result<Self, Error>> {
        Box::pin(Self::connect_channel(options))
    }

    async fn connect_channel(options: ClientOptions) -> Result<Self, Error> {
        let use_tls = options.tls.is_some() || options.api_key.is_some();
        let uri = if options.target.contains("://") {
            options.target.clone()
        } else if use_tls {
            format!("https://{}", options.target)
        } else {
            format!("http://{}", options.target)
        };
        let mut endpoint = Endpoint::from_shared(uri)
            .map_err(|e| Error::Config(format!("invalid address `{}`: {e}", options.target)))?
            .connect_timeout(options.connect_timeout)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_timeout(Duration::from_secs(15))
            .keep_alive_while_idle(true);
        if use_tls {
            endpoint = crate::tls::configure(endpoint, &options)?;
        }
        let connect = endpoint.connect();
        let channel = match tokio::time::timeout(options.connect_timeout, connect).await {
            Ok(Ok(channel)) => channel,
            Ok(Err(e)) => {
                return Err(Error::Connection {
                    target: options.target.clone(),
                    message: error_chain(&e),
                });
            }
            Err(_) => {
                return Err(Error::Connection {
                    target: options.target.clone(),
                    message: format!("no connection within {:?}", options.connect_timeout),
                });
            }
        };
        let service = WorkflowServiceClient::with_interceptor(channel, headers(&options)?)
            .max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_ENCODING_MESSAGE_SIZE);
        #[cfg(feature = "gzip")]
        let service = service.accept_compressed(tonic::codec::CompressionEncoding::Gzip);
        let converter = PayloadConverter::default().with_size_limit(options.payload_size_limit);
        let mut client = Self {
            inner: Arc::new(Inner {
                service,
                options,
                converter,
                system_info: ws::GetSystemInfoResponse::default(),
            }),
        };
        let system_info = client
            .call(|mut s| async move { s.get_system_info(ws::GetSystemInfoRequest {}).await })
            .await?;
        tracing::debug!(server_version = %system_info.server_version, "connected");
        if let Some(inner) = Arc::get_mut(&mut client.inner) {
            inner.system_info = system_info;
        }
        Ok(client)
    }

    /// The namespace every call goes to.
    pub fn namespace(&self) -> &str {
        &self.inner.options.namespace
    }

    /// The identity recorded for this client's actions.
    pub fn identity(&self) -> &str {
        &self.inner.options.identity
    }

    /// The options this client was connected with.
    pub fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    /// The payload converter (with the configured size limit).
    pub fn converter(&self) -> &PayloadConverter {
        &self.inner.converter
    }

    /// What the server reported about itself at connect time.
    pub fn system_info(&self) -> &ws::GetSystemInfoResponse {
        &self.inner.system_info
    }

    /// The raw gRPC stub, for calls this client does not wrap.
    pub fn workflow_service(&self) -> WorkflowService {
        self.inner.service.clone()
    }

    /// Starts a workflow and returns a typed handle to it.
    ///
    /// Arguments are encoded and size-checked before anything is sent.
    pub async fn start_workflow<W: WorkflowDefinition>(
        &self,
        workflow: W,
        input: W::Input,
        options: WorkflowOptions,
    ) -> Result<WorkflowHandle<W>, Error> {
        let payloads = self.inner.converter.to_payloads(&input)?;
        let run_id = self.start_raw(workflow.name(), payloads, &options).await?;
        Ok(WorkflowHandle::started(self.clone(), options.id, run_id))
    }

    /// Update-with-start: starts the workflow (or, with
    /// `WorkflowIdConflictPolicy::UseExisting`, takes its running run) and sends it the
    /// update in one request; waits for the update's result.
    ///
    /// ```no_run
    /// # use workflow_client::{Client, Error, UpdateOptions};
    /// # use workflow_core::prelude::*;
    /// # type Cart = WorkflowRef<(), u64>;
    /// # const CART: Cart = WorkflowRef::new("Cart");
    /// # const ADD_ITEM: UpdateRef<Cart, String, u64> = UpdateRef::new("add_item");
    /// # async fn shop(client: Client) -> Result<(), Error> {
    /// let options = WorkflowOptions::new("cart-9", "shop")
    ///     .id_conflict_policy(WorkflowIdConflictPolicy::UseExisting);
    /// let (cart, total) = client
    ///     .execute_update_with_start(CART, (), options, ADD_ITEM, "tea".to_string())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn execute_update_with_start<W, U>(
        &self,
        workflow: W,
        input: W::Input,
        options: WorkflowOptions,
        update: U,
        update_input: U::Input,
    ) -> Result<(WorkflowHandle<W>, U::Output), Error>
    where
        W: WorkflowDefinition,
        U: UpdateDefinition<Workflow = W>,
    {
        let (handle, pending) = self
            .start_update_with_start(
                workflow,
                input,
                options,
                update,
                update_input,
                crate::UpdateOptions::new(),
            )
            .await?;
        let output = pending.result().await?;
        Ok((handle, output))
    }

    /// Update-with-start, waiting for the update's stage `update_options` asks for; the
    /// update handle waits for its result.
    pub async fn start_update_with_start<W, U>(
        &self,
        workflow: W,
        input: W::Input,
        options: WorkflowOptions,
        update: U,
        update_input: U::Input,
        update_options: crate::UpdateOptions,
    ) -> Result<(WorkflowHandle<W>, crate::UpdateHandle<U::Output>), Error>
    where
        W: WorkflowDefinition,
        U: UpdateDefinition<Workflow = W>,
    {
        let payloads = self.inner.converter.to_payloads(&input)?;
        let start = self.start_request(workflow.name(), payloads, &options)?;
        let update_input = self.inner.converter.to_payloads(&update_input)?;
        let (run_id, pending) = crate::update::send_with_start(
            self,
            start,
            update.name(),
            update_input,
            update_options,
        )
        .await
        .map_err(|e| e.for_workflow(&options.id))?;
        Ok((
            WorkflowHandle::started(self.clone(), options.id, run_id),
            pending,
        ))
    }

    /// Starts a workflow and waits for its result.
    pub async fn execute_workflow<W: WorkflowDefinition>(
        &self,
        workflow: W,
        input: W::Input,
        options: WorkflowOptions,
    ) -> Result<W::Output, Error> {
        self.start_workflow(workflow, input, options)
            .await?
            .result()
            .await
    }

    /// Starts a workflow by type name, for workflows written in other languages. Several
    /// arguments are passed as `Args((a, b))`.
    pub async fn start_workflow_by_name(
        &self,
        workflow_type: &str,
        args: impl PayloadArgs,
        options: WorkflowOptions,
    ) -> Result<WorkflowHandle<Untyped>, Error> {
        let payloads = self.inner.converter.to_payloads(&args)?;
        let run_id = self.start_raw(workflow_type, payloads, &options).await?;
        Ok(WorkflowHandle::started(self.clone(), options.id, run_id))
    }

    /// Sends a signal to a workflow, starting the workflow first if it is not running.
    pub async fn signal_with_start<W, S>(
        &self,
        workflow: W,
        input: W::Input,
        options: WorkflowOptions,
        signal: S,
        signal_input: S::Input,
    ) -> Result<WorkflowHandle<W>, Error>
    where
        W: WorkflowDefinition,
        S: SignalDefinition<Workflow = W>,
    {
        let converter = &self.inner.converter;
        let input = converter.to_payloads(&input)?;
        let signal_input = converter.to_payloads(&signal_input)?;
        let start = self.start_request(workflow.name(), input, &options)?;
        let request = ws::SignalWithStartWorkflowExecutionRequest {
            namespace: start.namespace,
            workflow_id: start.workflow_id,
            workflow_type: start.workflow_type,
            task_queue: start.task_queue,
            input: start.input,
            workflow_execution_timeout: start.workflow_execution_timeout,
            workflow_run_timeout: start.workflow_run_timeout,
            workflow_task_timeout: start.workflow_task_timeout,
            identity: start.identity,
            request_id: start.request_id,
            workflow_id_reuse_policy: start.workflow_id_reuse_policy,
            workflow_id_conflict_policy: start.workflow_id_conflict_policy,
            signal_name: signal.name().to_owned(),
            signal_input: payloads(signal_input),
            retry_policy: start.retry_policy,
            cron_schedule: start.cron_schedule,
            memo: start.memo,
            search_attributes: start.search_attributes,
            header: start.header,
            workflow_start_delay: start.workflow_start_delay,
            user_metadata: start.user_metadata,
            ..Default::default()
        };
        let response = self
            .call(|mut s| {
                let request = request.clone();
                async move { s.signal_with_start_workflow_execution(request).await }
            })
            .await
            .map_err(|e| e.for_workflow(&options.id))?;
        Ok(WorkflowHandle::started(
            self.clone(),
            options.id,
            response.run_id,
        ))
    }

    /// A handle to an existing workflow (its latest run), without types.
    pub fn get_workflow_handle(&self, workflow_id: impl Into<String>) -> WorkflowHandle<Untyped> {
        WorkflowHandle::existing(self.clone(), workflow_id.into())
    }

    /// A typed handle to an existing workflow (its latest run).
    pub fn get_workflow_handle_for<W: WorkflowDefinition>(
        &self,
        _workflow: W,
        workflow_id: impl Into<String>,
    ) -> WorkflowHandle<W> {
        WorkflowHandle::existing(self.clone(), workflow_id.into())
    }

    /// A handle to an update sent to the latest run of `workflow_id`, by update id; `T` is
    /// the update's output type.
    pub fn get_update_handle<T: workflow_core::payload::PayloadValue>(
        &self,
        workflow_id: impl Into<String>,
        update_id: impl Into<String>,
    ) -> crate::UpdateHandle<T> {
        let execution = temporalio_protos::temporal::api::common::v1::WorkflowExecution {
            workflow_id: workflow_id.into(),
            run_id: String::new(),
        };
        crate::UpdateHandle::new(self.clone(), execution, update_id.into())
    }

    /// Lists workflow executions matching a visibility query (e.g.
    /// `WorkflowType = 'Greeting' AND ExecutionStatus = 'Running'`), page by page as needed.
    /// An empty query lists all.
    pub fn list_workflows(
        &self,
        query: impl Into<String>,
    ) -> impl Stream<Item = Result<WorkflowExecutionInfo, Error>> + Send + 'static {
        let client = self.clone();
        let query = query.into();
        stream::try_unfold(Some(Vec::new()), move |token| {
            let client = client.clone();
            let query = query.clone();
            async move {
                let Some(next_page_token) = token else {
                    return Ok(None);
                };
                let request = ws::ListWorkflowExecutionsRequest {
                    namespace: client.namespace().to_owned(),
                    page_size: 0,
                    next_page_token,
                    query,
                };
                let page = client
                    .call(|mut s| {
                        let request = request.clone();
                        async move { s.list_workflow_executions(request).await }
                    })
                    .await?;
                let next = (!page.next_page_token.is_empty()).then_some(page.next_page_token);
                Ok::<_, Error>(Some((page.executions, next)))
            }
        })
        .map_ok(|page| {
            stream::iter(
                page.into_iter()
                    .map(|i| Ok(WorkflowExecutionInfo::from_proto(i))),
            )
        })
        .try_flatten()
    }

    /// Counts workflow executions matching a visibility query.
    pub async fn count_workflows(&self, query: impl Into<String>) -> Result<u64, Error> {
        Ok(self.count_workflow_groups(query).await?.count)
    }

    /// Counts workflow executions matching a visibility query that may end in
    /// `GROUP BY ExecutionStatus`: the total, and a count per status that has any.
    ///
    /// ```no_run
    /// # async fn run(client: workflow_client::Client) -> Result<(), workflow_client::Error> {
    /// let counts = client
    ///     .count_workflow_groups("WorkflowType = 'Order' GROUP BY ExecutionStatus")
    ///     .await?;
    /// for group in &counts.groups {
    ///     println!("{:?}: {}", group.values, group.count);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn count_workflow_groups(
        &self,
        query: impl Into<String>,
    ) -> Result<WorkflowCount, Error> {
        let request = ws::CountWorkflowExecutionsRequest {
            namespace: self.namespace().to_owned(),
            query: query.into(),
        };
        let response = self
            .call(|mut s| {
                let request = request.clone();
                async move { s.count_workflow_executions(request).await }
            })
            .await?;
        let converter = self.converter();
        let groups = response
            .groups
            .into_iter()
            .map(|group| {
                let values = group
                    .group_values
                    .iter()
                    .map(|value| converter.from_payload(value))
                    .collect::<Result<_, _>>()?;
                Ok(CountGroup {
                    values,
                    count: u64::try_from(group.count).unwrap_or(0),
                })
            })
            .collect::<Result<_, Error>>()?;
        Ok(WorkflowCount {
            count: u64::try_from(response.count).unwrap_or(0),
            groups,
        })
    }

    /// A handle to complete, fail or heartbeat an activity from outside its worker, by the
    /// task token the activity handed out (asynchronous activity completion).
    pub fn async_activity_handle(&self, task_token: impl Into<Vec<u8>>) -> AsyncActivityHandle {
        AsyncActivityHandle::new(self.clone(), task_token.into())
    }

    fn start_request(
        &self,
        workflow_type: &str,
        input: Vec<Payload>,
        options: &WorkflowOptions,
    ) -> Result<ws::StartWorkflowExecutionRequest, Error> {
        Ok(ws::StartWorkflowExecutionRequest {
            namespace: self.namespace().to_owned(),
            workflow_id: options.id.clone(),
            workflow_type: Some(WorkflowType {
                name: workflow_type.to_owned(),
            }),
            task_queue: Some(task_queue(&options.task_queue)),
            input: payloads(input),
            workflow_execution_timeout: options.execution_timeout.and_then(duration_to_proto),
            workflow_run_timeout: options.run_timeout.and_then(duration_to_proto),
            workflow_task_timeout: options.task_timeout.and_then(duration_to_proto),
            identity: self.identity().to_owned(),
            request_id: request_id(options),
            workflow_id_reuse_policy: options.id_reuse_policy_proto(),
            workflow_id_conflict_policy: options.id_conflict_policy_proto(),
            retry_policy: options.retry_policy.as_ref().map(|p| p.to_proto()),
            cron_schedule: options.cron_schedule.clone().unwrap_or_default(),
            memo: options.memo_proto()?,
            search_attributes: search_attributes(options)?,
            header: Some(Header::default()),
            workflow_start_delay: options.start_delay.and_then(duration_to_proto),
            user_metadata: options.user_metadata_proto()?,
            ..Default::default()
        })
    }

    /// Boxed, so the call is compiled with this crate rather than in each typed start.
    fn start_raw<'a>(
        &'a self,
        workflow_type: &'a str,
        input: Vec<Payload>,
        options: &'a WorkflowOptions,
    ) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(async move {
            let request = self.start_request(workflow_type, input, options)?;
            let response = self
                .call(|mut s| {
                    let request = request.clone();
                    async move { s.start_workflow_execution(request).await }
                })
                .await
                .map_err(|e| e.for_workflow(&options.id))?;
            tracing::debug!(workflow_id = %options.id, run_id = %response.run_id, workflow_type, "started workflow");
            Ok(response.run_id)
        })
    }

    /// Runs a raw gRPC call on [`workflow_service`](Self::workflow_service) with this client's
    /// retry of transient errors and its error mapping.
    pub async fn call<T, F, Fut>(&self, mut rpc: F) -> Result<T, Error>
    where
        F: FnMut(WorkflowService) -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        let options = &self.inner.options;
        retry_rpc(&options.retry, &options.target, || {
            rpc(self.inner.service.clone())
        })
        .await
    }

    /// A history long poll: the server holds it until an event arrives or about 20 s pass.
    pub(crate) async fn poll_history(
        &self,
        request: ws::GetWorkflowExecutionHistoryRequest,
    ) -> Result<ws::GetWorkflowExecutionHistoryResponse, Error> {
        loop {
            let result = self
                .call(|mut s| {
                    let mut request = tonic::Request::new(request.clone());
                    request.set_timeout(LONG_POLL_TIMEOUT);
                    async move { s.get_workflow_execution_history(request).await }
                })
                .await;
            match result {
                Err(error) if long_poll_expired(&error) => continue,
                other => return other,
            }
        }
    }
}

/// What [`Client::count_workflow_groups`] answers.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowCount {
    /// Every execution the query matches.
    pub count: u64,
    /// With `GROUP BY`, the count per group (groups without executions are left out);
    /// empty otherwise.
    pub groups: Vec<CountGroup>,
}

/// One group of a grouped count.
#[derive(Debug, Clone, PartialEq)]
pub struct CountGroup {
    /// The group's values, one per `GROUP BY` field: for `ExecutionStatus`, its name
    /// (`"Running"`, `"Completed"`, ...).
    pub values: Vec<serde_json::Value>,
    /// How many executions it holds.
    pub count: u64,
}

/// Runs `rpc`, retrying transient errors with jittered exponential backoff until it succeeds,
/// fails otherwise, or the attempts or time allowed by `retry` run out.
pub(crate) async fn retry_rpc<T, F, Fut>(
    retry: &RpcRetryOptions,
    target: &str,
    mut rpc: F,
) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
{
    let started = Instant::now();
    let mut delay = retry.initial_interval;
    let mut attempt = 1;
    loop {
        match rpc().await {
            Ok(response) => return Ok(response.into_inner()),
            Err(status)
                if is_transient(status.code())
                    && attempt < retry.max_attempts
                    && started.elapsed() + delay < retry.max_elapsed =>
            {
                tracing::debug!(attempt, code = ?status.code(), message = status.message(), "retrying transient gRPC error");
                tokio::time::sleep(delay.mul_f64(0.8 + fastrand::f64() * 0.4)).await;
                delay = delay.mul_f64(retry.multiplier).min(retry.max_interval);
                attempt += 1;
            }
            Err(status) => return Err(Error::from_status(status, target)),
        }
    }
}

/// A long poll that ended without an answer, which the caller should simply poll again: our own
/// deadline passed first, or the server gave the poll up (a Temporal server under load answers
/// `CANCELLED` when its internal long-poll context ends; the run is still there).
pub(crate) fn long_poll_expired(error: &Error) -> bool {
    matches!(
        error,
        Error::Rpc {
            code: tonic::Code::DeadlineExceeded | tonic::Code::Cancelled,
            ..
        }
    )
}

fn is_transient(code: tonic::Code) -> bool {
    matches!(
        code,
        tonic::Code::Unavailable
            | tonic::Code::ResourceExhausted
            | tonic::Code::Aborted
            | tonic::Code::Internal
            | tonic::Code::Unknown
    )
}

fn headers(options: &ClientOptions) -> Result<Headers, Error> {
    let mut list = vec![
        ("temporal-namespace".to_owned(), options.namespace.clone()),
        ("client-name".to_owned(), "workflow-rust".to_owned()),
        (
            "client-version".to_owned(),
            env!("CARGO_PKG_VERSION").to_owned(),
        ),
    ];
    if let Some(key) = &options.api_key {
        list.push(("authorization".to_owned(), format!("Bearer {key}")));
    }
    list.extend(options.headers.iter().cloned());
    let parsed = list
        .into_iter()
        .map(|(k, v)| {
            let key = AsciiMetadataKey::from_bytes(k.as_bytes())
                .map_err(|_| Error::Config(format!("invalid header name `{k}`")))?;
            let value = AsciiMetadataValue::try_from(v.as_str())
                .map_err(|_| Error::Config(format!("invalid value for header `{k}`")))?;
            Ok((key, value))
        })
        .collect::<Result<_, Error>>()?;
    Ok(Headers(Arc::new(parsed)))
}

pub(crate) fn payloads(payloads: Vec<Payload>) -> Option<Payloads> {
    (!payloads.is_empty()).then_some(Payloads { payloads })
}

fn task_queue(name: &str) -> TaskQueue {
    TaskQueue {
        name: name.to_owned(),
        kind: TaskQueueKind::Normal as i32,
        normal_name: String::new(),
    }
}

fn request_id(options: &WorkflowOptions) -> String {
    options
        .request_id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

fn search_attributes(
    options: &WorkflowOptions,
) -> Result<Option<temporalio_protos::temporal::api::common::v1::SearchAttributes>, Error> {
    if options.search_attributes.is_empty() {
        return Ok(None);
    }
    Ok(Some(options.search_attributes.to_proto()?))
}

/// An error with its sources, as one line (transport errors hide the useful part in them).
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use tonic::service::Interceptor;

    use super::*;

    fn fast_retry(max_attempts: u32) -> RpcRetryOptions {
        RpcRetryOptions {
            initial_interval: Duration::from_millis(1),
            max_interval: Duration::from_millis(2),
            max_elapsed: Duration::from_secs(60),
            max_attempts,
            ..RpcRetryOptions::default()
        }
    }

    /// An RPC that fails with `code` for its first `failures` attempts, then answers 42.
    async fn flaky(calls: &AtomicU32, failures: u32, code: tonic::Code) -> Result<u32, Error> {
        retry_rpc(&fast_retry(5), "test:1", || async {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            if n < failures {
                Err(tonic::Status::new(code, "flaky"))
            } else {
                Ok(tonic::Response::new(42))
            }
        })
        .await
    }

    #[tokio::test]
    async fn transient_errors_are_retried_until_the_call_succeeds() {
        let calls = AtomicU32::new(0);
        assert_eq!(
            flaky(&calls, 3, tonic::Code::Unavailable).await.unwrap(),
            42
        );
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        let calls = AtomicU32::new(0);
        assert_eq!(
            flaky(&calls, 2, tonic::Code::ResourceExhausted)
                .await
                .unwrap(),
            42
        );
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn other_errors_are_not_retried() {
        let calls = AtomicU32::new(0);
        let err = flaky(&calls, 1, tonic::Code::InvalidArgument)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn retries_stop_at_max_attempts_with_a_connection_error() {
        let calls = AtomicU32::new(0);
        let err = flaky(&calls, 100, tonic::Code::Unavailable)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Connection { ref target, .. } if target == "test:1"),
            "{err:?}"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 5);
    }

    #[test]
    fn a_long_poll_cut_short_by_either_side_is_polled_again_but_nothing_else_is() {
        let rpc = |code| Error::from_status(tonic::Status::new(code, "poll"), "test:1");
        assert!(long_poll_expired(&rpc(tonic::Code::DeadlineExceeded)));
        assert!(long_poll_expired(&rpc(tonic::Code::Cancelled)));
        assert!(!long_poll_expired(&rpc(tonic::Code::NotFound)));
        assert!(!long_poll_expired(&rpc(tonic::Code::PermissionDenied)));
    }

    #[test]
    fn every_call_carries_namespace_client_name_api_key_and_custom_headers() {
        let options = ClientOptions::new("localhost:7233")
            .namespace("payments")
            .api_key("secret-key")
            .header("x-team", "billing");
        let mut interceptor = headers(&options).unwrap();
        let request = interceptor.call(tonic::Request::new(())).unwrap();
        let metadata = request.metadata();
        assert_eq!(metadata.get("temporal-namespace").unwrap(), "payments");
        assert_eq!(metadata.get("authorization").unwrap(), "Bearer secret-key");
        assert_eq!(metadata.get("x-team").unwrap(), "billing");
        assert_eq!(metadata.get("client-name").unwrap(), "workflow-rust");
    }

    #[test]
    fn without_an_api_key_no_authorization_header_is_sent() {
        let mut interceptor = headers(&ClientOptions::new("localhost:7233")).unwrap();
        let request = interceptor.call(tonic::Request::new(())).unwrap();
        assert!(request.metadata().get("authorization").is_none());
        assert_eq!(
            request.metadata().get("temporal-namespace").unwrap(),
            "default"
        );
    }
}
