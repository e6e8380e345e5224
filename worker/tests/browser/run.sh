#!/usr/bin/env bash
# The dashboard's browser test: Debian's Chromium (infra/local/browser.sh), playwright-core
# from npm (lockfile without download URLs), then the Rust fixture, which seeds a queue on
# REDIS_URL, serves the dashboard and runs dashboard.test.mjs in Chromium. Needs redis-server
# (infra/local/services.sh). Writes docs/images/dashboard.png and dashboard-job.png.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/scenergy-target}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
CHROMIUM_PATH="$(bash infra/local/browser.sh)"
export CHROMIUM_PATH

if [ ! -d "$here/node_modules/playwright-core" ]; then
  (cd "$here" && timeout 300 npm ci --no-audit --no-fund)
fi
timeout 900 cargo build --locked -p scenergy-worker --example dashboard_fixture
BROWSER_TEST_DIR="$here" timeout 420 "$CARGO_TARGET_DIR/debug/examples/dashboard_fixture"
