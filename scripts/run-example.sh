#!/usr/bin/env bash
# Runs the hello example: starts a Temporal dev server, then examples/hello.rs, which runs a
# worker hosting YourWorkflow and your_activity and executes the workflow against it.
set -euo pipefail
source "$(dirname "$0")/dev-env.sh"
cd "$REPO_ROOT"

ensure_venv
start_temporal_server
cargo run --locked --quiet -p examples --example hello
