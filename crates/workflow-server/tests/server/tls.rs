//! TLS and mTLS on our server, end to end with our client, with certificates made here;
//! the Web UI over the same TLS (and mTLS), and certificate and key errors at start-up.

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use workflow_client::{ClientOptions, RpcRetryOptions, TlsOptions};
use workflow_server::{
    RunningServer, ServerError, ServerOptions, ServerTls, TlsError, TlsPart, TlsProblem,
    UiTransport,
};

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

fn issue(names: &[&str], issuer: &Issuer<'static, KeyPair>) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let names = names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    let cert = CertificateParams::new(names)
        .unwrap()
        .signed_by(&key, issuer)
        .unwrap();
    (cert.pem(), key.serialize_pem())
}

fn pki() -> Pki {
    let (ca_pem, issuer) = ca();
    // `localhost` too: the Web UI's tests reach it under that name.
    let (server_cert_pem, server_key_pem) = issue(&[SERVER_NAME, "localhost"], &issuer);
    let (client_cert_pem, client_key_pem) = issue(&["test-client"], &issuer);
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

/// Sends `GET path` over `stream` and answers all the server wrote back (possibly nothing).
async fn get_over(
    mut stream: impl AsyncRead + AsyncWrite + Unpin,
    port: u16,
    path: &str,
) -> String {
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return String::new();
    }
    let mut answer = Vec::new();
    // A server that refuses the connection may end it without a TLS close: keep what came.
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// `GET path` over HTTPS from a client trusting `ca_pem`, presenting `identity` if given;
/// answers the response, or nothing when the handshake or the request fails.
async fn https_get(
    address: SocketAddr,
    ca_pem: &str,
    identity: Option<(&str, &str)>,
    path: &str,
) -> String {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots);
    let config = match identity {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => builder
            .with_client_auth_cert(
                CertificateDer::pem_slice_iter(cert.as_bytes())
                    .collect::<Result<_, _>>()
                    .unwrap(),
                PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
            )
            .unwrap(),
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(address).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    match connector.connect(name, tcp).await {
        Ok(tls) => get_over(tls, address.port(), path).await,
        Err(_) => String::new(),
    }
}

/// `GET path` as plain HTTP.
async fn http_get(address: SocketAddr, path: &str) -> String {
    get_over(
        TcpStream::connect(address).await.unwrap(),
        address.port(),
        path,
    )
    .await
}

const NAMESPACES: &str = "/api/v1/namespaces";

fn ok(answer: &str) -> bool {
    answer.starts_with("HTTP/1.1 200 ") && answer.contains("\"default\"")
}

#[tokio::test]
async fn the_web_ui_has_the_grpc_ports_tls_and_refuses_plain_http() {
    let pki = pki();
    let server = RunningServer::start(ServerOptions::new().ui_port(0).tls(ServerTls::new(
        pki.server_cert_pem.clone(),
        pki.server_key_pem.clone(),
    )))
    .await
    .unwrap();
    let ui = server.ui_address().unwrap();
    assert_eq!(server.ui_url().unwrap(), format!("https://{ui}"));
    let answer = https_get(ui, &pki.ca_pem, None, NAMESPACES).await;
    assert!(ok(&answer), "{answer}");
    let answer = https_get(ui, &pki.other_ca_pem, None, NAMESPACES).await;
    assert_eq!(answer, "", "a client that does not trust the server's CA");
    let answer = http_get(ui, NAMESPACES).await;
    assert!(!answer.contains("HTTP/1.1"), "plain HTTP: {answer}");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn under_mtls_the_web_ui_requires_a_client_certificate_from_the_client_ca() {
    let pki = pki();
    let server = RunningServer::start(
        ServerOptions::new().ui_port(0).tls(
            ServerTls::new(pki.server_cert_pem.clone(), pki.server_key_pem.clone())
                .client_ca(pki.ca_pem.clone()),
        ),
    )
    .await
    .unwrap();
    let ui = server.ui_address().unwrap();
    let identity = (pki.client_cert_pem.as_str(), pki.client_key_pem.as_str());
    let answer = https_get(ui, &pki.ca_pem, Some(identity), NAMESPACES).await;
    assert!(ok(&answer), "{answer}");
    let answer = https_get(ui, &pki.ca_pem, None, NAMESPACES).await;
    assert!(
        !answer.contains("HTTP/1.1"),
        "no client certificate: {answer}"
    );
    let (_, other_issuer) = ca();
    let (cert, key) = issue(&["stranger"], &other_issuer);
    let answer = https_get(ui, &pki.ca_pem, Some((&cert, &key)), NAMESPACES).await;
    assert!(
        !answer.contains("HTTP/1.1"),
        "a client certificate from another CA: {answer}"
    );
    server.shutdown().await.unwrap();
}

fn mtls(pki: &Pki) -> ServerTls {
    ServerTls::new(pki.server_cert_pem.clone(), pki.server_key_pem.clone())
        .client_ca(pki.ca_pem.clone())
}

#[tokio::test]
async fn a_plain_web_ui_on_a_non_loopback_address_under_mtls_needs_the_proxy_option() {
    let pki = pki();
    let anywhere = || {
        ServerOptions::new()
            .ip("0.0.0.0".parse().unwrap())
            .ui_port(0)
            .tls(mtls(&pki))
    };
    match RunningServer::start(anywhere().ui_transport(UiTransport::PlainHttp)).await {
        Err(error @ ServerError::PlainUiUnderMtls { .. }) => {
            let message = error.to_string();
            assert!(
                message.contains("plain HTTP on 0.0.0.0")
                    && message.contains("--ui-behind-tls-proxy"),
                "{message}"
            );
        }
        other => panic!("expected PlainUiUnderMtls, got {other:?}"),
    }
    let server = RunningServer::start(anywhere().ui_transport(UiTransport::BehindTlsProxy))
        .await
        .unwrap();
    let port = server.ui_address().unwrap().port();
    let ui = SocketAddr::from(([127, 0, 0, 1], port));
    assert!(server.ui_url().unwrap().starts_with("http://"));
    let answer = http_get(ui, NAMESPACES).await;
    assert!(ok(&answer), "{answer}");
    server.shutdown().await.unwrap();
    // On loopback a plain UI is this machine's business.
    let server = RunningServer::start(
        ServerOptions::new()
            .ui_port(0)
            .tls(mtls(&pki))
            .ui_transport(UiTransport::PlainHttp),
    )
    .await
    .unwrap();
    assert!(server.ui_url().unwrap().starts_with("http://127.0.0.1:"));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_certificates_and_keys_are_refused_naming_which_and_why() {
    let pki = pki();
    let (_, other_key) = issue(&["other"], &ca().1);
    let bad_key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    let cases: [(ServerTls, TlsPart, &str); 6] = [
        (
            ServerTls::new(pki.server_key_pem.clone(), pki.server_key_pem.clone()),
            TlsPart::Certificate,
            "the TLS certificate is unusable: it holds no PEM certificate",
        ),
        (
            ServerTls::new(pki.server_cert_pem.clone(), pki.server_cert_pem.clone()),
            TlsPart::Key,
            "the TLS key is unusable: it holds no PEM private key",
        ),
        (
            ServerTls::new(pki.server_cert_pem.clone(), bad_key),
            TlsPart::Key,
            "the TLS key is unusable: it is not a usable private key",
        ),
        (
            ServerTls::new(pki.server_cert_pem.clone(), other_key.clone()),
            TlsPart::Key,
            "the TLS key is unusable: it does not match the TLS certificate",
        ),
        (
            ServerTls::new(pki.server_cert_pem.clone(), pki.server_key_pem.clone())
                .client_ca("not a certificate"),
            TlsPart::ClientCa,
            "the client CA is unusable: it holds no PEM certificate",
        ),
        (
            ServerTls::new(pki.server_cert_pem.clone(), pki.server_key_pem.clone())
                .client_ca("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
            TlsPart::ClientCa,
            "the client CA is unusable: it is not a usable certificate",
        ),
    ];
    for (tls, part, expected) in cases {
        // Headless too: the gRPC port's TLS is checked before it listens.
        match RunningServer::start(ServerOptions::new().tls(tls)).await {
            Err(ServerError::Tls(error @ TlsError { .. })) => {
                assert_eq!(error.part, part, "{error}");
                assert!(error.to_string().starts_with(expected), "{error}");
            }
            other => panic!("expected a TLS error ({expected}), got {other:?}"),
        }
    }
    // The problem is typed, for callers to match on.
    match RunningServer::start(
        ServerOptions::new().tls(ServerTls::new(pki.server_cert_pem.clone(), other_key)),
    )
    .await
    {
        Err(ServerError::Tls(TlsError {
            problem: TlsProblem::KeyMismatch,
            ..
        })) => {}
        other => panic!("expected a key mismatch, got {other:?}"),
    }
}

/// Runs `start-dev` with `args` until it exits (it must, within a minute, and unsuccessfully);
/// answers its stderr.
async fn start_dev_fails(args: &[&str]) -> String {
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_workflow-server"))
        .arg("start-dev")
        .args(["--port", "0", "--ui-port", "0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("start-dev should have exited")
        .unwrap();
    assert!(!output.status.success());
    String::from_utf8(output.stderr).unwrap()
}

#[tokio::test]
async fn start_dev_names_the_bad_tls_file_and_the_problem() {
    let pki = pki();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let cert = write("cert.pem", &pki.server_cert_pem);
    let key = write("key.pem", &pki.server_key_pem);
    let other_key = write("other-key.pem", &issue(&["other"], &ca().1).1);
    let junk = write("junk.pem", "not PEM at all\n");
    let missing = dir.path().join("missing.pem").display().to_string();
    let cases: [(&[&str], String); 4] = [
        (
            &["--tls-cert-path", &key, "--tls-key-path", &key],
            format!("{key}: the TLS certificate is unusable: it holds no PEM certificate"),
        ),
        (
            &["--tls-cert-path", &cert, "--tls-key-path", &cert],
            format!("{cert}: the TLS key is unusable: it holds no PEM private key"),
        ),
        (
            &["--tls-cert-path", &cert, "--tls-key-path", &other_key],
            format!("{other_key}: the TLS key is unusable: it does not match the TLS certificate"),
        ),
        (
            &[
                "--tls-cert-path",
                &cert,
                "--tls-key-path",
                &key,
                "--tls-client-ca-path",
                &junk,
            ],
            format!("{junk}: the client CA is unusable: it holds no PEM certificate"),
        ),
    ];
    for (args, expected) in cases {
        let stderr = start_dev_fails(args).await;
        assert!(
            stderr.contains(&expected),
            "expected {expected:?} in {stderr}"
        );
    }
    let stderr = start_dev_fails(&[
        "--tls-cert-path",
        &cert,
        "--tls-key-path",
        &key,
        "--tls-client-ca-path",
        &missing,
    ])
    .await;
    assert!(
        stderr.contains(&format!("cannot read the client CA {missing}")),
        "{stderr}"
    );
}

/// Starts `start-dev` with `args`; answers the process and its Web UI line.
async fn start_dev(args: &[&str]) -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_workflow-server"))
        .arg("start-dev")
        .args(["--port", "0", "--ui-port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let listening = lines.next_line().await.unwrap().unwrap();
    assert!(listening.contains("listening on"), "{listening}");
    let ui = lines.next_line().await.unwrap().unwrap();
    (child, ui)
}

#[tokio::test]
async fn start_dev_serves_the_ui_over_https_and_plain_only_behind_a_proxy() {
    let pki = pki();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let (cert, key, ca) = (
        write("cert.pem", &pki.server_cert_pem),
        write("key.pem", &pki.server_key_pem),
        write("ca.pem", &pki.ca_pem),
    );
    let tls = ["--tls-cert-path", &cert, "--tls-key-path", &key];
    let (mut server, ui) = start_dev(&tls).await;
    let address: SocketAddr = ui
        .strip_prefix("Web UI at https://")
        .unwrap_or_else(|| panic!("{ui}"))
        .parse()
        .unwrap();
    let answer = https_get(address, &pki.ca_pem, None, NAMESPACES).await;
    assert!(ok(&answer), "{answer}");
    server.kill().await.unwrap();

    // mTLS on every interface: the UI asks for client certificates too.
    let mut args = tls.to_vec();
    args.extend(["--tls-client-ca-path", &ca, "--ip", "0.0.0.0"]);
    let (mut server, ui) = start_dev(&args).await;
    assert!(ui.starts_with("Web UI at https://0.0.0.0:"), "{ui}");
    server.kill().await.unwrap();

    args.push("--ui-behind-tls-proxy");
    let (mut server, ui) = start_dev(&args).await;
    let port: u16 = ui
        .strip_prefix("Web UI at http://0.0.0.0:")
        .unwrap_or_else(|| panic!("{ui}"))
        .parse()
        .unwrap();
    let answer = http_get(SocketAddr::from(([127, 0, 0, 1], port)), NAMESPACES).await;
    assert!(ok(&answer), "{answer}");
    server.kill().await.unwrap();
}
