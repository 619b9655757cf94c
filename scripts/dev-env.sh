# Sourced by test.sh and run-example.sh: a Python venv with the real Temporal CLI and Python
# SDK, a Temporal dev server on a free loopback port, and the Python worker on top of it.
# Everything started here is stopped when the calling script exits.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${WORKFLOW_VENV:-$REPO_ROOT/.venv}"
LOG_DIR="$REPO_ROOT/target/test-logs"
REQUIREMENTS="$REPO_ROOT/tests/python/requirements.txt"
PIDS=()

log() { echo "[dev-env] $*" >&2; }

stop_all() {
    # Worker first, so it does not log errors about the server going away.
    local i
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        kill "${PIDS[$i]}" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
}
trap stop_all EXIT

ensure_venv() {
    if [[ ! -x "$VENV/bin/python" ]]; then
        log "creating the Python venv at $VENV"
        python3 -m venv "$VENV"
    fi
    local stamp="$VENV/.requirements-installed"
    if ! cmp -s "$REQUIREMENTS" "$stamp"; then
        log "installing $(tr '\n' ' ' < "$REQUIREMENTS")"
        "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
        cp "$REQUIREMENTS" "$stamp"
    fi
}

# Debian's Chromium and chromedriver, for the Web UI's browser tests.
ensure_chromium() {
    export WORKFLOW_TEST_CHROMIUM="${WORKFLOW_TEST_CHROMIUM:-/usr/bin/chromium}"
    export WORKFLOW_TEST_CHROMEDRIVER="${WORKFLOW_TEST_CHROMEDRIVER:-/usr/bin/chromedriver}"
    if [[ -x "$WORKFLOW_TEST_CHROMIUM" && -x "$WORKFLOW_TEST_CHROMEDRIVER" ]]; then
        return
    fi
    log "installing Debian's chromium and chromium-driver"
    local sudo=()
    [[ "$(id -u)" -eq 0 ]] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq chromium chromium-driver >/dev/null
}

free_port() {
    "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for <seconds> <description> <log file> <command...>: runs the command until it succeeds.
wait_for() {
    local seconds="$1" what="$2" logfile="$3"
    shift 3
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            log "$what did not come up within ${seconds}s; last lines of $logfile:"
            tail -n 40 "$logfile" >&2 || true
            return 1
        fi
        sleep 0.2
    done
}

start_temporal_server() {
    mkdir -p "$LOG_DIR"
    local port
    port="$(free_port)"
    TEMPORAL_ADDRESS="127.0.0.1:$port"
    log "starting temporal server start-dev on $TEMPORAL_ADDRESS"
    "$VENV/bin/temporal" server start-dev --headless --ip 127.0.0.1 --port "$port" \
        --log-level warn \
        --search-attribute CustomKeyword=Keyword --search-attribute CustomInt=Int \
        --dynamic-config-value frontend.enableExecuteMultiOperation=true \
        >"$LOG_DIR/temporal-server.log" 2>&1 &
    PIDS+=("$!")
    wait_for 60 "the Temporal dev server" "$LOG_DIR/temporal-server.log" \
        "$VENV/bin/temporal" operator cluster health --address "$TEMPORAL_ADDRESS"
    export TEMPORAL_ADDRESS
}

# Our own server (`workflow-server start-dev`, built by cargo) on a free port, keeping its
# executions in a fresh SQLite file.
start_our_server() {
    mkdir -p "$LOG_DIR"
    local port ui_port db="$LOG_DIR/our-server.db"
    port="$(free_port)"
    ui_port="$(free_port)"
    rm -f "$db" "$db-wal" "$db-shm"
    TEMPORAL_ADDRESS="127.0.0.1:$port"
    log "starting workflow-server start-dev on $TEMPORAL_ADDRESS (SQLite $db, Web UI on port $ui_port)"
    cargo build --quiet --locked -p workflow-server
    "$REPO_ROOT/target/debug/workflow-server" start-dev --ip 127.0.0.1 --port "$port" \
        --db-filename "$db" --ui-port "$ui_port" --log-level warn >"$LOG_DIR/our-server.log" 2>&1 &
    PIDS+=("$!")
    wait_for 30 "our server" "$LOG_DIR/our-server.log" \
        "$VENV/bin/temporal" operator cluster health --address "$TEMPORAL_ADDRESS"
    export TEMPORAL_ADDRESS
}

# Stops everything started so far (the worker before its server).
stop_started() {
    stop_all
    PIDS=()
}

start_python_worker() {
    local queue="$1"
    local logfile="$LOG_DIR/python-worker-${2:-temporal}.log"
    log "starting the Python worker on task queue $queue"
    "$VENV/bin/python" -u "$REPO_ROOT/tests/python/worker.py" \
        --address "$TEMPORAL_ADDRESS" --task-queue "$queue" >"$logfile" 2>&1 &
    PIDS+=("$!")
    wait_for 60 "the Python worker" "$logfile" grep -q "WORKER READY" "$logfile"
}
