//! How to reach the server: address, namespace, identity, TLS, API key, retries.

use std::path::Path;
use std::time::Duration;

use crate::Error;

/// TLS settings: server root CA, domain override, client certificate and key (mTLS).
///
/// Without a CA, the public web roots are trusted (as for Temporal Cloud).
///
/// ```no_run
/// use workflow_client::TlsOptions;
/// let tls = TlsOptions::new()
///     .client_identity_files("client.pem", "client.key")?
///     .domain("my-ns.a1b2c.tmprl.cloud");
/// # Ok::<(), workflow_client::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// PEM of the CA that signed the server certificate.
    pub server_root_ca: Option<Vec<u8>>,
    /// Name to verify the server certificate against, when it differs from the host.
    pub domain: Option<String>,
    /// PEM of the client certificate (mTLS).
    pub client_cert: Option<Vec<u8>>,
    /// PEM of the client private key (mTLS).
    pub client_key: Option<Vec<u8>>,
}

impl TlsOptions {
    /// TLS trusting the public web roots.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts this CA (PEM) for the server certificate.
    pub fn server_root_ca(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.server_root_ca = Some(pem.into());
        self
    }

    /// Verifies the server certificate against this name.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Presents this client certificate and key (PEM) to the server.
    pub fn client_identity(mut self, cert: impl Into<Vec<u8>>, key: impl Into<Vec<u8>>) -> Self {
        self.client_cert = Some(cert.into());
        self.client_key = Some(key.into());
        self
    }

    /// Reads the client certificate and key from PEM files.
    pub fn client_identity_files(
        self,
        cert: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<Self, Error> {
        let cert = read(cert.as_ref())?;
        let key = read(key.as_ref())?;
        Ok(self.client_identity(cert, key))
    }

    /// Reads the server root CA from a PEM file.
    pub fn server_root_ca_file(self, path: impl AsRef<Path>) -> Result<Self, Error> {
        let pem = read(path.as_ref())?;
        Ok(self.server_root_ca(pem))
    }
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))
}

/// How transient gRPC errors (unavailable, resource exhausted, aborted, internal) are retried.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcRetryOptions {
    /// First delay. Default 100 ms.
    pub initial_interval: Duration,
    /// Growth factor of the delay. Default 1.7.
    pub multiplier: f64,
    /// Largest delay. Default 5 s.
    pub max_interval: Duration,
    /// Give up after this long. Default 10 s.
    pub max_elapsed: Duration,
    /// Give up after this many attempts, the first included. Default 10.
    pub max_attempts: u32,
}

impl Default for RpcRetryOptions {
    fn default() -> Self {
        Self {
            initial_interval: Duration::from_millis(100),
            multiplier: 1.7,
            max_interval: Duration::from_secs(5),
            max_elapsed: Duration::from_secs(10),
            max_attempts: 10,
        }
    }
}

impl RpcRetryOptions {
    /// No retries at all.
    pub fn disabled() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }
}

/// Options to connect a [`Client`](crate::Client).
///
/// ```no_run
/// use std::time::Duration;
/// use workflow_client::{ClientOptions, TlsOptions};
/// # async fn run() -> Result<(), workflow_client::Error> {
/// let client = ClientOptions::new("my-ns.a1b2c.tmprl.cloud:7233")
///     .namespace("my-ns.a1b2c")
///     .api_key("my-api-key")
///     .tls(TlsOptions::new())
///     .connect_timeout(Duration::from_secs(5))
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// `host:port` (or a full `http://` / `https://` URL).
    pub target: String,
    /// Namespace of every call. Default `default`.
    pub namespace: String,
    /// Identity recorded in history for this client's actions. Default `pid@hostname`.
    pub identity: String,
    /// TLS settings; `None` is plaintext.
    pub tls: Option<TlsOptions>,
    /// Sent as `authorization: Bearer <key>`.
    pub api_key: Option<String>,
    /// Extra gRPC metadata sent with every call.
    pub headers: Vec<(String, String)>,
    /// Limit for establishing the connection. Default 10 s.
    pub connect_timeout: Duration,
    /// Retries of transient gRPC errors.
    pub retry: RpcRetryOptions,
    /// Largest payload (and argument list) sent, in bytes. Default 2 MB.
    pub payload_size_limit: usize,
}

impl ClientOptions {
    /// Options for a server at `target` (`host:port`).
    pub fn new(target: impl Into<String>) -> Self {
        Self {
            target: target.into(),
            namespace: "default".to_owned(),
            identity: default_identity(),
            tls: None,
            api_key: None,
            headers: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            retry: RpcRetryOptions::default(),
            payload_size_limit: workflow_core::payload::DEFAULT_PAYLOAD_SIZE_LIMIT,
        }
    }

    /// Sets the namespace.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// Sets the identity.
    pub fn identity(mut self, identity: impl Into<String>) -> Self {
        self.identity = identity.into();
        self
    }

    /// Enables TLS.
    pub fn tls(mut self, tls: TlsOptions) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Authenticates with an API key. Enables TLS with public roots if TLS is not set, as
    /// API keys are only accepted over TLS.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Adds a gRPC metadata header to every call.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the connect timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the retry of transient errors.
    pub fn retry(mut self, retry: RpcRetryOptions) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the largest payload sent, in bytes.
    pub fn payload_size_limit(mut self, bytes: usize) -> Self {
        self.payload_size_limit = bytes;
        self
    }

    /// Connects.
    pub async fn connect(self) -> Result<crate::Client, Error> {
        crate::Client::connect_with(self).await
    }
}

fn default_identity() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_owned());
    format!("{}@{host}", std::process::id())
}
