#!/usr/bin/env bash
# Benchmark (not a test): the hello workflow on our SDK and on the Temporal Python SDK,
# against one real Temporal dev server, sequentially and at concurrency 50.
# Usage: scripts/bench.sh [N_SEQUENTIAL] [N_CONCURRENT]
set -euo pipefail
source "$(dirname "$0")/dev-env.sh"
cd "$REPO_ROOT"

sequential="${1:-200}"
concurrent="${2:-1000}"
ensure_venv
cargo build --locked --release --quiet -p examples --example bench_hello
start_temporal_server
bench_rust() { target/release/examples/bench_hello --address "$TEMPORAL_ADDRESS" -n "$1" -c "$2"; }
bench_python() { "$VENV/bin/python" bench/python/bench_hello.py "$TEMPORAL_ADDRESS" "$1" "$2"; }
bench_rust "$sequential" 1
bench_python "$sequential" 1
bench_rust "$concurrent" 50
bench_python "$concurrent" 50
