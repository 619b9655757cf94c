#!/usr/bin/env bash
# Build-time figures (not part of CI): builds a small user program from a clean target
# directory, in release mode, and prints the wall time, the number of crates compiled, the
# peak memory (of the largest compiler process, and of all build processes together) and the
# stripped binary's size, then the ten crates that took longest (from `cargo build --timings`).
#
# The program is what a user writes: the hello workflow, a worker and a client, depending on
# workflow-core, workflow-client and workflow-worker (plus serde and tokio), with the
# default features. `--embedded` builds the `hello` example instead, which embeds the server
# and the Web UI.
#
# Usage: scripts/build-figures.sh [--embedded] [--keep DIR]
#   --keep DIR: build in DIR and leave it there (the timings report is DIR/target/cargo-timings).
# Run it with nothing else busy on the machine: the figures are wall time on this machine.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

embedded=false
keep=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --embedded) embedded=true ;;
        --keep) keep="$2"; shift ;;
        *) echo "usage: $0 [--embedded] [--keep DIR]" >&2; exit 2 ;;
    esac
    shift
done

if [[ -n "$keep" ]]; then
    work="$keep"
    rm -rf "$work/target"
    mkdir -p "$work"
else
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
fi
export CARGO_TARGET_DIR="$work/target"
export CARGO_INCREMENTAL=0

if $embedded; then
    cd "$repo"
    build=(cargo build --locked --release --timings -p examples --example hello)
    binary="$CARGO_TARGET_DIR/release/examples/hello"
else
    project="$work/user-program"
    mkdir -p "$project/src"
    cat >"$project/Cargo.toml" <<EOF
[package]
name = "user-program"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
workflow-core = { path = "$repo/crates/workflow-core" }
workflow-client = { path = "$repo/crates/workflow-client" }
workflow-worker = { path = "$repo/crates/workflow-worker" }
serde = { version = "1", features = ["derive"] }
tokio = { version = "1", features = ["rt-multi-thread", "macros"] }

[workspace]
EOF
    cat >"$project/src/main.rs" <<'EOF'
use std::time::Duration;

use workflow_client::Client;
use workflow_core::prelude::*;
use workflow_worker::Worker;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct YourParams {
    pub greeting: String,
    pub name: String,
}

#[activity]
pub async fn your_activity(_ctx: ActivityContext, input: YourParams) -> Result<String, ActivityError> {
    Ok(format!("{}, {}!", input.greeting, input.name))
}

#[workflow(name = "YourWorkflow")]
#[derive(Debug, Default)]
pub struct YourWorkflow;

#[workflow]
impl YourWorkflow {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
        let params = YourParams { greeting: "Hello".into(), name };
        let options = ActivityOptions::start_to_close(Duration::from_secs(10));
        Ok(ctx.execute_activity(your_activity, params, options).await?)
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let address = std::env::var("TEMPORAL_ADDRESS").unwrap_or_else(|_| "localhost:7233".into());
    let client = Client::connect(address).await?;
    let worker = Worker::new(client.clone(), "hello")
        .register_workflow::<YourWorkflow>()
        .register_activity(your_activity);
    let shutdown = worker.shutdown_handle();
    let running = tokio::spawn(worker.run());
    let options = WorkflowOptions::new("hello-workflow", "hello");
    let greeting = client.execute_workflow(YourWorkflow::run, "World".to_string(), options).await?;
    println!("{greeting}");
    shutdown.shutdown();
    running.await??;
    Ok(())
}
EOF
    # The repository's lock file, so the program builds the versions the project pins.
    cp "$repo/Cargo.lock" "$project/Cargo.lock"
    cd "$project"
    build=(cargo build --release --timings)
    binary="$CARGO_TARGET_DIR/release/user-program"
fi

# Every crate's sources are fetched first, so the figures are of compiling only.
cargo fetch --quiet

# The sum of the resident memory of cargo and everything under it, sampled every 100 ms.
sample_tree_rss() {
    local root="$1" peak=0 now
    while kill -0 "$root" 2>/dev/null; do
        now="$(ps -e -o pid=,ppid=,rss= | awk -v root="$root" '
            { parent[$1] = $2; rss[$1] = $3 }
            END {
                for (p in parent) {
                    q = p
                    while (q != "" && q != root && q != 1 && q != 0) q = parent[q]
                    if (q == root) total += rss[p]
                }
                print total + rss[root]
            }')"
        ((now > peak)) && peak="$now"
        sleep 0.1
    done
    echo "$peak" >"$work/tree-peak-kb"
}

log="$work/build.log"
start="$(date +%s.%N)"
/usr/bin/time -f '%M' -o "$work/max-rss-kb" "${build[@]}" >"$log" 2>&1 &
builder=$!
sample_tree_rss "$builder" &
sampler=$!
status=0
wait "$builder" || status=$?
end="$(date +%s.%N)"
wait "$sampler" || true
if ((status != 0)); then
    cat "$log" >&2
    exit "$status"
fi

crates="$(grep -c '^ *Compiling ' "$log")"
stripped="$work/stripped"
strip -o "$stripped" "$binary"
wall="$(awk -v s="$start" -v e="$end" 'BEGIN { t = e - s; printf "%dm%02ds", t / 60, t % 60 }')"
mb() { awk -v kb="$1" 'BEGIN { printf "%.2f GB", kb / 1024 / 1024 }'; }

echo "build:                $(${embedded} && echo 'hello example (embedded server and UI)' || echo 'user program (core, client, worker)')"
echo "wall time:            $wall"
echo "crates compiled:      $crates"
echo "peak memory, largest: $(mb "$(cat "$work/max-rss-kb")") (one compiler process)"
echo "peak memory, all:     $(mb "$(cat "$work/tree-peak-kb")") (every build process at once, sampled)"
echo "binary, stripped:     $(awk -v b="$(stat -c %s "$stripped")" 'BEGIN { printf "%.1f MB", b / 1024 / 1024 }')"
echo "ten longest crates (seconds of compiling, from cargo --timings):"
timings="$(ls -t "$CARGO_TARGET_DIR"/cargo-timings/cargo-timing-*.html | head -1)"
python3 - "$timings" <<'EOF'
import json, re, sys
html = open(sys.argv[1], encoding="utf-8").read()
units = json.loads(re.search(r"const UNIT_DATA = (\[.*?\]);\n", html, re.S).group(1))
per_crate = {}
for unit in units:
    name = unit["name"] + ("" if unit.get("target", "").strip() in ("", "lib") else unit["target"])
    per_crate[name] = per_crate.get(name, 0.0) + unit["duration"]
for name, seconds in sorted(per_crate.items(), key=lambda kv: -kv[1])[:10]:
    print(f"  {seconds:7.1f}  {name}")
EOF
