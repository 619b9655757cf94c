#!/usr/bin/env bash
# Runs every test: unit tests, doc tests, and the end-to-end tests against a real Temporal dev
# server with workflows hosted by the Temporal Python SDK; then the end-to-end suite again
# against our own server (`workflow-server start-dev` on a SQLite file), with the Python
# worker on it too. The Web UI's browser tests drive Debian's headless Chromium, installed
# here when missing; their screenshots land in target/test-logs/screenshots. Extra arguments
# go to `cargo test`.
set -euo pipefail
source "$(dirname "$0")/dev-env.sh"
cd "$REPO_ROOT"

ensure_venv
ensure_chromium
export WORKFLOW_TEST_SCREENSHOTS="$LOG_DIR/screenshots"
start_temporal_server
start_python_worker python-worker

export WORKFLOW_TEST_TASK_QUEUE=python-worker
export WORKFLOW_TEST_PYTHON="$VENV/bin/python"
export WORKFLOW_TEST_PYTHON_DIR="$REPO_ROOT/tests/python"
export WORKFLOW_TEST_TEMPORAL_CLI="$VENV/bin/temporal"
cargo test --workspace --all-targets --locked --no-fail-fast "$@"
cargo test --workspace --doc --locked
# What a user's worker builds, alone: the client with its default features (no TLS) and the
# libraries without the serde impls the Web UI turns on for the wire types.
cargo test --locked -p workflow-client --lib
cargo check --locked -p workflow-core -p workflow-worker --lib
stop_started

# Conformance: the same end-to-end suite (one binary, `tests/tests/e2e`) on our server. The
# compile-fail UI suite does not touch a server, so it ran once above.
start_our_server
start_python_worker python-worker ours
cargo test --locked --no-fail-fast -p workflow-tests --test e2e "$@"
stop_started

# The README's main command: the hello example on an embedded, in-process server.
unset TEMPORAL_ADDRESS
greeting="$(cargo run --locked --quiet -p examples --example hello -- CI)"
[[ "$greeting" == "Hello, CI!" ]] || { log "the hello example printed: $greeting"; exit 1; }
log "the hello example printed: $greeting"
