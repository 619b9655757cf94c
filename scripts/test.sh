#!/usr/bin/env bash
# Runs every test: unit tests, doc tests, and the end-to-end tests against a real Temporal dev
# server with workflows hosted by the Temporal Python SDK. Extra arguments go to `cargo test`.
set -euo pipefail
source "$(dirname "$0")/dev-env.sh"
cd "$REPO_ROOT"

ensure_venv
start_temporal_server
start_python_worker python-worker

export WORKFLOW_TEST_TASK_QUEUE=python-worker
export WORKFLOW_TEST_PYTHON="$VENV/bin/python"
export WORKFLOW_TEST_PYTHON_DIR="$REPO_ROOT/tests/python"
cargo test --workspace --all-targets --locked --no-fail-fast "$@"
cargo test --workspace --doc --locked
