//! `workflow-server start-dev`: the embedded server as a process, a drop-in for
//! `temporal server start-dev`.

use std::io::Write;
use std::net::IpAddr;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

use workflow_server::{
    DEFAULT_PORT, RunningServer, ServerError, ServerOptions, ServerTls, TlsPart, UiTransport,
};

#[derive(Parser)]
#[command(
    name = "workflow-server",
    version,
    about = "A Temporal-compatible dev server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs a development server until interrupted (SIGINT or SIGTERM).
    StartDev(StartDev),
}

#[derive(clap::Args)]
struct StartDev {
    /// gRPC port.
    #[arg(long, short = 'p', default_value_t = DEFAULT_PORT)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    ip: IpAddr,
    /// A namespace to create besides `default` (repeatable).
    #[arg(long = "namespace", short = 'n')]
    namespaces: Vec<String>,
    /// SQLite file to keep executions in (created if missing); without it, memory only.
    #[arg(long, short = 'f')]
    db_filename: Option<PathBuf>,
    /// How many closed runs to keep in memory; others are read back from the store.
    #[arg(long, default_value_t = workflow_server::DEFAULT_RUN_CACHE)]
    run_cache_size: usize,
    /// Jump the clock to the next timer or timeout when nothing is running (for tests).
    #[arg(long)]
    time_skipping: bool,
    /// PEM certificate (chain) to serve TLS with; needs --tls-key-path.
    #[arg(long, requires = "tls_key_path")]
    tls_cert_path: Option<PathBuf>,
    /// PEM private key of --tls-cert-path.
    #[arg(long, requires = "tls_cert_path")]
    tls_key_path: Option<PathBuf>,
    /// PEM CA whose client certificates are required (mTLS); needs --tls-cert-path.
    #[arg(long, requires = "tls_cert_path")]
    tls_client_ca_path: Option<PathBuf>,
    /// Port of the Web UI [default: --port + 1000, or any free port when --port is 0].
    #[arg(long)]
    ui_port: Option<u16>,
    /// Serve no Web UI.
    #[arg(long, conflicts_with = "ui_port")]
    headless: bool,
    /// Serve the Web UI as plain HTTP for a TLS-terminating proxy in front (which must pass
    /// `Host` on, and check client certificates under mTLS); https:// origins are then
    /// accepted. Without it, the UI has the gRPC port's TLS and, under mTLS, requires
    /// client certificates too.
    #[arg(long, conflicts_with = "headless")]
    ui_behind_tls_proxy: bool,
    /// How much to log.
    #[arg(long, value_enum, default_value_t = LogLevel::Info)]
    log_level: LogLevel,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    fn filter(self) -> tracing::Level {
        match self {
            Self::Debug => tracing::Level::DEBUG,
            Self::Info => tracing::Level::INFO,
            Self::Warn => tracing::Level::WARN,
            Self::Error => tracing::Level::ERROR,
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let Cli {
        command: Command::StartDev(args),
    } = Cli::parse();
    tracing_subscriber::fmt()
        .with_max_level(args.log_level.filter())
        .with_writer(std::io::stderr)
        .init();
    let tls = match tls(&args) {
        Ok(tls) => tls,
        Err(message) => {
            eprintln!("workflow-server: {message}");
            return ExitCode::FAILURE;
        }
    };
    let ui_port = match (args.headless, args.ui_port) {
        (true, _) => None,
        (false, Some(port)) => Some(port),
        // Any free gRPC port: any free UI port too.
        (false, None) if args.port == 0 => Some(0),
        (false, None) => match args.port.checked_add(1000) {
            Some(port) => Some(port),
            None => {
                eprintln!(
                    "workflow-server: no default UI port above --port {}; pass --ui-port or --headless",
                    args.port
                );
                return ExitCode::FAILURE;
            }
        },
    };
    let options = ServerOptions {
        ip: args.ip,
        port: args.port,
        namespaces: args.namespaces,
        db_filename: args.db_filename,
        run_cache_size: args.run_cache_size,
        time_skipping: args.time_skipping,
        tls,
        ui_port,
        ui_transport: if args.ui_behind_tls_proxy {
            UiTransport::BehindTlsProxy
        } else {
            UiTransport::SameAsGrpc
        },
        ..ServerOptions::default()
    };
    let server = match RunningServer::start(options).await {
        Ok(server) => server,
        Err(ServerError::Tls(error)) => {
            // Name the file, not only which of the three it is.
            let path = match error.part {
                TlsPart::Certificate => &args.tls_cert_path,
                TlsPart::Key => &args.tls_key_path,
                TlsPart::ClientCa => &args.tls_client_ca_path,
            };
            let path = path.as_deref().map(|p| p.display().to_string());
            eprintln!("workflow-server: {}: {error}", path.unwrap_or_default());
            return ExitCode::FAILURE;
        }
        Err(error) => {
            eprintln!("workflow-server: {error}");
            return ExitCode::FAILURE;
        }
    };
    // One write, and errors ignored: whoever started us may stop reading stdout after the
    // first line, and a closed pipe must not bring the server down.
    let mut banner = format!(
        "Temporal-compatible server listening on {}\n",
        server.target()
    );
    if let Some(ui) = server.ui_url() {
        banner.push_str(&format!("Web UI at {ui}\n"));
    }
    let mut stdout = std::io::stdout();
    let _ = stdout
        .write_all(banner.as_bytes())
        .and_then(|()| stdout.flush());
    if let Err(error) = stopped().await {
        eprintln!("workflow-server: cannot watch for signals: {error}");
    }
    tracing::info!("shutting down");
    match server.shutdown().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("workflow-server: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Reads the TLS files the flags name.
fn tls(args: &StartDev) -> Result<Option<ServerTls>, String> {
    let read = |path: &PathBuf, what: &str| {
        std::fs::read(path).map_err(|e| format!("cannot read the {what} {}: {e}", path.display()))
    };
    let (Some(cert), Some(key)) = (&args.tls_cert_path, &args.tls_key_path) else {
        return Ok(None);
    };
    let mut tls = ServerTls::new(read(cert, "TLS certificate")?, read(key, "TLS key")?);
    if let Some(ca) = &args.tls_client_ca_path {
        tls = tls.client_ca(read(ca, "client CA")?);
    }
    Ok(Some(tls))
}

/// Resolves on SIGINT or SIGTERM.
async fn stopped() -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result,
        _ = terminate.recv() => Ok(()),
    }
}
