#!/usr/bin/env bash
# Runs the official @upstash/redis client (peer.test.mjs) against a freshly built upstash-gateway.
# Works from any cwd. Env: REDIS_URL (default redis://127.0.0.1:6379), CARGO_TARGET_DIR
# (default $HOME/.cache/scenergy-target), PEER_TEST_TIMEOUT seconds for npm test (default 120).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
workspace="$(cd "$here/../../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/scenergy-target}"
redis_url="${REDIS_URL:-redis://127.0.0.1:6379}"
test_timeout="${PEER_TEST_TIMEOUT:-120}"

cd "$here"
if [[ -f package-lock.json ]]; then
  timeout 300 npm ci --no-audit --no-fund
else
  timeout 300 npm install --no-audit --no-fund
fi

(cd "$workspace" && cargo build -p upstash-gateway)
bin="$CARGO_TARGET_DIR/debug/upstash-gateway"

port="$(node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')"
token="peer-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
log="$(mktemp -t upstash-gateway-peer.XXXXXX.log)"

gateway_pid=""
cleanup() {
  if [[ -n "$gateway_pid" ]] && kill -0 "$gateway_pid" 2>/dev/null; then
    kill -TERM "$gateway_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$gateway_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$gateway_pid" 2>/dev/null || true
  fi
  rm -f "$log"
}
trap cleanup EXIT INT TERM

UPSTASH_GATEWAY_TOKEN="$token" REDIS_URL="$redis_url" \
  "$bin" --listen "127.0.0.1:$port" >"$log" 2>&1 &
gateway_pid=$!

base="http://127.0.0.1:$port"
ready=""
for _ in $(seq 1 300); do
  if ! kill -0 "$gateway_pid" 2>/dev/null; then
    echo "upstash-gateway exited early:" >&2
    cat "$log" >&2
    exit 1
  fi
  if curl -fsS --max-time 1 -H "Authorization: Bearer $token" -X POST -d '["PING"]' "$base/" >/dev/null 2>&1; then
    ready=1
    break
  fi
  sleep 0.1
done
if [[ -z "$ready" ]]; then
  echo "upstash-gateway did not answer within 30 s:" >&2
  cat "$log" >&2
  exit 1
fi

status=0
UPSTASH_REDIS_REST_URL="$base" UPSTASH_REDIS_REST_TOKEN="$token" \
  PEER_TEST_PREFIX="ugw-peer-$$-$RANDOM" UPSTASH_DISABLE_TELEMETRY=1 \
  timeout "$test_timeout" npm test || status=$?
if [[ $status -ne 0 ]]; then
  echo "peer test failed (exit $status); gateway log:" >&2
  cat "$log" >&2
fi
exit "$status"
