#!/usr/bin/env bash
# Runs the system end to end with its embedded defaults, and a real job through it:
#   1. services (redis-server, PostgreSQL) and the database migrations;
#   2. two demo products with reference photos;
#   3. the local Upstash REST gateway, the three functions in local mode, `worker serve`, and
#      the demo page (http://127.0.0.1:8090/);
#   4. a demo token and a 2 products x 2 variants job through POST /api/jobs;
#   5. GET /api/jobs/{id} polled with backoff from 1 s to 5 s, with a progress bar;
#   6. the four asset URLs and the generated_asset rows; then Lane A: POST /api/analyze.
# No GOOGLE_AI_STUDIO_API_KEY means the offline provider; with one, the same run uses Gemini.
# Storage is the local directory LOCAL_STORAGE_DIR (default ./data/storage).
# Exits non-zero on any failure.
#
#   SCENERGY_KEEP_RUNNING=1   leave everything running afterwards (Ctrl-C stops it), to use the page
#   SCENERGY_RUN_AFTER=CMD    run CMD (with DEMO_URL set) against the running system, then exit
#                             with its status (the test command runs the browser test this way)
set -euo pipefail
cd "$(dirname "$0")/../.."

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/scenergy-target}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/scenergy}
export LOCAL_STORAGE_DIR=${LOCAL_STORAGE_DIR:-$PWD/data/storage}
export SQLX_OFFLINE=true

bash infra/local/services.sh
cargo build --locked -q -p upstash-gateway -p scenergy-demo -p scenergy-enqueue -p scenergy-status \
  -p scenergy-analyze -p scenergy-worker
bin="$CARGO_TARGET_DIR/debug"
logs=$(mktemp -d /tmp/scenergy-run.XXXXXX)

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# start NAME PORT CMD...: runs a command in the background and waits until its port answers.
start() {
  local name=$1 port=$2
  shift 2
  "$@" >"$logs/$name.log" 2>&1 &
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
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {'d': d}))" "$1"; }

echo "== 1. Database migrations"
"$bin/worker" migrate 2>"$logs/migrate.log" || { cat "$logs/migrate.log" >&2; exit 1; }
echo "migrated ${DATABASE_URL##*/}"

echo
echo "== 2. Demo products with reference photos"
"$bin/scenergy-demo" seed --client demo-client 2>"$logs/seed.log" || { cat "$logs/seed.log" >&2; exit 1; }

gateway_port=${GATEWAY_PORT:-8079}
worker_port=${WORKER_PORT:-8084}
page_port=${DEMO_PORT:-8090}
rest_token=${UPSTASH_GATEWAY_TOKEN:-local-dev-token}
start upstash-gateway "$gateway_port" env UPSTASH_GATEWAY_LISTEN="127.0.0.1:$gateway_port" \
  UPSTASH_GATEWAY_TOKEN="$rest_token" "$bin/upstash-gateway"

echo
echo "== 3. Redis over both transports"
UPSTASH_REDIS_REST_URL="http://127.0.0.1:$gateway_port" UPSTASH_REDIS_REST_TOKEN="$rest_token" \
  "$bin/scenergy-demo" roundtrip 2>>"$logs/roundtrip.log"

# Fresh secrets per run: the demo mints its own tokens.
secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
worker_token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
function_env=(-u REDIS_URL -u DATABASE_URL AUTH_JWT_SECRET="$secret" HOST=127.0.0.1
  UPSTASH_REDIS_REST_URL="http://127.0.0.1:$gateway_port" UPSTASH_REDIS_REST_TOKEN="$rest_token"
  ALLOWED_ORIGINS="http://127.0.0.1:$page_port"
  WAKE_TRANSPORT=http WORKER_WAKE_URL="http://127.0.0.1:$worker_port/drain" WORKER_TOKEN="$worker_token")
start enqueue 8081 env "${function_env[@]}" PORT=8081 "$bin/enqueue"
start status 8082 env "${function_env[@]}" PORT=8082 "$bin/status"
start analyze 8083 env "${function_env[@]}" PORT=8083 "$bin/analyze"
start worker "$worker_port" env PORT="$worker_port" HOST=127.0.0.1 WORKER_TOKEN="$worker_token" \
  "$bin/worker" serve
token=$(AUTH_JWT_SECRET="$secret" "$bin/scenergy-demo" token --client demo-client 2>/dev/null)
start demo-page "$page_port" node clients/js/demo/serve.mjs --port "$page_port" --token "$token" \
  --products demo-chair,demo-lamp --storage-dir "$LOCAL_STORAGE_DIR"
if [ -n "${GOOGLE_AI_STUDIO_API_KEY:-}" ]; then provider=Gemini; else provider="the offline provider"; fi
echo "gateway :$gateway_port, enqueue :8081, status :8082, analyze :8083, worker :$worker_port ($provider)"
echo "demo page: http://127.0.0.1:$page_port/"

echo
echo "== 4. POST /api/jobs: 2 products x 2 variants"
reply=$(curl -sf -X POST http://127.0.0.1:8081/api/jobs \
  -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -H "Idempotency-Key: demo-$(date +%s%N)" \
  -d '{"type":"image_generation","sessionId":"demo-session","productIds":["demo-chair","demo-lamp"],
       "prompt":"A sunlit Scandinavian living room, soft morning light",
       "settings":{"aspectRatio":"4:3","imageQuality":"1k","variantsPerProduct":2},"priority":"normal"}')
echo "$reply"
job_id=$(echo "$reply" | json 'd["jobId"]')

echo
echo "== 5. GET /api/jobs/$job_id, with backoff from 1 s to 5 s"
delay=1 last="" deadline=$((SECONDS + ${RUN_JOB_TIMEOUT_SECS:-300}))
while :; do
  status=$(curl -sf "http://127.0.0.1:8082/api/jobs/$job_id" -H "Authorization: Bearer $token")
  state=$(echo "$status" | json 'd["status"]')
  percent=$(echo "$status" | json '(d.get("progress") or {}).get("percent", 0)')
  done_items=$(echo "$status" | json '(d.get("progress") or {}).get("completed", 0)')
  total=$(echo "$status" | json '(d.get("progress") or {}).get("total", 4)')
  filled=$((percent / 5))
  bar=$(printf '%*s' "$filled" '' | tr ' ' '#')$(printf '%*s' $((20 - filled)) '' | tr ' ' '-')
  printf '  [%s] %3s%%  %s/%s  %s\n' "$bar" "$percent" "$done_items" "$total" "$state"
  case $state in
    completed) break ;;
    failed | cancelled)
      echo "the job ended $state: $(echo "$status" | json 'd.get("error")')" >&2
      exit 1 ;;
  esac
  [ "$SECONDS" -lt "$deadline" ] || { echo "the job did not finish in time; logs in $logs" >&2; exit 1; }
  # Back off while nothing changes; back to 1 s when progress moves.
  if [ "$state/$percent" != "$last" ]; then delay=1; else delay=$(python3 -c "print(min(5, $delay * 1.5))"); fi
  last="$state/$percent"
  sleep "$delay"
done

echo
echo "== 6. The four images and their generated_asset rows"
echo "$status" | json '"\n".join("  %s variant %s: %s" % (a["productId"], a["variant"], a["url"]) for a in d["result"]["assets"])'
count=$(echo "$status" | json 'len(d["result"]["assets"])')
[ "$count" = 4 ] || { echo "expected 4 assets, got $count" >&2; exit 1; }
"$bin/scenergy-demo" assets --job "$job_id" 2>/dev/null

echo
echo "== 7. POST /api/analyze (Lane A)"
analysis=$(curl -sf -X POST http://127.0.0.1:8083/api/analyze \
  -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"products":[{"id":"demo-chair","name":"Oak lounge chair","description":"Solid oak frame, wool seat"},
                   {"id":"demo-lamp","name":"Brass floor lamp"}]}')
echo "$analysis" | json '"\n".join("  %s: %s, %s (%s)" % (r["id"], r["category"], r["style"], d["provider"]) for r in d["results"])'
[ "$(echo "$analysis" | json 'len(d["results"])')" = 2 ] || { echo "expected 2 analyses" >&2; exit 1; }

echo
echo "run OK (logs in $logs)"
if [ -n "${SCENERGY_RUN_AFTER:-}" ]; then
  echo "== running: $SCENERGY_RUN_AFTER"
  DEMO_URL="http://127.0.0.1:$page_port/" bash -c "$SCENERGY_RUN_AFTER"
elif [ -n "${SCENERGY_KEEP_RUNNING:-}" ]; then
  echo "everything keeps running; open http://127.0.0.1:$page_port/ (Ctrl-C stops it)"
  wait
fi
