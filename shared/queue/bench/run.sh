#!/usr/bin/env bash
# Same-run comparison of scenergy-queue (queue-bench) against BullMQ (bullmq/bench.mjs) on a
# PRIVATE redis-server started here on a free loopback port, stopped on exit. See README.md.
#
# Env overrides (defaults in brackets):
#   JOBS [10000]        jobs for the enqueue and processing runs (both sides)
#   RATE [50]           enqueue rate of the latency run, jobs/s
#   LATENCY_SECS [5]    duration of the latency run
#   IDLE_SECS [30]      idle window (BullMQ: measured window; ours: one BLPOP cycle of that timeout)
#   BATCH [10]          queue-bench's jobs per claim
#   SKIP_BUILD [0]      1 = don't run cargo build (use the existing release binary)
#   OUT_DIR [mktemp]    where the JSON results and logs are kept
#   CARGO_TARGET_DIR [$HOME/.cache/scenergy-target]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/scenergy-target}"
JOBS="${JOBS:-10000}"
RATE="${RATE:-50}"
LATENCY_SECS="${LATENCY_SECS:-5}"
IDLE_SECS="${IDLE_SECS:-30}"
BATCH="${BATCH:-10}"
SKIP_BUILD="${SKIP_BUILD:-0}"
OUT_DIR="${OUT_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/queue-bench-cmp.XXXXXX")}"
mkdir -p "$OUT_DIR"

for tool in redis-server redis-cli node npm python3 timeout; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found" >&2; exit 1; }
done

log() { echo "[run.sh] $*" >&2; }

# --- private redis-server -------------------------------------------------------------------
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
REDIS_DIR="$OUT_DIR/redis"
mkdir -p "$REDIS_DIR"
redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
  --dir "$REDIS_DIR" >"$REDIS_DIR/redis.log" 2>&1 &
REDIS_PID=$!
stop_redis() {
  if kill -0 "$REDIS_PID" 2>/dev/null; then
    kill "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
  fi
}
trap stop_redis EXIT
trap 'exit 130' INT TERM
export REDIS_URL="redis://127.0.0.1:$PORT"
RCLI=(redis-cli -h 127.0.0.1 -p "$PORT")
for _ in $(seq 50); do
  "${RCLI[@]}" ping >/dev/null 2>&1 && break
  kill -0 "$REDIS_PID" 2>/dev/null || { cat "$REDIS_DIR/redis.log" >&2; exit 1; }
  sleep 0.1
done
"${RCLI[@]}" ping >/dev/null
log "private redis-server pid $REDIS_PID on $REDIS_URL ($(redis-server --version | awk '{print $3}'))"

# --- BullMQ deps and our binary ---------------------------------------------------------------
(
  cd "$HERE/bullmq"
  if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
    log "npm ci in bench/bullmq"
    timeout 180 npm ci --no-audit --no-fund --loglevel=error >&2
  fi
)
BIN="$CARGO_TARGET_DIR/release/queue-bench"
if [[ "$SKIP_BUILD" != 1 ]]; then
  log "cargo build --release -p scenergy-queue --bin queue-bench"
  (cd "$ROOT" && timeout 900 cargo build --release -q -p scenergy-queue --bin queue-bench)
fi
[[ -x "$BIN" ]] || { echo "run.sh: $BIN missing (build it, or unset SKIP_BUILD)" >&2; exit 1; }

LOAD_AT_START="$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/')"
log "jobs=$JOBS rate=$RATE latency_secs=$LATENCY_SECS idle_secs=$IDLE_SECS batch=$BATCH; load average: $LOAD_AT_START; results in $OUT_DIR"

# --- the runs, one after the other, FLUSHALL between (private server only) -------------------
"${RCLI[@]}" flushall >/dev/null
log "BullMQ bench"
(cd "$HERE/bullmq" && JOBS="$JOBS" RATE="$RATE" LATENCY_SECS="$LATENCY_SECS" IDLE_SECS="$IDLE_SECS" \
  timeout 240 node bench.mjs >"$OUT_DIR/bullmq.json" 2>"$OUT_DIR/bullmq.log") \
  || { cat "$OUT_DIR/bullmq.log" >&2; exit 1; }
(cd "$HERE/bullmq" && timeout 30 node bench.mjs --idle-rss-only >"$OUT_DIR/bullmq-idle-rss.json" 2>>"$OUT_DIR/bullmq.log")
cat "$OUT_DIR/bullmq.log" >&2

"${RCLI[@]}" flushall >/dev/null
log "queue-bench"
timeout 240 "$BIN" --redis-url "$REDIS_URL" --jobs "$JOBS" --batch "$BATCH" --rate "$RATE" \
  --latency-secs "$LATENCY_SECS" --idle-cycles 1 --idle-wait-secs "$IDLE_SECS" --json \
  >"$OUT_DIR/ours.json" 2>"$OUT_DIR/ours.log" || { cat "$OUT_DIR/ours.log" >&2; exit 1; }
timeout 30 "$BIN" --redis-url "$REDIS_URL" --idle-rss-only --json >"$OUT_DIR/ours-idle-rss.json" 2>>"$OUT_DIR/ours.log"
cat "$OUT_DIR/ours.log" >&2

# --- the table ---------------------------------------------------------------------------------
BULLMQ_VERSION="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bullmq_version"])' "$OUT_DIR/bullmq.json")"
echo
echo "BullMQ $BULLMQ_VERSION (Node $(node --version)) vs scenergy-queue, same run, same private redis-server $(redis-server --version | awk '{print $3}' | sed 's/v=//'), $(nproc) cores, load average at start $LOAD_AT_START, at end $(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/'); jobs=$JOBS, latency at $RATE jobs/s for $LATENCY_SECS s, idle window $IDLE_SECS s."
echo
python3 "$HERE/table.py" "$OUT_DIR/bullmq.json" "$OUT_DIR/ours.json" "$OUT_DIR/bullmq-idle-rss.json" "$OUT_DIR/ours-idle-rss.json"
