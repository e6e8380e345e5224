#!/usr/bin/env bash
# Runs the system end to end with its embedded defaults: redis-server behind the local Upstash
# REST gateway, the three functions in local mode, and a real job and analysis through them.
# No API key means the offline provider. Exits non-zero on any failure.
#
# What exists today (see the README): the functions and the queue. The worker that takes the
# job lands with issue #6, so the job stays `queued` and the run says so.
set -euo pipefail
cd "$(dirname "$0")/../.."

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/scenergy-target}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}

bash infra/local/services.sh
cargo build --locked -q -p upstash-gateway -p scenergy-demo -p scenergy-enqueue -p scenergy-status -p scenergy-analyze
bin="$CARGO_TARGET_DIR/debug"
logs=$(mktemp -d /tmp/scenergy-run.XXXXXX)

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# start NAME PORT ENV...: runs a binary in the background and waits until it answers.
start() {
  local name=$1 port=$2
  shift 2
  env "$@" "$bin/$name" >"$logs/$name.log" 2>&1 &
  pids+=($!)
  local deadline=$((SECONDS + 30))
  until curl -s -o /dev/null "http://127.0.0.1:$port/"; do
    if ! kill -0 "${pids[-1]}" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
      echo "$name did not start; its log:" >&2
      cat "$logs/$name.log" >&2
      exit 1
    fi
    sleep 0.2
  done
}

gateway_port=${GATEWAY_PORT:-8079}
rest_token=${UPSTASH_GATEWAY_TOKEN:-local-dev-token}
start upstash-gateway "$gateway_port" UPSTASH_GATEWAY_LISTEN="127.0.0.1:$gateway_port" \
  UPSTASH_GATEWAY_TOKEN="$rest_token" REDIS_URL="$REDIS_URL"

echo "== 1. Redis over both transports"
UPSTASH_REDIS_REST_URL="http://127.0.0.1:$gateway_port" UPSTASH_REDIS_REST_TOKEN="$rest_token" \
  "$bin/scenergy-demo" roundtrip

# A fresh secret per run: the demo mints its own tokens.
secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
function_env=(-u REDIS_URL AUTH_JWT_SECRET="$secret" HOST=127.0.0.1
  UPSTASH_REDIS_REST_URL="http://127.0.0.1:$gateway_port" UPSTASH_REDIS_REST_TOKEN="$rest_token"
  WAKE_TRANSPORT=none)
start enqueue 8081 "${function_env[@]}" PORT=8081
start status 8082 "${function_env[@]}" PORT=8082
start analyze 8083 "${function_env[@]}" PORT=8083
token=$(AUTH_JWT_SECRET="$secret" "$bin/scenergy-demo" token --client demo-client)

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {'d': d}))" "$1"; }

echo
echo "== 2. POST /api/jobs: 2 products x 2 variants"
reply=$(curl -sf -X POST http://127.0.0.1:8081/api/jobs \
  -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -H "Idempotency-Key: demo-$(date +%s)" \
  -d '{"type":"image_generation","sessionId":"demo-session","productIds":["demo-chair","demo-lamp"],
       "prompt":"A sunlit Scandinavian living room, soft morning light",
       "settings":{"aspectRatio":"4:3","imageQuality":"1k","variantsPerProduct":2},"priority":"normal"}')
echo "$reply"
job_id=$(echo "$reply" | json 'd["jobId"]')

echo
echo "== 3. GET /api/jobs/$job_id"
status=$(curl -sf "http://127.0.0.1:8082/api/jobs/$job_id" -H "Authorization: Bearer $token")
echo "$status"
[ "$(echo "$status" | json 'd["status"]')" = queued ] || { echo "expected the job to be queued" >&2; exit 1; }
echo "(the worker that takes it is issue #6; until then the job stays queued)"

echo
echo "== 4. POST /api/analyze (offline provider: no GOOGLE_AI_STUDIO_API_KEY)"
analysis=$(curl -sf -X POST http://127.0.0.1:8083/api/analyze \
  -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"products":[{"id":"demo-chair","name":"Oak lounge chair","description":"Solid oak frame, wool seat"},
                   {"id":"demo-lamp","name":"Brass floor lamp"}]}')
echo "$analysis" | python3 -m json.tool
[ "$(echo "$analysis" | json 'len(d["results"])')" = 2 ] || { echo "expected 2 analyses" >&2; exit 1; }

echo
echo "== 5. DELETE /api/jobs/$job_id (no worker yet, so the demo job is cancelled, not left queued)"
cancelled=$(curl -sf -X DELETE "http://127.0.0.1:8082/api/jobs/$job_id" -H "Authorization: Bearer $token")
echo "$cancelled"
[ "$(echo "$cancelled" | json 'd["status"]')" = cancelled ] || { echo "expected the job to be cancelled" >&2; exit 1; }

echo
echo "run OK (logs in $logs)"
