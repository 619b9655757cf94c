//! Benchmark (not a test): runs the hello workflow `-n` times with at most `-c` in flight
//! against a Temporal server, with the worker in this process, and prints one line:
//! workflows/s, p50/p99 latency, CPU time per workflow and peak memory of the process.
//!
//! ```sh
//! cargo run --release -p examples --example bench_hello -- --address localhost:7233 -n 1000 -c 50
//! ```
//!
//! `scripts/bench.sh` runs it beside the Temporal Python SDK doing the same work.

use std::sync::Arc;
use std::time::{Duration, Instant};

use examples::hello::{YourWorkflow, your_activity};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use workflow_client::Client;
use workflow_core::prelude::*;
use workflow_worker::Worker;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// User plus system CPU time of this process, from `/proc/self/stat` (Linux).
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on Linux.
    Some(Duration::from_millis(ticks * 10))
}

/// Peak resident memory of this process in MB, from `/proc/self/status` (Linux).
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<f64>().ok()? / 1024.0)
}

async fn one(client: &Client, queue: &str, id: String) -> Duration {
    let started = Instant::now();
    let out = client
        .execute_workflow(
            YourWorkflow::run,
            id.clone(),
            WorkflowOptions::new(format!("bench-{id}"), queue),
        )
        .await
        .expect("workflow result");
    assert_eq!(out, format!("Hello, {id}!"));
    started.elapsed()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let address = arg(&args, "--address")
        .or_else(|| std::env::var("TEMPORAL_ADDRESS").ok())
        .unwrap_or_else(|| "localhost:7233".into());
    let n: usize = arg(&args, "-n").map_or(Ok(1000), |v| v.parse())?;
    let c: usize = arg(&args, "-c").map_or(Ok(50), |v| v.parse())?;

    let client = Client::connect(address).await?;
    let queue = format!("bench-{}", uuid_like());
    let worker = Worker::new(client.clone(), &queue)
        .register_workflow::<YourWorkflow>()
        .register_activity(your_activity);
    let shutdown = worker.shutdown_handle();
    let running = tokio::spawn(worker.run());

    // Warm-up: connections, caches, the server's task queue.
    for i in 0..10 {
        one(&client, &queue, format!("warm-{i}")).await;
    }

    let cpu_before = cpu_time();
    let started = Instant::now();
    let slots = Arc::new(Semaphore::new(c.max(1)));
    let mut tasks = JoinSet::new();
    for i in 0..n {
        let permit = slots.clone().acquire_owned().await?;
        let client = client.clone();
        let queue = queue.clone();
        tasks.spawn(async move {
            let latency = one(&client, &queue, format!("{i}")).await;
            drop(permit);
            latency
        });
    }
    let mut latencies = tasks.join_all().await;
    let elapsed = started.elapsed();
    let cpu = cpu_time()
        .zip(cpu_before)
        .map(|(after, before)| after - before);

    latencies.sort();
    let percentile = |p: f64| {
        let index = ((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1));
        latencies
            .get(index)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "sdk=workflow-rust n={n} c={c} elapsed={:.2}s wf/s={:.1} p50={:.1}ms p99={:.1}ms cpu_ms_per_wf={} peak_rss_mb={}",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64(),
        percentile(0.50),
        percentile(0.99),
        cpu.map_or("n/a".into(), |c| format!(
            "{:.2}",
            c.as_secs_f64() * 1000.0 / n as f64
        )),
        peak_rss_mb().map_or("n/a".into(), |m| format!("{m:.1}")),
    );

    shutdown.shutdown();
    running.await??;
    Ok(())
}

/// A process-unique suffix for the task queue.
fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    )
}
