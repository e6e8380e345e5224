#!/usr/bin/env bash
# Checks the LIVE enqueue, status and analyze functions against openapi.yaml with Schemathesis.
#
# Starts the local Upstash REST gateway in front of redis-server (REDIS_URL, default
# redis://127.0.0.1:6379), then the enqueue, status and analyze binaries in local HTTP mode on
# free ports with a random queue, mints a bearer token and runs `schemathesis run` with every
# check against each function's own paths (each Lambda serves only its paths). analyze runs
# offline (no GOOGLE_AI_STUDIO_API_KEY*) with limits high enough that fuzzing never meets its
# 503. Exits non-zero on any 5xx or non-conformance. Bounded by MAX_SECONDS (whole script).
#
# Usage: functions/schemathesis.sh            (from anywhere; needs python3, cargo, redis-server)
#   MAX_EXAMPLES=30 MAX_SECONDS=300 SEED=1 functions/schemathesis.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/scenergy-target}"
VENV="${SCHEMATHESIS_VENV:-$HOME/.cache/scenergy-venv}"
MAX_EXAMPLES="${MAX_EXAMPLES:-30}"
MAX_SECONDS="${MAX_SECONDS:-300}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
DEADLINE=$((SECONDS + MAX_SECONDS))
SEED_ARGS=()
if [[ -n "${SEED:-}" ]]; then SEED_ARGS=(--seed "$SEED"); fi

if [[ ! -x "$VENV/bin/schemathesis" ]]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet schemathesis
fi

cd "$ROOT"
cargo build --quiet -p scenergy-enqueue -p scenergy-status -p scenergy-analyze
BIN="$CARGO_TARGET_DIR/debug"
# The gateway is a dev tool of another crate; build it only if nobody has yet.
[[ -x "$BIN/upstash-gateway" ]] || cargo build --quiet -p upstash-gateway

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 100); do
    if (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "nothing listens on port $1" >&2
  return 1
}

LOGS="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

GW_PORT="$(free_port)"
REST_TOKEN="schemathesis-rest-$RANDOM$RANDOM"
UPSTASH_GATEWAY_LISTEN="127.0.0.1:$GW_PORT" UPSTASH_GATEWAY_TOKEN="$REST_TOKEN" \
  REDIS_URL="$REDIS_URL" "$BIN/upstash-gateway" >"$LOGS/gateway.log" 2>&1 &
PIDS+=($!)
wait_port "$GW_PORT"

SECRET="schemathesis-secret-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
QUEUE="st-$(python3 -c 'import secrets; print(secrets.token_hex(6))')"
# analyze must answer offline: no Gemini key of the caller's environment may reach it.
UNSET=(-u REDIS_URL)
for var in $(compgen -e); do
  if [[ "$var" == GOOGLE_AI_STUDIO_API_KEY* ]]; then UNSET+=(-u "$var"); fi
done
start() { # name port
  env "${UNSET[@]}" PORT="$2" HOST=127.0.0.1 QUEUE_NAME="$QUEUE" AUTH_JWT_SECRET="$SECRET" \
    UPSTASH_REDIS_REST_URL="http://127.0.0.1:$GW_PORT" UPSTASH_REDIS_REST_TOKEN="$REST_TOKEN" \
    ENQUEUE_RATE_LIMIT_PER_MINUTE=1000000 WAKE_TRANSPORT=none \
    AI_RATE_LIMIT_TEXT=1000000 AI_RATE_LIMIT_VISION=1000000 \
    "$BIN/$1" >"$LOGS/$1.log" 2>&1 &
  PIDS+=($!)
  wait_port "$2"
}
ENQ_PORT="$(free_port)"; start enqueue "$ENQ_PORT"
STA_PORT="$(free_port)"; start status "$STA_PORT"
ANA_PORT="$(free_port)"; start analyze "$ANA_PORT"

# HS256 with the standard library only (sub = clientId, exp in one hour).
TOKEN="$(SECRET="$SECRET" python3 - <<'PY'
import base64, hashlib, hmac, json, os, time
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
body = b64(json.dumps({"sub": "schemathesis", "exp": int(time.time()) + 3600}).encode())
sig = hmac.new(os.environ["SECRET"].encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
print(f"{head}.{body}.{b64(sig)}")
PY
)"

run() { # config-file base-url filters...
  local config="$1" url="$2" left=$((DEADLINE - SECONDS)); shift 2
  if ((left <= 0)); then
    echo "MAX_SECONDS=$MAX_SECONDS used up before this run" >&2
    return 1
  fi
  timeout "$left" "$VENV/bin/schemathesis" --config-file "$config" \
    run "$ROOT/openapi.yaml" \
    --url "$url" --checks all --max-examples "$MAX_EXAMPLES" --workers 1 \
    --header "Authorization: Bearer $TOKEN" "${SEED_ARGS[@]}" "$@"
}

# Random ids only ever reach the 404 path, so a second status run pins `id` to real jobs of
# the token's client: one to read, one to cancel (repeat cancels answer 200 with its status).
new_job() {
  python3 - "http://127.0.0.1:$ENQ_PORT/api/jobs" "$TOKEN" <<'PY'
import json, sys, urllib.request
body = {"type": "image_generation", "sessionId": "st", "productIds": ["p1"], "prompt": "x",
        "settings": {"aspectRatio": "1:1"}}
req = urllib.request.Request(sys.argv[1], data=json.dumps(body).encode(), method="POST",
                             headers={"Authorization": f"Bearer {sys.argv[2]}",
                                      "Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(req))["jobId"])
PY
}
EMPTY_CONFIG="$LOGS/empty.toml"
: >"$EMPTY_CONFIG"
PINNED_CONFIG="$LOGS/pinned.toml"
cat >"$PINNED_CONFIG" <<TOML
[[operations]]
include-operation-id = "getJobStatus"
parameters = { "path.id" = "$(new_job)" }

[[operations]]
include-operation-id = "cancelJob"
parameters = { "path.id" = "$(new_job)" }
TOML

status=0
echo "== enqueue (POST /api/jobs) on :$ENQ_PORT"
run "$EMPTY_CONFIG" "http://127.0.0.1:$ENQ_PORT" --include-operation-id enqueueJob || status=1
echo "== status (GET/DELETE /api/jobs/{id}), generated ids, on :$STA_PORT"
run "$EMPTY_CONFIG" "http://127.0.0.1:$STA_PORT" --include-path '/api/jobs/{id}' || status=1
echo "== status (GET/DELETE /api/jobs/{id}), real jobs, on :$STA_PORT"
run "$PINNED_CONFIG" "http://127.0.0.1:$STA_PORT" --include-path '/api/jobs/{id}' || status=1
# Product ids must be unique within a request (400 otherwise), which JSON Schema cannot say
# (`uniqueItems` compares whole products), so positive cases that repeat an id are dropped.
# Negative cases are kept: a repeated id only adds another reason to refuse them.
ANALYZE_HOOKS="$LOGS/analyze_hooks.py"
cat >"$ANALYZE_HOOKS" <<'PY'
import schemathesis


@schemathesis.hook
def filter_case(context, case):
    if context.operation is None or context.operation.path != "/api/analyze":
        return True
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return True
    products = case.body.get("products") if isinstance(case.body, dict) else None
    if not isinstance(products, list):
        return True
    ids = [p["id"] for p in products if isinstance(p, dict) and isinstance(p.get("id"), str)]
    return len(ids) == len(set(ids))
PY
echo "== analyze (POST /api/analyze), offline, on :$ANA_PORT"
SCHEMATHESIS_HOOKS="$ANALYZE_HOOKS" \
  run "$EMPTY_CONFIG" "http://127.0.0.1:$ANA_PORT" --include-operation-id analyzeProducts || status=1

FUNCTION_LOGS=("$LOGS"/enqueue.log "$LOGS"/status.log "$LOGS"/analyze.log)
if grep -q '"level":"ERROR"' "${FUNCTION_LOGS[@]}"; then
  echo "the functions logged errors (a 5xx path was taken):" >&2
  grep -h '"level":"ERROR"' "${FUNCTION_LOGS[@]}" | head -20 >&2
  status=1
fi
exit "$status"
