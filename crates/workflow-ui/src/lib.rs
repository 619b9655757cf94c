#![warn(missing_docs)]
//! The Web UI of the dev server, and the JSON HTTP API its pages use.
//!
//! The pages list namespaces and workflows (with Temporal's filter language, a status
//! filter, paging, auto-refresh, durations and relative times) and show one workflow: a
//! timeline chart (a lane per activity, timer, child, signal and update; retries, failures
//! and pending work marked; zoom; keyboard navigation), input, result or failure with its
//! cause chain, pending activities, children and timers, the history as events, grouped
//! per activity, timer and child, and as raw JSON, and the call stack when the worker
//! answers `__stack_trace`. From there a user can signal, update, cancel or terminate that run,
//! after confirming. The chart is SVG drawn by the page's own script; the pages follow the
//! system's light or dark theme.
//!
//! The API (`/api/v1/...`) follows Temporal's HTTP API: the same routes, names and proto3
//! JSON shapes. It speaks gRPC to the workflow service it is given: the embedded server
//! hands it its own service in-process, and a [`tonic::transport::Channel`] reaches any
//! Temporal frontend. Everything is embedded in the binary; there is no build step.
//!
//! Every request passes a [`Guard`] first: a loopback-bound UI answers only to loopback
//! host names (against DNS rebinding), and a POST from another origin is refused (against
//! cross-site request forgery). Every answer carries a Content-Security-Policy,
//! `X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff` and
//! `Referrer-Policy: no-referrer`. TLS is the listener's: [`Ui::serve_from`] takes any
//! [`Listener`], a TLS one included.
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
mod guard;
mod json;
mod pages;

use std::future::Future;

use tower::BoxError;
use tower::ServiceExt;
use tower::util::BoxCloneSyncService;
use workflow_client::grpc::WorkflowServiceClient;

pub use api::CALL_TIMEOUT;
/// What [`Ui::serve_from`] takes connections from.
pub use axum::serve::Listener;
pub use error::ApiError;
pub use guard::Guard;

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
    guard: Option<Guard>,
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
            guard: None,
        }
    }

    /// Sets the checks on `Host` and `Origin` (see [`Guard`]). Without it, [`Ui::serve`]
    /// takes [`Guard::for_address`] of its listener, and [`Ui::router`] and
    /// [`Ui::serve_from`] take [`Guard::default`] (loopback names, plain HTTP).
    pub fn guard(mut self, guard: Guard) -> Self {
        self.guard = Some(guard);
        self
    }

    pub(crate) fn client(&self) -> WorkflowServiceClient<GrpcService> {
        self.client.clone()
    }

    /// The pages and the API as one router, behind the guard and with the security
    /// headers on every answer.
    pub fn router(self) -> axum::Router {
        let guard = self.guard.clone().unwrap_or_default();
        pages::routes()
            .merge(api::routes())
            .with_state(self)
            .layer(axum::middleware::from_fn_with_state(guard, guard::check))
            // Outermost, so refusals carry the headers too.
            .layer(axum::middleware::from_fn(guard::secure_headers))
    }

    /// Serves the UI on `listener` until `shutdown` resolves, as plain HTTP.
    pub async fn serve(
        mut self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        if self.guard.is_none() {
            self.guard = Some(Guard::for_address(listener.local_addr()?));
        }
        self.serve_from(listener, shutdown).await
    }

    /// Serves the UI on connections from `listener` (a TLS listener, say) until
    /// `shutdown` resolves.
    pub async fn serve_from<L>(
        self,
        listener: L,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()>
    where
        L: Listener,
        L::Addr: std::fmt::Debug,
    {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }
}
