#!/usr/bin/env bash
# Conformance (not part of CI, which cannot reach GitHub): runs the update features of a
# checkout of the temporalio/features repository through its own Python harness, first on
# the real Temporal dev server, then on ours, and says which failed on each.
# Usage: scripts/features-updates.sh FEATURES_CHECKOUT
set -euo pipefail
source "$(dirname "$0")/dev-env.sh"
cd "$REPO_ROOT"
features_dir="$(cd "${1:?give the path of a temporalio/features checkout}" && pwd)"
ensure_venv

run_features() {
    local server="$1" args=() feature
    for feature in "$features_dir"/features/update/*/feature.py; do
        feature="${feature#"$features_dir/features/"}"
        feature="${feature%/feature.py}"
        args+=("$feature:features-${feature//\//-}-$RANDOM")
    done
    log "== the update features on $server"
    # The harness prints `N feature(s) failed` and exits non-zero when any failed; the SDK
    # may crash as the interpreter exits after that, so the summary line decides.
    (cd "$features_dir" && "$VENV/bin/python" -m harness.python.main \
        --server "$TEMPORAL_ADDRESS" --namespace default "${args[@]}") \
        >"$LOG_DIR/features-$server.log" 2>&1 || true
    if grep -q "feature(s) failed" "$LOG_DIR/features-$server.log"; then
        grep -A20 "feature(s) failed" "$LOG_DIR/features-$server.log"
        return 1
    fi
    log "${#args[@]} update features passed on $server"
}

start_temporal_server
run_features temporal
stop_started
start_our_server
run_features ours
stop_started
