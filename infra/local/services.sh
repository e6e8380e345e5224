#!/usr/bin/env bash
# Brings up the services the tests and the local stack need, on a fresh Debian machine as root
# or on one where they already run. Reuses whatever already answers on the default ports;
# installs only what is missing; running it twice changes nothing.
#
#   Redis       127.0.0.1:6379   (REDIS_PORT to change)
#   PostgreSQL  127.0.0.1:5432   (user postgres, password postgres where we set it up)
#   Node.js     for the @upstash/redis peer test
#
# Every service gets a bounded health check; the script fails loudly if one does not come up.
set -euo pipefail

REDIS_PORT=${REDIS_PORT:-6379}
PG_PORT=${PG_PORT:-5432}
STATE_DIR=${SCENERGY_STATE_DIR:-/var/tmp/scenergy}
mkdir -p "$STATE_DIR"

log() { printf '[services] %s\n' "$*" >&2; }

apt_updated=0
apt_install() {
  if [ "$(id -u)" != 0 ]; then
    log "need to install $*, but not running as root; install it and run again"
    exit 1
  fi
  if [ "$apt_updated" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  log "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# wait_for NAME SECONDS COMMAND...: polls COMMAND until it succeeds or the time is up.
wait_for() {
  local name=$1 seconds=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "$name did not become healthy within ${seconds}s"
      return 1
    fi
    sleep 0.2
  done
}

redis_healthy() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

ensure_redis() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null || apt_install redis-server redis-tools
  if redis_healthy; then
    log "redis: reusing the server on 127.0.0.1:$REDIS_PORT"
    return
  fi
  log "redis: starting on 127.0.0.1:$REDIS_PORT"
  mkdir -p "$STATE_DIR/redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir "$STATE_DIR/redis" --logfile "$STATE_DIR/redis/redis.log" --pidfile "$STATE_DIR/redis/redis.pid"
  wait_for redis 30 redis_healthy
  log "redis: healthy"
}

pg_healthy() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; }

ensure_postgres() {
  if command -v pg_isready >/dev/null && pg_healthy; then
    log "postgres: reusing the server on 127.0.0.1:$PG_PORT"
    return
  fi
  local fresh=0
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    apt_install postgresql postgresql-client
    fresh=1
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  log "postgres: starting cluster $version/main"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_for postgres 60 pg_healthy
  if [ "$fresh" = 1 ]; then
    # Only a server we installed ourselves gets its password set; an existing one is left as is.
    su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
  fi
  log "postgres: healthy"
}

ensure_node() {
  if command -v node >/dev/null && command -v npm >/dev/null; then
    return
  fi
  apt_install nodejs npm
}

ensure_tools() {
  command -v curl >/dev/null || apt_install curl ca-certificates
  # Schemathesis and the S3 test server live in a venv.
  python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3 python3-venv python3-pip
}

ensure_tools
ensure_redis
ensure_postgres
ensure_node
log "all services healthy"
