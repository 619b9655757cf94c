//! TLS and mTLS on our server, end to end with our client, with certificates made here.

use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use workflow_client::{ClientOptions, RpcRetryOptions, TlsOptions};
use workflow_server::{RunningServer, ServerOptions, ServerTls};

const SERVER_NAME: &str = "workflow-server.test";

struct Pki {
    ca_pem: String,
    server_cert_pem: String,
    server_key_pem: String,
    client_cert_pem: String,
    client_key_pem: String,
    other_ca_pem: String,
}

fn ca() -> (String, Issuer<'static, KeyPair>) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), Issuer::new(params, key))
}

fn issue(name: &str, issuer: &Issuer<'static, KeyPair>) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec![name.to_owned()])
        .unwrap()
        .signed_by(&key, issuer)
        .unwrap();
    (cert.pem(), key.serialize_pem())
}

fn pki() -> Pki {
    let (ca_pem, issuer) = ca();
    let (server_cert_pem, server_key_pem) = issue(SERVER_NAME, &issuer);
    let (client_cert_pem, client_key_pem) = issue("test-client", &issuer);
    let (other_ca_pem, _) = ca();
    Pki {
        ca_pem,
        server_cert_pem,
        server_key_pem,
        client_cert_pem,
        client_key_pem,
        other_ca_pem,
    }
}

fn options(target: String) -> ClientOptions {
    ClientOptions::new(target)
        .connect_timeout(Duration::from_secs(5))
        .retry(RpcRetryOptions::disabled())
}

/// Whether a client with `tls` gets an answer from the server.
async fn reaches(target: &str, tls: Option<TlsOptions>) -> bool {
    let mut client = options(target.to_string());
    if let Some(tls) = tls {
        client = client.tls(tls);
    }
    let Ok(client) = client.connect().await else {
        return false;
    };
    client.count_workflows("").await.is_ok()
}

#[tokio::test]
async fn tls_serves_clients_that_trust_its_ca_and_refuses_the_rest() {
    let pki = pki();
    let server = RunningServer::start(ServerOptions::new().tls(ServerTls::new(
        pki.server_cert_pem.clone(),
        pki.server_key_pem.clone(),
    )))
    .await
    .unwrap();
    let target = server.target();
    let trusting = TlsOptions::new()
        .server_root_ca(pki.ca_pem.as_bytes())
        .domain(SERVER_NAME);
    assert!(reaches(&target, Some(trusting)).await);
    let other = TlsOptions::new()
        .server_root_ca(pki.other_ca_pem.as_bytes())
        .domain(SERVER_NAME);
    assert!(!reaches(&target, Some(other)).await, "an untrusted CA");
    assert!(!reaches(&target, None).await, "plain text");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn mtls_requires_a_client_certificate_from_the_client_ca() {
    let pki = pki();
    let server = RunningServer::start(
        ServerOptions::new().tls(
            ServerTls::new(pki.server_cert_pem.clone(), pki.server_key_pem.clone())
                .client_ca(pki.ca_pem.clone()),
        ),
    )
    .await
    .unwrap();
    let target = server.target();
    let base = || {
        TlsOptions::new()
            .server_root_ca(pki.ca_pem.as_bytes())
            .domain(SERVER_NAME)
    };
    let with_identity = base().client_identity(
        pki.client_cert_pem.as_bytes(),
        pki.client_key_pem.as_bytes(),
    );
    assert!(reaches(&target, Some(with_identity)).await);
    assert!(
        !reaches(&target, Some(base())).await,
        "no client certificate"
    );
    server.shutdown().await.unwrap();
}
