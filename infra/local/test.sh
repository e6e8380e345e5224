#!/usr/bin/env bash
# The whole test suite: services, formatting, lints, Rust tests, peer tests, API conformance.
# This is the README's test command, and what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/../.."

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/scenergy-target}
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}
# Query macros build from the committed .sqlx/ data; `sqlx prepare --check` below keeps it honest.
export SQLX_OFFLINE=true

step() {
  printf '\n==> %s\n' "$1" >&2
  local started=$SECONDS
  shift
  "$@"
  printf '<== done in %ss\n' "$((SECONDS - started))" >&2
}

sqlx_prepare_check() {
  command -v sqlx >/dev/null || cargo install sqlx-cli --version 0.9.0 --no-default-features \
    --features postgres,rustls --locked
  # A database of its own with the migrations applied: prepare checks queries against it.
  local url="${DATABASE_URL%/*}/scenergy_sqlx_check"
  DATABASE_URL="$url" sqlx database create
  DATABASE_URL="$url" sqlx migrate run --source migrations
  DATABASE_URL="$url" SQLX_OFFLINE=false cargo sqlx prepare --check --workspace -- --all-targets
}

nextest_or_test() {
  if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --locked --workspace --profile ci
  else
    cargo test --locked --workspace
  fi
}

step "services" bash infra/local/services.sh
step "S3-compatible test server (install)" bash infra/local/s3.sh install
step "rustfmt" cargo fmt --all --check
step "deployment files (cfn-lint, actionlint, hadolint, shellcheck, yamllint, path filters)" bash infra/lint.sh
step "clippy" cargo clippy --locked --workspace --all-targets -- -D warnings
step "release builds: Lambda bootstrap zips (cargo-lambda) and the worker binary" bash infra/aws/build-lambdas.sh
step "sqlx offline data matches the queries" sqlx_prepare_check
step "rust tests (real redis-server, PostgreSQL, S3 server)" nextest_or_test
step "@upstash/redis peer test against the gateway" bash tools/upstash-gateway/peer-test/run.sh
step "Schemathesis against the live functions and openapi.yaml" bash functions/schemathesis.sh
step "JS client: polling, React hook and demo page logic (node --test)" bash clients/js/test.sh
step "Chromium for the browser tests (Debian's package)" bash infra/local/browser.sh
step "queue dashboard in Chromium" bash worker/tests/browser/run.sh
# The README's run command, end to end, with the demo page driven in Chromium while it runs.
# One generation slot, so the progress bar visibly moves through 25/50/75 %.
step "README run command + demo page in Chromium" env WORKER_CONCURRENCY=1 \
  SCENERGY_RUN_AFTER="node --test --test-timeout=180000 clients/js/e2e/demo.test.mjs" \
  timeout 900 bash infra/local/run.sh
printf '\nall checks passed\n' >&2
