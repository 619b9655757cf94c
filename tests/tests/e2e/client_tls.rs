//! TLS and mTLS: the client talks to the real Temporal dev server through a TLS-terminating
//! proxy (rustls) that presents a certificate from a test CA and, for mTLS, demands a client
//! certificate signed by that CA.

use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use workflow_client::{ClientOptions, Error, RpcRetryOptions, TlsOptions};
use workflow_core::payload::Args;
use workflow_tests::*;

/// The name in the proxy's certificate; the client reaches it as 127.0.0.1, so it must
/// override the domain it verifies.
const SERVER_NAME: &str = "temporal.test";

struct Pki {
    ca_pem: String,
    server_cert_pem: String,
    server_key_pem: String,
    client_cert_pem: String,
    client_key_pem: String,
}

fn issue_certificates() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate().unwrap();
    let server_cert = CertificateParams::new(vec![SERVER_NAME.to_owned()])
        .unwrap()
        .signed_by(&server_key, &issuer)
        .unwrap();
    let client_key = KeyPair::generate().unwrap();
    let client_cert = CertificateParams::new(vec!["test-client".to_owned()])
        .unwrap()
        .signed_by(&client_key, &issuer)
        .unwrap();
    Pki {
        ca_pem: ca_cert.pem(),
        server_cert_pem: server_cert.pem(),
        server_key_pem: server_key.serialize_pem(),
        client_cert_pem: client_cert.pem(),
        client_key_pem: client_key.serialize_pem(),
    }
}

/// Starts a TLS proxy in front of the dev server and returns its address.
async fn start_tls_proxy(pki: &Pki, require_client_cert: bool) -> String {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = if require_client_cert {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(pki.ca_pem.as_bytes()).unwrap())
            .unwrap();
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let mut config = builder
        .with_single_cert(
            vec![CertificateDer::from_pem_slice(pki.server_cert_pem.as_bytes()).unwrap()],
            PrivateKeyDer::from_pem_slice(pki.server_key_pem.as_bytes()).unwrap(),
        )
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let local = listener.local_addr().unwrap();
    let upstream = address();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let upstream = upstream.clone();
            tokio::spawn(async move {
                // A refused handshake just closes this connection.
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                let mut server = TcpStream::connect(upstream).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut server).await;
            });
        }
    });
    local.to_string()
}

fn tls_client(target: String) -> ClientOptions {
    ClientOptions::new(target)
        .connect_timeout(Duration::from_secs(5))
        .retry(RpcRetryOptions::disabled())
}

#[tokio::test]
async fn tls_with_a_private_ca_and_a_domain_override_runs_a_workflow() {
    let pki = issue_certificates();
    let proxy = start_tls_proxy(&pki, false).await;
    let client = tls_client(proxy)
        .tls(
            TlsOptions::new()
                .server_root_ca(pki.ca_pem.as_bytes())
                .domain(SERVER_NAME),
        )
        .connect()
        .await
        .unwrap();
    let out = client
        .execute_workflow(MULTI_ARG, Args(("tls".into(), 1, None)), options("tls"))
        .await
        .unwrap();
    assert_eq!(out, "tls|1|None");
}

#[tokio::test]
async fn a_server_certificate_from_an_untrusted_ca_is_refused() {
    let pki = issue_certificates();
    let other = issue_certificates();
    let proxy = start_tls_proxy(&pki, false).await;
    let err = tls_client(proxy.clone())
        .tls(
            TlsOptions::new()
                .server_root_ca(other.ca_pem.as_bytes())
                .domain(SERVER_NAME),
        )
        .connect()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Connection { .. }), "{err:?}");
}

#[tokio::test]
async fn without_the_domain_override_the_certificate_name_does_not_match() {
    let pki = issue_certificates();
    let proxy = start_tls_proxy(&pki, false).await;
    let err = tls_client(proxy)
        .tls(TlsOptions::new().server_root_ca(pki.ca_pem.as_bytes()))
        .connect()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Connection { .. }), "{err:?}");
}

#[tokio::test]
async fn mtls_presents_the_client_certificate_and_runs_a_workflow() {
    let pki = issue_certificates();
    let proxy = start_tls_proxy(&pki, true).await;
    let client = tls_client(proxy)
        .tls(
            TlsOptions::new()
                .server_root_ca(pki.ca_pem.as_bytes())
                .domain(SERVER_NAME)
                .client_identity(
                    pki.client_cert_pem.as_bytes(),
                    pki.client_key_pem.as_bytes(),
                ),
        )
        .connect()
        .await
        .unwrap();
    client
        .execute_workflow(NO_ARG, (), options("mtls"))
        .await
        .unwrap();
}

#[tokio::test]
async fn mtls_without_a_client_certificate_is_refused() {
    let pki = issue_certificates();
    let proxy = start_tls_proxy(&pki, true).await;
    let result = tls_client(proxy)
        .tls(
            TlsOptions::new()
                .server_root_ca(pki.ca_pem.as_bytes())
                .domain(SERVER_NAME),
        )
        .connect()
        .await;
    // TLS 1.3 finishes the client's side of the handshake before the server checks the
    // certificate, so the refusal may surface on the first call rather than the connect.
    let err = match result {
        Err(err) => err,
        Ok(client) => client
            .count_workflows("")
            .await
            .expect_err("a call without a client certificate must fail"),
    };
    assert!(
        matches!(err, Error::Connection { .. } | Error::Rpc { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn client_certificate_files_are_read_from_disk() {
    let pki = issue_certificates();
    let dir = std::env::temp_dir().join(unique_id("certs"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("client.pem"), &pki.client_cert_pem).unwrap();
    std::fs::write(dir.join("client.key"), &pki.client_key_pem).unwrap();
    std::fs::write(dir.join("ca.pem"), &pki.ca_pem).unwrap();
    let proxy = start_tls_proxy(&pki, true).await;
    let tls = TlsOptions::new()
        .server_root_ca_file(dir.join("ca.pem"))
        .unwrap()
        .client_identity_files(dir.join("client.pem"), dir.join("client.key"))
        .unwrap()
        .domain(SERVER_NAME);
    let client = tls_client(proxy).tls(tls).connect().await.unwrap();
    assert_eq!(
        client.count_workflows("WorkflowId = 'none'").await.unwrap(),
        0
    );
    let missing = TlsOptions::new().server_root_ca_file(dir.join("absent.pem"));
    assert!(
        matches!(missing, Err(Error::Config(ref m)) if m.contains("absent.pem")),
        "{missing:?}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
