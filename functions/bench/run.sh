#!/usr/bin/env bash
# Cold-start benchmark of the three functions (release builds) against a Node.js baseline in
# the same run. Usage: functions/bench/run.sh [RUNS]   (default 30; needs redis-server, node)
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/scenergy-target}
runs=${1:-30}

[ -n "${SKIP_BUILD:-}" ] || cargo build --release --locked -q -p scenergy-enqueue -p scenergy-status -p scenergy-analyze -p upstash-gateway -p scenergy-demo
bin="$CARGO_TARGET_DIR/release"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
rest_token="bench-$RANDOM$RANDOM"
UPSTASH_GATEWAY_LISTEN="127.0.0.1:$port" UPSTASH_GATEWAY_TOKEN="$rest_token" \
  REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}" "$bin/upstash-gateway" >/dev/null 2>&1 &
gateway=$!
trap 'kill "$gateway" 2>/dev/null || true; wait "$gateway" 2>/dev/null || true' EXIT
for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

export AUTH_JWT_SECRET
AUTH_JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
token=$("$bin/scenergy-demo" token --client bench)
timeout 600 python3 functions/bench/coldstart.py "$bin" "http://127.0.0.1:$port" "$rest_token" "$token" "$runs"
