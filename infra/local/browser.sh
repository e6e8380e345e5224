#!/usr/bin/env bash
# Debian's Chromium for the browser tests (the demo page, the dashboard), installed once from
# Debian's packages: a test tool's own browser download cannot be used on these machines.
# Prints the browser's path. Idempotent.
set -euo pipefail

if [ ! -x /usr/bin/chromium ]; then
  echo "[browser] installing chromium and chromium-driver from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 apt-get update -qq >&2
  timeout 900 apt-get install -y -qq --no-install-recommends chromium chromium-driver >&2
fi
timeout 30 /usr/bin/chromium --headless --no-sandbox --disable-gpu --version >&2
echo /usr/bin/chromium
