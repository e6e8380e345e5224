#!/usr/bin/env bash
# The whole test suite: services, formatting, lints, Rust tests, peer tests, API conformance.
# This is the README's test command, and what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/../.."

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/scenergy-target}
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}

step() {
  printf '\n==> %s\n' "$1" >&2
  local started=$SECONDS
  shift
  "$@"
  printf '<== done in %ss\n' "$((SECONDS - started))" >&2
}

nextest_or_test() {
  if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --locked --workspace --profile ci
  else
    cargo test --locked --workspace
  fi
}

step "services" bash infra/local/services.sh
step "rustfmt" cargo fmt --all --check
step "clippy" cargo clippy --locked --workspace --all-targets -- -D warnings
step "rust tests (real redis-server)" nextest_or_test
step "@upstash/redis peer test against the gateway" bash tools/upstash-gateway/peer-test/run.sh
step "Schemathesis against the live functions and openapi.yaml" bash functions/schemathesis.sh
printf '\nall checks passed\n' >&2
