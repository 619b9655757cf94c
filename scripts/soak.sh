#!/usr/bin/env bash
# Soak test, not part of CI: SIGKILLs our server under load and restarts it on the same
# SQLite file, N times (--cycles, default 100), then checks that every workflow start the
# server acknowledged completed exactly once with the right result and a gap-free history.
# Prints one summary line; exits non-zero on any violation. Extra arguments go to the
# driver (examples/soak_kill.rs): --cycles N, -c CONCURRENCY, --rate STARTS_PER_SECOND,
# --seed S.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked --quiet -p workflow-server --bin workflow-server
cargo build --release --locked --quiet -p examples --example soak_kill
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
"$target_dir/release/examples/soak_kill" \
    --server "$target_dir/release/workflow-server" --db "$dir/soak.db" "$@"
