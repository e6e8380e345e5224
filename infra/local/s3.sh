#!/usr/bin/env bash
# A real S3-compatible server for tests and the local stack: s3s-fs, installed with cargo install (serves a
# directory over the S3 API), or moto's server mode from PyPI where s3s-fs cannot be built.
#
#   infra/local/s3.sh install        install if missing (idempotent; reuses an install)
#   infra/local/s3.sh start [PORT]   install if needed, start on 127.0.0.1:PORT (default: a free
#                                    port), wait until healthy, print S3_TEST_ENDPOINT=...
#   infra/local/s3.sh stop           stop the server this script started
#
# The Rust tests (shared/storage/tests/s3.rs) spawn their own server from the same install, so
# `install` is all they need; `start` is for running against one long-lived server
# (export the printed S3_TEST_ENDPOINT) and for the local stack.
set -euo pipefail

S3S_FS_VERSION=0.14.1 # 0.17 needs rustc 1.96
VENV=${SCENERGY_VENV:-$HOME/.cache/scenergy-venv}
STATE_DIR=${SCENERGY_STATE_DIR:-/var/tmp/scenergy}/s3
ACCESS_KEY=${S3_TEST_ACCESS_KEY:-scenergy-test}
SECRET_KEY=${S3_TEST_SECRET_KEY:-scenergy-test-secret}
CARGO_BIN=${CARGO_HOME:-$HOME/.cargo}/bin

log() { printf '[s3] %s\n' "$*" >&2; }

s3s_fs_bin() {
  if [ -x "$CARGO_BIN/s3s-fs" ]; then echo "$CARGO_BIN/s3s-fs"; else command -v s3s-fs || true; fi
}
moto_bin() {
  if [ -x "$VENV/bin/moto_server" ]; then echo "$VENV/bin/moto_server"; else command -v moto_server || true; fi
}

install() {
  if [ -n "$(s3s_fs_bin)" ]; then
    log "s3s-fs already installed: $(s3s_fs_bin)"
    return
  fi
  log "installing s3s-fs $S3S_FS_VERSION with cargo install (several minutes)"
  if cargo install s3s-fs --version "$S3S_FS_VERSION" --features binary --locked >&2; then
    return
  fi
  log "s3s-fs did not build; falling back to moto's server mode"
  if [ -z "$(moto_bin)" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet 'moto[server]'
  fi
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 20000))
    if port_free "$port"; then echo "$port"; return; fi
  done
  log "no free port found"
  exit 1
}

start() {
  install
  local port=${1:-${S3_PORT:-$(free_port)}}
  if ! port_free "$port"; then
    log "port $port is already in use"
    exit 1
  fi
  mkdir -p "$STATE_DIR/data"
  local bin
  bin=$(s3s_fs_bin)
  if [ -n "$bin" ]; then
    nohup "$bin" --host 127.0.0.1 --port "$port" --access-key "$ACCESS_KEY" \
      --secret-key "$SECRET_KEY" "$STATE_DIR/data" >"$STATE_DIR/server.log" 2>&1 &
  else
    nohup "$(moto_bin)" -H 127.0.0.1 -p "$port" >"$STATE_DIR/server.log" 2>&1 &
  fi
  echo $! >"$STATE_DIR/server.pid"
  # Healthy once it answers HTTP at all (an unsigned request gets a 403, which is fine).
  local deadline=$((SECONDS + 30))
  until curl -s -o /dev/null "http://127.0.0.1:$port/"; do
    if [ "$SECONDS" -ge "$deadline" ] || ! kill -0 "$(cat "$STATE_DIR/server.pid")" 2>/dev/null; then
      log "S3 server did not become healthy within 30s; see $STATE_DIR/server.log"
      exit 1
    fi
    sleep 0.2
  done
  log "S3 server healthy on 127.0.0.1:$port (pid $(cat "$STATE_DIR/server.pid"))"
  echo "S3_TEST_ENDPOINT=http://127.0.0.1:$port"
}

stop() {
  if [ -f "$STATE_DIR/server.pid" ]; then
    kill "$(cat "$STATE_DIR/server.pid")" 2>/dev/null || true
    rm -f "$STATE_DIR/server.pid"
    log "stopped"
  fi
}

case "${1:-start}" in
  install) install ;;
  start) start "${2:-}" ;;
  stop) stop ;;
  *) log "usage: $0 [install|start [PORT]|stop]"; exit 2 ;;
esac
