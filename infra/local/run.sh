#!/usr/bin/env bash
# Runs the system end to end with its embedded defaults. At this stage: Redis behind the local
# Upstash REST gateway, and a round trip through both transports (tools/demo).
set -euo pipefail
cd "$(dirname "$0")/../.."

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/scenergy-target}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}

bash infra/local/services.sh
cargo build --locked -q -p upstash-gateway -p scenergy-demo
bin="$CARGO_TARGET_DIR/debug"

port=${GATEWAY_PORT:-8079}
token=${UPSTASH_GATEWAY_TOKEN:-local-dev-token}
"$bin/upstash-gateway" --listen "127.0.0.1:$port" --redis-url "$REDIS_URL" --token "$token" \
  >/tmp/scenergy-gateway.log 2>&1 &
gateway=$!
trap 'kill "$gateway" 2>/dev/null || true; wait "$gateway" 2>/dev/null || true' EXIT

deadline=$((SECONDS + 30))
until curl -s -o /dev/null -H "Authorization: Bearer $token" -X POST -d '["PING"]' "http://127.0.0.1:$port/"; do
  if ! kill -0 "$gateway" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
    echo "the gateway did not start; its log:" >&2
    cat /tmp/scenergy-gateway.log >&2
    exit 1
  fi
  sleep 0.2
done

UPSTASH_REDIS_REST_URL="http://127.0.0.1:$port" UPSTASH_REDIS_REST_TOKEN="$token" \
  "$bin/scenergy-demo" roundtrip
