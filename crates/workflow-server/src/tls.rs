//! The TLS inputs checked at start-up (so a bad file is named before anything listens),
//! and the Web UI's TLS: its rustls configuration and a listener that hands out TLS
//! streams.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::server::ServerTls;

/// How long a Web UI client may take over its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Which TLS input is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsPart {
    /// [`ServerTls::cert_pem`].
    Certificate,
    /// [`ServerTls::key_pem`].
    Key,
    /// [`ServerTls::client_ca_pem`].
    ClientCa,
}

impl std::fmt::Display for TlsPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Certificate => "TLS certificate",
            Self::Key => "TLS key",
            Self::ClientCa => "client CA",
        })
    }
}

/// What is wrong with a TLS input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsProblem {
    /// A PEM section is malformed.
    #[error("it is not valid PEM: {0}")]
    NotPem(#[source] rustls_pki_types::pem::Error),
    /// No `CERTIFICATE` section.
    #[error("it holds no PEM certificate")]
    NoCertificate,
    /// No private key section (PKCS#8, PKCS#1 or SEC1).
    #[error("it holds no PEM private key")]
    NoKey,
    /// A key of a kind or shape that cannot sign.
    #[error("it is not a usable private key: {0}")]
    BadKey(#[source] rustls::Error),
    /// The key is not the certificate's.
    #[error("it does not match the TLS certificate")]
    KeyMismatch,
    /// A certificate that does not parse, or cannot be used as a trust anchor.
    #[error("it is not a usable certificate: {0}")]
    BadCertificate(#[source] rustls::Error),
    /// The CA's certificates cannot verify clients.
    #[error("it cannot verify client certificates: {0}")]
    NoUsableCa(#[source] rustls::server::VerifierBuilderError),
}

/// A TLS input and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("the {part} is unusable: {problem}")]
pub struct TlsError {
    /// Which input.
    pub part: TlsPart,
    /// What is wrong.
    #[source]
    pub problem: TlsProblem,
}

fn wrong(part: TlsPart) -> impl Fn(TlsProblem) -> TlsError {
    move |problem| TlsError { part, problem }
}

fn certificates(pem: &[u8], part: TlsPart) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| wrong(part)(TlsProblem::NotPem(e)))?;
    if certs.is_empty() {
        return Err(wrong(part)(TlsProblem::NoCertificate));
    }
    Ok(certs)
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Checks the certificate, the key, that they belong together and the client CA, and
/// answers the Web UI's TLS configuration for them.
pub(crate) fn ui_config(tls: &ServerTls) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let provider = provider();
    let chain = certificates(&tls.cert_pem, TlsPart::Certificate)?;
    let key = PrivateKeyDer::from_pem_slice(&tls.key_pem).map_err(|e| {
        wrong(TlsPart::Key)(match e {
            rustls_pki_types::pem::Error::NoItemsFound => TlsProblem::NoKey,
            other => TlsProblem::NotPem(other),
        })
    })?;
    let signing_key = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| wrong(TlsPart::Key)(TlsProblem::BadKey(e)))?;
    let certified = CertifiedKey::new(chain, signing_key);
    match certified.keys_match() {
        // A key that cannot tell its public half is checked by the handshake instead.
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
        Err(rustls::Error::InconsistentKeys(_)) => {
            return Err(wrong(TlsPart::Key)(TlsProblem::KeyMismatch));
        }
        Err(other) => {
            return Err(wrong(TlsPart::Certificate)(TlsProblem::BadCertificate(
                other,
            )));
        }
    }
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports the default protocol versions");
    let builder = match &tls.client_ca_pem {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for cert in certificates(ca, TlsPart::ClientCa)? {
                roots
                    .add(cert)
                    .map_err(|e| wrong(TlsPart::ClientCa)(TlsProblem::BadCertificate(e)))?;
            }
            // Client certificates required: the UI acts with the trust of a gRPC call.
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| wrong(TlsPart::ClientCa)(TlsProblem::NoUsableCa(e)))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_cert_resolver(Arc::new(SingleCert(Arc::new(certified))));
    // The UI speaks HTTP/1.1 only.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The one certificate, whatever name the client asks for.
#[derive(Debug)]
struct SingleCert(Arc<CertifiedKey>);

impl rustls::server::ResolvesServerCert for SingleCert {
    fn resolve(&self, _hello: rustls::server::ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.0))
    }
}

/// Hands out TLS streams. TCP accepts happen in one task and each handshake in its own,
/// under a deadline, so a client that stalls its handshake holds up no one else.
pub(crate) struct TlsListener {
    local: SocketAddr,
    accepted: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    _acceptor: AbortOnDrop,
}

/// Ends the accepting task (and with it the handshakes under way) with the listener.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl TlsListener {
    pub(crate) fn new(listener: TcpListener, config: Arc<rustls::ServerConfig>) -> Self {
        let local = listener
            .local_addr()
            .expect("a bound listener has an address");
        let (ready, accepted) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        let task = tokio::spawn(async move {
            let mut handshakes = JoinSet::new();
            loop {
                tokio::select! {
                    next = listener.accept() => match next {
                        Ok((tcp, peer)) => {
                            let _ = tcp.set_nodelay(true);
                            let (acceptor, ready) = (acceptor.clone(), ready.clone());
                            handshakes.spawn(async move {
                                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                                    Ok(Ok(stream)) => {
                                        let _ = ready.send((stream, peer)).await;
                                    }
                                    Ok(Err(error)) => {
                                        tracing::debug!(%peer, %error, "web UI TLS handshake failed");
                                    }
                                    Err(_) => tracing::debug!(%peer, "web UI TLS handshake timed out"),
                                }
                            });
                        }
                        Err(error) => {
                            // Out of file descriptors, say: back off rather than spin.
                            tracing::warn!(%error, "web UI cannot accept a connection");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    },
                    Some(_) = handshakes.join_next(), if !handshakes.is_empty() => {}
                }
            }
        });
        Self {
            local,
            accepted,
            _acceptor: AbortOnDrop(task),
        }
    }
}

impl workflow_ui::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.accepted.recv().await {
            Some(next) => next,
            // The accepting task ended (it only does by panicking): accept nothing more.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
