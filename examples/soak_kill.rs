//! Soak test (not run in CI): starts the hello workflow from many concurrent clients while the
//! server is SIGKILLed and restarted on the same SQLite file, `--cycles` times; then lets
//! everything finish and checks that every start the server acknowledged completed exactly
//! once, with the right result and a history without gaps. Prints the figures and exits
//! non-zero on any violation.
//!
//! ```sh
//! scripts/soak.sh --cycles 100 --rate 200
//! ```

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use examples::hello::{YourWorkflow, your_activity};
use futures::{StreamExt, TryStreamExt};
use workflow_client::{Client, WorkflowExecutionStatus};
use workflow_core::prelude::*;
use workflow_core::protos::temporal::api::enums::v1::EventType;
use workflow_worker::Worker;

const QUEUE: &str = "soak";

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// The server process; killed (SIGKILL) and reaped when dropped.
struct Server {
    binary: PathBuf,
    port: u16,
    db: PathBuf,
    child: Child,
}

impl Server {
    fn start(binary: PathBuf, port: u16, db: PathBuf) -> Self {
        let child = spawn_server(&binary, port, &db);
        Self {
            binary,
            port,
            db,
            child,
        }
    }

    /// SIGKILL, then a new process on the same port and file.
    fn kill_and_restart(&mut self) -> std::io::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        self.child = spawn_server(&self.binary, self.port, &self.db);
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `start-dev` on `port` and `db`; returns once it listens.
fn spawn_server(binary: &PathBuf, port: u16, db: &PathBuf) -> Child {
    let mut child = Command::new(binary)
        .args(["start-dev", "--headless", "--log-level", "error", "--port"])
        .arg(port.to_string())
        .arg("--db-filename")
        .arg(db)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut line)
        .expect("read the banner");
    assert!(line.contains("listening"), "the server said: {line}");
    child
}

/// A small deterministic generator, so a run can be repeated with `--seed`.
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let server_bin = PathBuf::from(arg(&args, "--server").expect("--server PATH"));
    let db = PathBuf::from(arg(&args, "--db").expect("--db PATH"));
    let cycles: u32 = arg(&args, "--cycles").map_or(Ok(100), |v| v.parse())?;
    let concurrency: usize = arg(&args, "-c").map_or(Ok(20), |v| v.parse())?;
    // Starts per second over all starters: enough load that every kill cuts work in flight,
    // few enough that the run's history fits in the server's memory.
    let rate: f64 = arg(&args, "--rate").map_or(Ok(200.0), |v| v.parse())?;
    let pause = Duration::from_secs_f64(concurrency as f64 / rate);
    let mut seed: u64 = arg(&args, "--seed").map_or(Ok(0x5eed), |v| v.parse())?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let target = format!("127.0.0.1:{port}");
    let began = Instant::now();

    let mut server = Server::start(server_bin, port, db);
    let client = Client::connect(target.clone()).await?;
    let worker = Worker::new(client.clone(), QUEUE)
        .register_workflow::<YourWorkflow>()
        .register_activity(your_activity);
    let stop_worker = worker.shutdown_handle();
    let worker = tokio::spawn(worker.run());

    // Starters: each takes the next number, starts `soak-N`, and records an acknowledged
    // start. A start in flight at a kill may or may not have been stored; it is not counted.
    let next = Arc::new(AtomicU64::new(0));
    let acknowledged = Arc::new(Mutex::new(Vec::<u64>::new()));
    let refused = Arc::new(AtomicU64::new(0));
    let starting = Arc::new(AtomicBool::new(true));
    let mut starters = Vec::new();
    for _ in 0..concurrency {
        let (client, next, acknowledged, refused, starting) = (
            client.clone(),
            Arc::clone(&next),
            Arc::clone(&acknowledged),
            Arc::clone(&refused),
            Arc::clone(&starting),
        );
        starters.push(tokio::spawn(async move {
            while starting.load(Ordering::Relaxed) {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let options = WorkflowOptions::new(format!("soak-{n}"), QUEUE)
                    .task_timeout(Duration::from_secs(2));
                match client
                    .start_workflow(YourWorkflow::run, n.to_string(), options)
                    .await
                {
                    Ok(_) => {
                        acknowledged.lock().expect("not poisoned").push(n);
                        tokio::time::sleep(pause).await;
                    }
                    Err(_) => {
                        refused.fetch_add(1, Ordering::Relaxed);
                        // The server is down: wait for the restart rather than spin.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        }));
    }

    for cycle in 1..=cycles {
        let up = Duration::from_millis(200 + next_random(&mut seed) % 1300);
        tokio::time::sleep(up).await;
        server.kill_and_restart()?;
        if cycle % 10 == 0 {
            let acked = acknowledged.lock().expect("not poisoned").len();
            eprintln!("cycle {cycle}/{cycles}: {acked} starts acknowledged so far");
        }
    }
    starting.store(false, Ordering::Relaxed);
    for starter in starters {
        starter.await?;
    }
    let acknowledged = std::mem::take(&mut *acknowledged.lock().expect("not poisoned"));
    let loaded = began.elapsed();

    // Every acknowledged start must complete once, with its own result.
    let mut violations = Vec::new();
    let drain = Instant::now();
    let checks = futures::stream::iter(acknowledged.iter().copied())
        .map(|n| check(&client, n))
        .buffer_unordered(50)
        .collect::<Vec<_>>()
        .await;
    violations.extend(checks.into_iter().flatten());
    // One run per id: no start was applied twice.
    let mut runs: HashMap<String, Vec<WorkflowExecutionStatus>> = HashMap::new();
    let listed: Vec<_> = client
        .list_workflows("WorkflowId STARTS_WITH 'soak-'")
        .try_collect()
        .await?;
    for info in &listed {
        runs.entry(info.workflow_id.clone())
            .or_default()
            .push(info.status);
    }
    for (id, statuses) in &runs {
        if statuses.len() != 1 {
            violations.push(format!("{id}: {} runs", statuses.len()));
        }
    }
    let unacknowledged_stored = listed.len().saturating_sub(acknowledged.len());

    stop_worker.shutdown();
    worker.await??;
    drop(server);

    println!(
        "soak: {cycles} SIGKILL/restart cycles in {:.1} s; {} starts acknowledged, {} refused \
         or cut off by a kill ({} of those were stored anyway and ran); {} runs listed; all \
         acknowledged completed after {:.1} s more; {} violations",
        loaded.as_secs_f64(),
        acknowledged.len(),
        refused.load(Ordering::Relaxed),
        unacknowledged_stored,
        listed.len(),
        drain.elapsed().as_secs_f64(),
        violations.len()
    );
    for violation in violations.iter().take(20) {
        println!("  {violation}");
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(format!("{} violations", violations.len()).into())
    }
}

/// What is wrong with acknowledged start `n` once it should have completed: its result, its
/// event ids, its close events.
async fn check(client: &Client, n: u64) -> Vec<String> {
    let mut violations = Vec::new();
    let handle = client.get_workflow_handle(format!("soak-{n}"));
    let result = tokio::time::timeout(Duration::from_secs(120), handle.result_as::<String>()).await;
    match result {
        Ok(Ok(out)) if out == format!("Hello, {n}!") => {}
        Ok(Ok(out)) => violations.push(format!("soak-{n}: wrong result {out:?}")),
        Ok(Err(error)) => violations.push(format!("soak-{n}: {error}")),
        Err(_) => violations.push(format!("soak-{n}: not completed after 120 s")),
    }
    let history = match handle.fetch_history().await {
        Ok(history) => history,
        Err(error) => {
            violations.push(format!("soak-{n}: history: {error}"));
            return violations;
        }
    };
    if let Some((i, e)) = history
        .iter()
        .enumerate()
        .find(|(i, e)| e.event_id != *i as i64 + 1)
    {
        violations.push(format!(
            "soak-{n}: event {} at position {}",
            e.event_id,
            i + 1
        ));
    }
    let closes = history
        .iter()
        .filter(|e| {
            matches!(
                e.event_type(),
                EventType::WorkflowExecutionCompleted
                    | EventType::WorkflowExecutionFailed
                    | EventType::WorkflowExecutionTimedOut
                    | EventType::WorkflowExecutionCanceled
                    | EventType::WorkflowExecutionTerminated
                    | EventType::WorkflowExecutionContinuedAsNew
            )
        })
        .count();
    if closes != 1 {
        violations.push(format!("soak-{n}: {closes} close events"));
    }
    violations
}
