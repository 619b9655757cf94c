#![warn(missing_docs)]
//! The Web UI of the dev server, and the JSON HTTP API its pages use.
//!
//! The pages list namespaces and workflows (with Temporal's filter language, a status
//! filter, paging and auto-refresh) and show one workflow: input, result or failure with
//! its cause chain, pending activities, children and timers, the history as a timeline and
//! as raw JSON, and the call stack when the worker answers `__stack_trace`. From there a
//! user can signal, cancel or terminate that run, after confirming.
//!
//! The API (`/api/v1/...`) follows Temporal's HTTP API: the same routes, names and proto3
//! JSON shapes. It speaks gRPC to the workflow service it is given: the embedded server
//! hands it its own service in-process, and a [`tonic::transport::Channel`] reaches any
//! Temporal frontend. Everything is embedded in the binary; there is no build step.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let channel = tonic::transport::Channel::from_static("http://127.0.0.1:7233").connect().await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8233").await?;
//! workflow_ui::Ui::new(channel).serve(listener, std::future::pending()).await?;
//! # Ok(()) }
//! ```

mod api;
mod error;
mod json;
mod pages;

use std::future::Future;

use temporalio_protos::temporal::api::workflowservice::v1::workflow_service_client::WorkflowServiceClient;
use tower::BoxError;
use tower::ServiceExt;
use tower::util::BoxCloneSyncService;

pub use api::CALL_TIMEOUT;
pub use error::ApiError;

type GrpcService = BoxCloneSyncService<
    http::Request<tonic::body::Body>,
    http::Response<tonic::body::Body>,
    TransportError,
>;

/// A failure below gRPC (connection, TLS), under a concrete type: the handlers' futures
/// could not be shown `Send` with a boxed `dyn Error` there.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct TransportError(BoxError);

/// The UI and API over one workflow service.
#[derive(Clone)]
pub struct Ui {
    client: WorkflowServiceClient<GrpcService>,
}

impl std::fmt::Debug for Ui {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ui").finish_non_exhaustive()
    }
}

impl Ui {
    /// A UI calling this gRPC service: a [`tonic::transport::Channel`], or a server's
    /// service itself.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let channel = tonic::transport::Channel::from_static("http://127.0.0.1:7233").connect().await?;
    /// let router: axum::Router = workflow_ui::Ui::new(channel).router();
    /// # Ok(()) }
    /// ```
    pub fn new<S>(service: S) -> Self
    where
        S: tower::Service<
                http::Request<tonic::body::Body>,
                Response = http::Response<tonic::body::Body>,
            > + Clone
            + Send
            + Sync
            + 'static,
        S::Error: Into<BoxError>,
        S::Future: Send + 'static,
    {
        let service = BoxCloneSyncService::new(service.map_err(|e| TransportError(e.into())));
        Self {
            client: WorkflowServiceClient::new(service),
        }
    }

    pub(crate) fn client(&self) -> WorkflowServiceClient<GrpcService> {
        self.client.clone()
    }

    /// The pages and the API as one router.
    pub fn router(self) -> axum::Router {
        pages::routes().merge(api::routes()).with_state(self)
    }

    /// Serves the UI on `listener` until `shutdown` resolves.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }
}
