#!/usr/bin/env bash
# Starts a throwaway Redis server for the test suite on 127.0.0.1 (no persistence) and prints
# the URL the tests read from TALENTMATCH_TEST_REDIS_URL. Usage: scripts/test-redis.sh start|stop
set -euo pipefail
REDIS_PORT="${REDIS_PORT:-56379}"
PIDFILE="${REDIS_PIDFILE:-/tmp/talentmatch-test-redis.pid}"

ensure_server_binary() {
  if ! command -v redis-server >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
    else
      echo "redis-server not found; install the 'redis-server' package" >&2
      exit 1
    fi
  fi
}

case "${1:-start}" in
  start)
    ensure_server_binary
    if ! { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }; then
      redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
        --daemonize yes --pidfile "$PIDFILE" >/dev/null
      for _ in $(seq 50); do
        redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
        sleep 0.1
      done
    fi
    redis-cli -p "$REDIS_PORT" ping >/dev/null
    echo "redis://127.0.0.1:$REDIS_PORT/0"
    ;;
  stop)
    if [ -f "$PIDFILE" ]; then
      kill "$(cat "$PIDFILE")" 2>/dev/null || true
      rm -f "$PIDFILE"
    fi
    ;;
esac
