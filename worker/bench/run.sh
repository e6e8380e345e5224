#!/usr/bin/env bash
# The job-shape benchmark (worker/examples/shape_bench.rs): 100 images as one big job, 25 jobs
# and 100 jobs, each drained by one worker, against 100 direct calls to the same simulator in
# the same run. Release build; needs redis-server and PostgreSQL (infra/local/services.sh).
#
#   worker/bench/run.sh [latency_ms] [concurrency]     (default 200 5)
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/scenergy-target}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}
export SQLX_OFFLINE=true RUST_LOG=${RUST_LOG:-warn}
bash infra/local/services.sh
timeout 1800 cargo build --locked --release -q -p scenergy-worker --example shape_bench
timeout 600 "$CARGO_TARGET_DIR/release/examples/shape_bench" "${1:-200}" "${2:-5}"
