#!/usr/bin/env bash
# Tests of the JS client (clients/js): installs the devDependencies from the committed lockfile
# (`npm ci`, bounded) and runs the Node tests (node --test: the polling client, the React hook,
# the demo's static server). Exits non-zero on any failure. Works from any cwd.
#
# Env: JS_CLIENT_INSTALL_TIMEOUT (seconds, default 300) and JS_CLIENT_TEST_TIMEOUT (default 180).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

install_timeout="${JS_CLIENT_INSTALL_TIMEOUT:-300}"
test_timeout="${JS_CLIENT_TEST_TIMEOUT:-180}"

command -v node >/dev/null || { echo "clients/js: node is not installed" >&2; exit 1; }
major="$(node -p 'process.versions.node.split(".")[0]')"
if [[ "$major" -lt 20 ]]; then
  echo "clients/js: Node.js >= 20 is needed (found $(node --version))" >&2
  exit 1
fi

timeout "$install_timeout" npm ci --no-audit --no-fund --loglevel=error

# Each test also has its own timeout; the whole run is bounded here.
timeout "$test_timeout" node --test --test-timeout=30000 test/*.test.mjs
