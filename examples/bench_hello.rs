//! Benchmark (not a test): runs the hello workflow `-n` times with at most `-c` in flight
//! against a Temporal server, with the worker in this process, and prints one line:
//! workflows/s, p50/p99 latency, CPU time per workflow, peak memory of the process, and that
//! peak's growth over the resident memory after warm-up per workflow (`bytes_per_wf`).
//!
//! ```sh
//! cargo run --release -p examples --example bench_hello -- --address localhost:7233 -n 1000 -c 50
//! ```
//!
//! `scripts/bench.sh` runs it beside the Temporal Python SDK doing the same work.

use std::time::{Duration, Instant};

use examples::hello::{YourWorkflow, your_activity};
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

/// A memory figure of this process in KB, from `/proc/self/status` (Linux): `VmHWM` is the
/// peak resident memory, `VmRSS` the current one.
fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status
        .lines()
        .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Latency in microseconds: 4 bytes a workflow, so what the benchmark keeps stays small
/// beside what it measures.
fn micros(latency: Duration) -> u32 {
    u32::try_from(latency.as_micros()).unwrap_or(u32::MAX)
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

    let rss_before_kb = status_kb("VmRSS");
    let cpu_before = cpu_time();
    let started = Instant::now();
    // The set is also the limit: a finished task keeps its cell (sized by its future, about
    // 15 KB) until joined, so joining one before spawning the next bounds memory to `c` tasks.
    let mut in_flight = JoinSet::new();
    let mut latencies: Vec<u32> = Vec::with_capacity(n);
    for i in 0..n {
        if in_flight.len() >= c.max(1)
            && let Some(latency) = in_flight.join_next().await
        {
            latencies.push(micros(latency?));
        }
        let client = client.clone();
        let queue = queue.clone();
        in_flight.spawn(async move { one(&client, &queue, format!("{i}")).await });
    }
    while let Some(latency) = in_flight.join_next().await {
        latencies.push(micros(latency?));
    }
    let elapsed = started.elapsed();
    let cpu = cpu_time()
        .zip(cpu_before)
        .map(|(after, before)| after - before);

    // Unstable sort: a stable one allocates half the vector again, which would show in the
    // peak.
    latencies.sort_unstable();
    let percentile = |p: f64| {
        let index = ((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1));
        latencies
            .get(index)
            .map_or(0.0, |&us| f64::from(us) / 1000.0)
    };
    let peak_kb = status_kb("VmHWM");
    println!(
        "sdk=workflow-rust n={n} c={c} elapsed={:.2}s wf/s={:.1} p50={:.1}ms p99={:.1}ms cpu_ms_per_wf={} peak_rss_mb={} bytes_per_wf={}",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64(),
        percentile(0.50),
        percentile(0.99),
        cpu.map_or("n/a".into(), |c| format!(
            "{:.2}",
            c.as_secs_f64() * 1000.0 / n as f64
        )),
        peak_kb.map_or("n/a".into(), |kb| format!("{:.1}", kb as f64 / 1024.0)),
        peak_kb
            .zip(rss_before_kb)
            .map_or("n/a".into(), |(peak, before)| format!(
                "{:.0}",
                peak.saturating_sub(before) as f64 * 1024.0 / n.max(1) as f64
            )),
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
