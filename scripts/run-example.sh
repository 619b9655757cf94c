#!/usr/bin/env bash
# Runs the hello example: starts a Temporal dev server and the Python worker hosting the
# workflow, then the Rust client in examples/hello_client.rs.
set -euo pipefail
source "$(dirname "$0")/dev-env.sh"
cd "$REPO_ROOT"

ensure_venv
start_temporal_server
start_python_worker python-worker
TASK_QUEUE=python-worker cargo run --locked --quiet -p examples --example hello_client
