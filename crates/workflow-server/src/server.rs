//! Starting and stopping the server, in-process or from the `start-dev` command.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::codec::CompressionEncoding;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Certificate, Identity, ServerTlsConfig};

use std::path::PathBuf;

use tokio::sync::Semaphore;

use crate::compression::AnswerAsAsked;
use crate::engine::{Engine, TimeSkipping};
use crate::frontend::Frontend;
use crate::generated::workflow_service_server::WorkflowServiceServer;
use crate::limits::{MAX_MESSAGE_SIZE, MAX_OPEN_POLLS};
use crate::namespaces::Namespaces;
use crate::store::{self, StoreError, StoreFailure};
use crate::tls::{TlsError, TlsListener};
use crate::unimplemented::NameUnimplemented;

/// How long shutdown waits for open requests.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// How often closed runs past their namespace's retention are deleted, by default.
pub const RETENTION_SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// The gRPC port of `temporal server start-dev`.
pub const DEFAULT_PORT: u16 = 7233;

/// How to start a server.
///
/// ```
/// use workflow_server::ServerOptions;
/// let options = ServerOptions::new().port(0).namespace("orders");
/// assert_eq!(options.port, 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerOptions {
    /// Address to listen on. Default 127.0.0.1.
    pub ip: IpAddr,
    /// gRPC port; 0 picks a free one. Default 0 (the `start-dev` command defaults to 7233).
    pub port: u16,
    /// Namespaces to create besides `default`.
    pub namespaces: Vec<String>,
    /// The SQLite file to keep executions in; `None` keeps them in memory only.
    pub db_filename: Option<PathBuf>,
    /// Whether the clock jumps to the next timer or timeout when no task is waiting or
    /// running (as Temporal's test server does). Default off.
    pub time_skipping: bool,
    /// With time skipping on, whether the clock skips only while a client awaits a
    /// workflow's result (as Temporal's time-skipping test server does), so a test can act
    /// between steps in real time; otherwise it skips whenever nothing runs. Default off.
    pub time_skipping_while_awaited: bool,
    /// TLS (and mTLS) on the gRPC port; `None` serves plain text.
    pub tls: Option<ServerTls>,
    /// Most long polls (task and history) held at once; more are refused with
    /// RESOURCE_EXHAUSTED, so a flood of pollers cannot exhaust memory. Default 4096.
    pub max_open_polls: usize,
    /// Most closed runs kept in memory; the others are read back from the store when asked
    /// for, so memory does not grow with every workflow ever run. Open runs always stay in
    /// memory. Default 1,000.
    pub run_cache_size: usize,
    /// How often closed runs past their namespace's retention are deleted. Default 60 s.
    pub retention_sweep_interval: Duration,
    /// The port of the Web UI and its JSON API (0 picks a free one), on the same address;
    /// `None` runs headless. Default `None` (the `start-dev` command serves it on the gRPC
    /// port + 1000).
    pub ui_port: Option<u16>,
    /// Whether the Web UI has the gRPC port's TLS. Default [`UiTransport::SameAsGrpc`].
    pub ui_transport: UiTransport,
}

/// How the Web UI is served: without TLS on the gRPC port it is plain HTTP whatever this
/// says, though [`UiTransport::BehindTlsProxy`] still accepts `https://` origins.
///
/// Under mTLS a UI action must need the same trust as the gRPC call it makes, so a plain
/// UI on a non-loopback address is refused at start-up unless it is
/// [`UiTransport::BehindTlsProxy`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UiTransport {
    /// With the gRPC port's certificate and key, and under mTLS requiring client
    /// certificates from its client CA.
    #[default]
    SameAsGrpc,
    /// Plain HTTP, e.g. for a browser on this machine that does not trust the server's CA.
    /// Refused under mTLS unless the address is a loopback one.
    PlainHttp,
    /// Plain HTTP for a TLS-terminating proxy in front, which must check client
    /// certificates itself where they matter, and pass the browser's `Host` on. Allowed
    /// on any address; `https://` origins are accepted (`start-dev --ui-behind-tls-proxy`).
    BehindTlsProxy,
}

/// The server's certificate and key, and for mTLS the CA whose client certificates it
/// accepts (clients without one are then refused). All PEM.
///
/// ```
/// use workflow_server::{ServerOptions, ServerTls};
/// # let (cert, key, ca) = (Vec::new(), Vec::new(), Vec::new());
/// let options = ServerOptions::new().tls(ServerTls::new(cert, key).client_ca(ca));
/// assert!(options.tls.is_some());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerTls {
    /// The certificate chain the server presents.
    pub cert_pem: Vec<u8>,
    /// Its private key.
    pub key_pem: Vec<u8>,
    /// With mTLS: the CA that signs client certificates.
    pub client_ca_pem: Option<Vec<u8>>,
}

impl ServerTls {
    /// TLS with this certificate and key.
    pub fn new(cert_pem: impl Into<Vec<u8>>, key_pem: impl Into<Vec<u8>>) -> Self {
        Self {
            cert_pem: cert_pem.into(),
            key_pem: key_pem.into(),
            client_ca_pem: None,
        }
    }

    /// Requires client certificates signed by this CA (mTLS).
    pub fn client_ca(mut self, ca_pem: impl Into<Vec<u8>>) -> Self {
        self.client_ca_pem = Some(ca_pem.into());
        self
    }
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            namespaces: Vec::new(),
            db_filename: None,
            time_skipping: false,
            time_skipping_while_awaited: false,
            tls: None,
            max_open_polls: MAX_OPEN_POLLS,
            run_cache_size: crate::engine::DEFAULT_RUN_CACHE,
            ui_port: None,
            ui_transport: UiTransport::SameAsGrpc,
            retention_sweep_interval: RETENTION_SWEEP_INTERVAL,
        }
    }
}

impl ServerOptions {
    /// Loopback, a free port, the `default` namespace.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the address to listen on.
    pub fn ip(mut self, ip: IpAddr) -> Self {
        self.ip = ip;
        self
    }

    /// Sets the gRPC port (0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Keeps executions in a SQLite file (created if missing), so they outlive the process.
    pub fn db_filename(mut self, path: impl Into<PathBuf>) -> Self {
        self.db_filename = Some(path.into());
        self
    }

    /// With time skipping on, skips only while a client awaits a workflow's result.
    pub fn time_skipping_while_awaited(mut self, on: bool) -> Self {
        self.time_skipping_while_awaited = on;
        self
    }

    /// Turns time skipping on or off.
    pub fn time_skipping(mut self, on: bool) -> Self {
        self.time_skipping = on;
        self
    }

    /// Serves TLS (or mTLS) instead of plain text.
    pub fn tls(mut self, tls: ServerTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Sets how many long polls may be open at once.
    pub fn max_open_polls(mut self, limit: usize) -> Self {
        self.max_open_polls = limit;
        self
    }

    /// Sets how many closed runs stay in memory (see [`ServerOptions::run_cache_size`]).
    pub fn run_cache_size(mut self, runs: usize) -> Self {
        self.run_cache_size = runs;
        self
    }

    /// Sets how often closed runs past retention are deleted.
    pub fn retention_sweep_interval(mut self, every: Duration) -> Self {
        self.retention_sweep_interval = every;
        self
    }

    /// Serves the Web UI on this port (0: any free one); see [`RunningServer::ui_address`].
    pub fn ui_port(mut self, port: u16) -> Self {
        self.ui_port = Some(port);
        self
    }

    /// Sets whether the Web UI has the gRPC port's TLS.
    pub fn ui_transport(mut self, transport: UiTransport) -> Self {
        self.ui_transport = transport;
        self
    }

    /// Adds a namespace.
    pub fn namespace(mut self, name: impl Into<String>) -> Self {
        self.namespaces.push(name.into());
        self
    }
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The address could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A TLS certificate, key or client CA cannot be used; nothing was started.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A plain-HTTP Web UI on a non-loopback address under mTLS: it would let anyone who
    /// reaches it act without a client certificate.
    #[error(
        "refusing to serve the Web UI as plain HTTP on {ip} while the gRPC port requires \
         client certificates: anyone reaching it could act without one. Serve it with TLS \
         (the default), listen on a loopback address, or, when a TLS-terminating proxy in \
         front checks client certificates, say so (`--ui-behind-tls-proxy`, \
         UiTransport::BehindTlsProxy)"
    )]
    PlainUiUnderMtls {
        /// The non-loopback address.
        ip: IpAddr,
    },
    /// The gRPC server failed.
    #[error("the gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// The store could not be opened or read.
    #[error("the store: {0}")]
    Store(#[from] StoreError),
    /// A change could not be stored.
    #[error("{0}")]
    Write(#[from] StoreFailure),
    /// The Web UI failed.
    #[error("the Web UI failed: {0}")]
    Ui(#[source] std::io::Error),
    /// The server task panicked or was cancelled.
    #[error("the server task ended abnormally: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Deletes closed runs past their namespace's retention, every `every`.
async fn sweep_retention(engine: Arc<Engine>, namespaces: Arc<Namespaces>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let retention = |name: &str| namespaces.get(name).map(|n| n.retention);
        if let Err(error) = engine.expire_closed_runs(retention).await {
            tracing::warn!(%error, "could not delete runs past retention");
        }
    }
}

/// Listens on `wanted`; answers the listener and the address it got (the port, for 0).
async fn bind(wanted: SocketAddr) -> Result<(tokio::net::TcpListener, SocketAddr), ServerError> {
    let failed = |source| ServerError::Bind {
        address: wanted,
        source,
    };
    let listener = tokio::net::TcpListener::bind(wanted)
        .await
        .map_err(failed)?;
    let address = listener.local_addr().map_err(failed)?;
    Ok((listener, address))
}

/// The Web UI's TLS configuration, `None` for plain HTTP; checks the certificate, key and
/// client CA whether or not the UI is served, and refuses a plain UI that would get around
/// mTLS.
fn ui_tls(options: &ServerOptions) -> Result<Option<Arc<rustls::ServerConfig>>, ServerError> {
    let Some(tls) = &options.tls else {
        return Ok(None);
    };
    let config = crate::tls::ui_config(tls)?;
    match options.ui_transport {
        UiTransport::SameAsGrpc => Ok(Some(config)),
        UiTransport::PlainHttp
            if options.ui_port.is_some()
                && tls.client_ca_pem.is_some()
                && !options.ip.is_loopback() =>
        {
            Err(ServerError::PlainUiUnderMtls { ip: options.ip })
        }
        UiTransport::PlainHttp | UiTransport::BehindTlsProxy => Ok(None),
    }
}

/// A server running on the current tokio runtime.
#[derive(Debug)]
pub struct RunningServer {
    address: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), tonic::transport::Error>>,
    deadlines: JoinHandle<()>,
    retention: JoinHandle<()>,
    ui: Option<WebUi>,
    engine: Arc<Engine>,
}

/// A handle on a running server's clock: [`RunningServer::now`] and
/// [`RunningServer::skip_time`] for code that cannot borrow the server.
#[derive(Clone)]
pub struct ServerClock(Arc<Engine>);

impl std::fmt::Debug for ServerClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ServerClock").field(&self.0.now()).finish()
    }
}

impl ServerClock {
    /// The server's time.
    pub fn now(&self) -> std::time::SystemTime {
        self.0.now()
    }

    /// Moves the server's clock forward, as [`RunningServer::skip_time`] does.
    pub async fn skip(&self, by: Duration) -> Result<std::time::SystemTime, ServerError> {
        Ok(self.0.skip_time(by).await?)
    }
}

/// The Web UI's listener and task.
#[derive(Debug)]
struct WebUi {
    address: SocketAddr,
    tls: bool,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

type Boxed<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl RunningServer {
    /// Starts a server; it listens before this returns, so clients may connect at once.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use workflow_server::{RunningServer, ServerOptions};
    /// let server = RunningServer::start(ServerOptions::new()).await?;
    /// println!("listening on {}", server.target());
    /// server.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub async fn start(options: ServerOptions) -> Result<Self, ServerError> {
        Self::start_here(options).await
    }

    /// An async body is compiled where it is polled: boxed here, the whole server (every
    /// task `start` spawns) is compiled once, with this crate, instead of in every program
    /// that embeds it.
    fn start_here(options: ServerOptions) -> Boxed<Result<Self, ServerError>> {
        Box::pin(Self::start_serving(options))
    }

    async fn start_serving(options: ServerOptions) -> Result<Self, ServerError> {
        // Everything about TLS is checked before anything listens.
        let ui_tls = ui_tls(&options)?;
        let (listener, address) = bind(SocketAddr::new(options.ip, options.port)).await?;
        let ui_listener = match options.ui_port {
            Some(port) => Some(bind(SocketAddr::new(options.ip, port)).await?),
            None => None,
        };
        let store = store::open(options.db_filename.as_deref())?;
        let skipping = match (options.time_skipping, options.time_skipping_while_awaited) {
            (false, _) => TimeSkipping::Off,
            (true, false) => TimeSkipping::WhenIdle,
            (true, true) => TimeSkipping::WhileResultsAwaited,
        };
        let (engine, stored) = Engine::open(store, skipping, options.run_cache_size)?;
        let engine = Arc::new(engine);
        let (namespaces, created) = Namespaces::restore(stored, &options.namespaces);
        for namespace in created {
            engine
                .store_namespace(namespace.record())
                .await
                .map_err(|e| StoreFailure(e.to_string()))?;
        }
        let deadlines = tokio::spawn(Arc::clone(&engine).run_deadlines());
        let namespaces = Arc::new(namespaces);
        let retention = tokio::spawn(sweep_retention(
            Arc::clone(&engine),
            Arc::clone(&namespaces),
            options.retention_sweep_interval,
        ));
        let frontend = Frontend {
            namespaces,
            engine: Arc::clone(&engine),
            polls: Arc::new(Semaphore::new(options.max_open_polls)),
        };
        // Real SDKs send gzip-compressed requests; answers are compressed when the
        // request was (see `AnswerAsAsked`).
        let service = WorkflowServiceServer::new(frontend)
            .accept_compressed(CompressionEncoding::Gzip)
            .send_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(usize::MAX);
        // `temporal operator cluster health` and load balancers ask the standard health
        // service about the workflow service.
        let (health, health_service) = tonic_health::server::health_reporter();
        health
            .set_serving::<WorkflowServiceServer<Frontend>>()
            .await;
        // The UI calls the same service in-process: no second connection, and it works
        // whatever TLS the gRPC port demands.
        let ui = ui_listener.map(|(listener, address)| {
            let (stop, stopped) = oneshot::channel::<()>();
            let guard = workflow_ui::Guard::for_address(address)
                .https(ui_tls.is_some())
                .behind_tls_proxy(options.ui_transport == UiTransport::BehindTlsProxy);
            let ui = workflow_ui::Ui::new(service.clone()).guard(guard);
            let stopped = async {
                let _ = stopped.await;
            };
            let tls = ui_tls.is_some();
            let task = match ui_tls {
                Some(config) => {
                    tokio::spawn(ui.serve_from(TlsListener::new(listener, config), stopped))
                }
                None => tokio::spawn(ui.serve(listener, stopped)),
            };
            tracing::info!(%address, tls, "web UI listening");
            WebUi {
                address,
                tls,
                stop,
                task,
            }
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let mut builder = tonic::transport::Server::builder();
        if let Some(tls) = &options.tls {
            let mut config =
                ServerTlsConfig::new().identity(Identity::from_pem(&tls.cert_pem, &tls.key_pem));
            if let Some(ca) = &tls.client_ca_pem {
                config = config.client_ca_root(Certificate::from_pem(ca));
            }
            builder = builder.tls_config(config)?;
        }
        let task = tokio::spawn(
            builder
                .add_service(AnswerAsAsked(
                    health_service
                        .accept_compressed(CompressionEncoding::Gzip)
                        .send_compressed(CompressionEncoding::Gzip),
                ))
                .add_service(AnswerAsAsked(NameUnimplemented(service)))
                // Without TCP_NODELAY, small answers wait on delayed ACKs (~40 ms each).
                .serve_with_incoming_shutdown(
                    TcpIncoming::from(listener).with_nodelay(Some(true)),
                    async {
                        let _ = stopped.await;
                    },
                ),
        );
        tracing::info!(%address, "server listening");
        Ok(Self {
            address,
            stop,
            task,
            deadlines,
            retention,
            ui,
            engine,
        })
    }

    /// The address of the Web UI, unless headless.
    pub fn ui_address(&self) -> Option<SocketAddr> {
        self.ui.as_ref().map(|ui| ui.address)
    }

    /// The Web UI's URL (`https://` when it has TLS), unless headless.
    pub fn ui_url(&self) -> Option<String> {
        self.ui.as_ref().map(|ui| {
            let scheme = if ui.tls { "https" } else { "http" };
            format!("{scheme}://{}", ui.address)
        })
    }

    /// The address it listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `host:port`, as clients take it.
    pub fn target(&self) -> String {
        self.address.to_string()
    }

    /// How many runs the engine holds in memory, open and closed: for tests that check
    /// memory stays bounded by the run cache.
    #[doc(hidden)]
    pub fn runs_in_memory(&self) -> crate::engine::RunsInMemory {
        self.engine.runs_in_memory()
    }

    /// The server's clock: the wall clock plus what time skipping has skipped. Histories and
    /// timers follow it.
    pub fn now(&self) -> std::time::SystemTime {
        self.engine.now()
    }

    /// A handle on the server's clock that outlives borrows of the server (for test code
    /// that moves time from inside an activity or a spawned task).
    pub fn clock(&self) -> ServerClock {
        ServerClock(self.engine.clone())
    }

    /// Moves the server's clock forward by `by`, as if that much time had passed: timers due
    /// by then fire, and timeouts and retry backoffs due by then come due. Returns the new
    /// time once what came due is stored. Meant for tests (with or without time skipping).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use workflow_server::{RunningServer, ServerOptions};
    /// let server = RunningServer::start(ServerOptions::new().port(0)).await?;
    /// let before = server.now();
    /// let after = server.skip_time(Duration::from_secs(3600)).await?;
    /// assert!(after.duration_since(before)? >= Duration::from_secs(3600));
    /// server.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub async fn skip_time(&self, by: Duration) -> Result<std::time::SystemTime, ServerError> {
        Ok(self.engine.skip_time(by).await?)
    }

    /// Stops accepting requests and returns once running ones finish, or after
    /// [`SHUTDOWN_GRACE`] at most: open long polls would otherwise hold it for a minute.
    pub async fn shutdown(self) -> Result<(), ServerError> {
        self.shutdown_here().await
    }

    /// Boxed for the reason `start` is.
    fn shutdown_here(self) -> Boxed<Result<(), ServerError>> {
        Box::pin(self.stop_serving())
    }

    async fn stop_serving(self) -> Result<(), ServerError> {
        let _ = self.stop.send(());
        self.deadlines.abort();
        self.retention.abort();
        let mut ended = Ok(());
        if let Some(ui) = self.ui {
            let _ = ui.stop.send(());
            let mut task = ui.task;
            match tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await {
                Ok(result) => {
                    ended = result
                        .map_err(ServerError::from)
                        .and_then(|r| r.map_err(ServerError::Ui))
                }
                Err(_) => task.abort(),
            }
        }
        let mut task = self.task;
        match tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await {
            Ok(result) => {
                let grpc = result
                    .map_err(ServerError::from)
                    .and_then(|r| r.map_err(ServerError::from));
                ended = ended.and(grpc);
            }
            Err(_) => {
                tracing::warn!("requests still open after the grace period; closing them");
                task.abort();
            }
        }
        // Last, whatever ended above: what the requests wrote is in the file, and no WAL is
        // left beside it.
        let closed = self.engine.close().await.map_err(ServerError::from);
        ended.and(closed)
    }
}
